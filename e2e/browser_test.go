package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumHint is how to get the browser the test drives.
const chromiumHint = "install Chromium: apt-get install -y chromium"

// findChromium returns the Chromium binary: $CHROMIUM_PATH when set, else chromium
// (Debian) or chromium-browser on PATH. A missing browser fails the test.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROMIUM_PATH=%s: %v; %s", p, err, chromiumHint)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found on PATH: " + chromiumHint)
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns a tab's
// context; the browser stops when ctx ends or the test ends.
func newBrowser(ctx context.Context, t *testing.T, exe string) context.Context {
	t.Helper()
	// A fresh profile, removed after the browser (whose helper processes may still
	// write to it for a moment after it exits) is gone.
	profile, err := os.MkdirTemp("", "tierflow-e2e-chromium-")
	if err != nil {
		t.Fatalf("create a Chromium profile directory: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1440, 1200),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(quietErrorf(t)))
	// Start the browser now, so that a broken install fails here with its reason.
	stop := func() {
		_ = chromedp.Cancel(tabCtx) // closes the browser gracefully and waits for it
		cancelTab()
		cancelAlloc()
		removeProfile(t, profile)
	}
	if err := chromedp.Run(tabCtx); err != nil {
		stop()
		t.Fatalf("start Chromium (%s): %v; %s", exe, err, chromiumHint)
	}
	t.Cleanup(stop)
	return tabCtx
}

// removeProfile deletes the browser profile, retrying while late writes land.
func removeProfile(t *testing.T, dir string) {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("remove the Chromium profile %s: %v", dir, err)
}

// quietErrorf logs chromedp's errors except the protocol events this Chromium sends
// with enum values newer than cdproto knows (harmless: those events are unused).
func quietErrorf(t *testing.T) func(string, ...any) {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if strings.Contains(msg, "could not unmarshal event") {
			return
		}
		t.Logf("chromedp: %s", msg)
	}
}

// answerSurveyInBrowser opens the survey link, answers as the customer would
// (score, resolved, comment), submits, and returns the text of the page it lands on.
func answerSurveyInBrowser(ctx context.Context, link string, score int, resolvedYes bool, comment string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	resolved := "no"
	if resolvedYes {
		resolved = "yes"
	}
	var formText, after string
	err := chromedp.Run(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(`form button[type="submit"]`, chromedp.ByQuery),
		chromedp.Text(`body`, &formText, chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`input[name="score"][value="%d"]`, score), chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`input[name="resolved"][value="%s"]`, resolved), chromedp.ByQuery),
		chromedp.SendKeys(`#comment`, comment, chromedp.ByQuery),
		chromedp.Click(`form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[contains(., "Thank you")]`, chromedp.BySearch),
		chromedp.Text(`body`, &after, chromedp.ByQuery),
	)
	if err != nil {
		return "", fmt.Errorf("answer the survey at %s (form said %q): %w", link, clip(formText, 300), err)
	}
	return after, nil
}

// pageText is the rendered text of the whole page, with that of its same-origin
// iframes (the Temporal UI renders the markdown of summaries and details in them).
func pageText(ctx context.Context) (string, error) {
	var text string
	err := chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		let text = document.body ? document.body.innerText : "";
		for (const f of document.querySelectorAll("iframe")) {
			try { text += "\n" + f.contentDocument.body.innerText; } catch (e) { /* cross-origin or not loaded */ }
		}
		return text;
	})()`, &text))
	return text, err
}

// waitForText polls the page's text until it contains every one of want (compared
// case-insensitively) or ctx ends; it returns the last text and what was missing.
func waitForText(ctx context.Context, want []string) (string, []string, error) {
	for {
		text, err := pageText(ctx)
		missing := missingIn(text, want)
		if err == nil && len(missing) == 0 {
			return text, nil, nil
		}
		select {
		case <-ctx.Done():
			return text, missing, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func missingIn(text string, want []string) []string {
	lower := strings.ToLower(text)
	var missing []string
	for _, w := range want {
		if !strings.Contains(lower, strings.ToLower(w)) {
			missing = append(missing, w)
		}
	}
	return missing
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// signInToCodec signs an operator in to the API's codec endpoint the way a person
// does in the browser: the sign-in page, the token, submit; the form then returns
// to returnURL (a Temporal UI page), which is where the browser is afterwards.
func signInToCodec(ctx context.Context, codecURL, token, returnURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	login := codecURL + "/login?return=" + url.QueryEscape(returnURL)
	err := chromedp.Run(ctx,
		chromedp.Navigate(login),
		chromedp.WaitVisible(`#token`, chromedp.ByQuery),
		chromedp.SendKeys(`#token`, token, chromedp.ByQuery),
		chromedp.Submit(`#token`, chromedp.ByQuery),
	)
	if err != nil {
		return fmt.Errorf("sign in at %s: %w", login, err)
	}
	// The form posts, then the answer redirects: the page changes twice.
	var location, text string
	for ctx.Err() == nil {
		if chromedp.Run(ctx, chromedp.Location(&location)) == nil && strings.HasPrefix(location, returnURL) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	last, cancelLast := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancelLast()
	_ = chromedp.Run(last, chromedp.Text(`body`, &text, chromedp.ByQuery))
	return fmt.Errorf("sign in at %s: the browser stayed at %q showing %q", login, location, clip(text, 500))
}
