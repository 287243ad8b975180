package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
)

// attentionQuery is the operators' list of cases that need attention.
const attentionQuery = "CaseTier >= 3 AND SlaBreached = true"

// visibilityQuery: Temporal's visibility finds the case by its search attributes
// (eventually consistent, so it is polled).
func (f *flow) visibilityQuery(t *testing.T) {
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	wid := f.view.Workflow.ID
	poll(ctx, t, "the case in `"+attentionQuery+"`", 500*time.Millisecond, func() (bool, string) {
		resp, err := f.stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: attentionQuery})
		if err != nil {
			return false, err.Error()
		}
		var ids []string
		for _, e := range resp.GetExecutions() {
			if e.GetExecution().GetWorkflowId() == wid {
				return true, ""
			}
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		return false, fmt.Sprintf("found %v", ids)
	})
}

// temporalUI: the case's page in the Temporal Web UI shows, under "User Metadata",
// the static summary (CRM id, subject) and the current details (tier, status), and
// under "Search Attributes" the case's attributes; full-page screenshots of both
// tabs are kept under <repo>/testartifacts/. Payloads (user metadata included) are
// encrypted, so an operator signs in to the API's codec endpoint first; the UI
// decodes them through it.
func (f *flow) temporalUI(t *testing.T) {
	wid := f.view.Workflow.ID
	pageURL := f.stack.UIURL + "/namespaces/default/workflows/" + url.PathEscape(wid)
	browser := newBrowser(f.ctx, t, f.chrome)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	require.NoError(t, signInToCodec(ctx, f.stack.CodecURL, tokSupervisor, pageURL))
	f.uiTab(ctx, t, pageURL, "", []string{wid, "CaseWorkflow", "tierflow-cases", "History"})

	// Static summary "zendesk #<id> · high · <subject>", details, the current
	// details "Tier 4 executive · billing · status closed ...", and the timer and
	// activity summaries of the history.
	metadata := f.uiTab(ctx, t, pageURL, "user-metadata-tab", []string{
		"zendesk #" + f.open.ExternalID, f.open.Subject, "Customer reference: " + f.open.Customer.ID,
		"Tier 4 executive", "status closed", "survey answered",
		"tier 3 acknowledge deadline", "email customer: escalated to billing (tier 2)",
	})
	assert.NotContains(t, metadata, f.open.Customer.Email, "no personal data in the workflow's metadata")
	t.Logf("Temporal UI screenshot (user metadata): %s", f.screenshot(ctx, t, "user-metadata"))

	attrs := f.uiTab(ctx, t, pageURL, "search-attributes-tab", []string{
		`"CaseTier": 4`, `"SlaBreached": true`, `"CaseStatus": "closed"`, `"CaseDepartment": "billing"`,
		`"CasePriority": "high"`, `"CaseSource": "zendesk"`,
	})
	assert.NotContains(t, attrs, f.open.Customer.Email, "no personal data in search attributes")
	t.Logf("Temporal UI screenshot (search attributes): %s", f.screenshot(ctx, t, "search-attributes"))
}

// uiTab clicks the workflow page's tab with data-testid tab (none when empty) and
// waits until the page shows every one of want; it returns the page's text.
func (f *flow) uiTab(ctx context.Context, t *testing.T, pageURL, tab string, want []string) string {
	t.Helper()
	if tab != "" {
		sel := `a[data-testid="` + tab + `"]`
		require.NoError(t, chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery)),
			"click the %s of %s", tab, pageURL)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	text, missing, err := waitForText(waitCtx, want)
	require.NoError(t, err, "the workflow page %s (tab %q) lacks %v; it shows:\n%s", pageURL, tab, missing, clip(text, 4000))
	return text
}

// screenshot saves a full-page PNG of the current page under <repo>/testartifacts/.
func (f *flow) screenshot(ctx context.Context, t *testing.T, view string) string {
	t.Helper()
	dir := filepath.Join(f.stack.Root, "testartifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.Sleep(500*time.Millisecond), chromedp.FullScreenshot(&png, 100)))
	require.NotEmpty(t, png)
	name := "e2e-temporal-ui-" + view + ".png" // overwritten by every run
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	return path
}
