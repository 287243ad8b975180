package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
	harness "github.com/tierflow/tierflow/internal/stack"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/workflows"
)

// This test's own API tokens for the codec endpoint: an operator and a viewer.
const (
	tokCodecOperator = "e2e-codec-operator-token"
	tokCodecViewer   = "e2e-codec-viewer-token"
)

// codecTokens is TIERFLOW_TOKENS with the test's own codec principals.
func codecTokens(t *testing.T) string {
	hash := func(token string) string { h := sha256.Sum256([]byte(token)); return hex.EncodeToString(h[:]) }
	b, err := json.Marshal([]map[string]any{
		{"token_sha256": hash(tokCodecOperator), "id": "e2e-codec-operator", "name": "E2E operator", "role": "supervisor"},
		{"token_sha256": hash(tokCodecViewer), "id": "e2e-codec-viewer", "name": "E2E viewer", "role": "viewer"},
	})
	require.NoError(t, err)
	return string(b)
}

// TestSecurityCodecRawHistoryHoldsNoCustomerData opens a case through the API on
// the real stack and drives it until an email goes to the customer, then reads
// what Temporal stores (a client without the codec, and `temporal workflow show`
// without a codec endpoint): no customer name, email, description, subject or
// message anywhere in the history, the memo, the user metadata, the search
// attributes. Before the codec every one of them was there in clear. The operator
// reads them through the codec endpoint (CLI and UI); a viewer cannot.
func TestSecurityCodecRawHistoryHoldsNoCustomerData(t *testing.T) {
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := startCodecStack(t)
	a := newAPI(s.APIURL)

	nonce := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)
	open := tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: "SEC-" + nonce,
		Customer: tierflow.Customer{ID: "C-" + nonce, Name: "Grace Hopper " + nonce, Email: "grace." + nonce + "@example.com", Locale: "en"},
		Subject:  "Invoice " + nonce + " charged twice", Description: "Bank statement " + nonce + " shows two debits.",
		Category: "billing", Priority: tierflow.PriorityHigh, Channel: "phone", Trigger: tierflow.TriggerUnresolved,
		OpenedAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second), Policy: "fast",
		FrontlineSummary: "Customer says " + nonce + " twice.",
	}
	reply := "You can call me on +44 " + nonce
	secrets := []string{open.Customer.Name, open.Customer.Email, open.Description, open.Subject, open.FrontlineSummary, reply}

	v := a.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases", open).expect(t, http.StatusCreated, "open").caseView(t)
	a.mustDecide(ctx, t, tokAgent, v.ID, map[string]any{"action": "acknowledge", "decision_id": "sec-ack"})
	a.mustDecide(ctx, t, tokAgent, v.ID, map[string]any{"action": "escalate", "mode": "functional", "department": "billing",
		"decision_id": "sec-esc", "reason": "refund", "summary": "Billing must refund the second debit."})
	a.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases/"+v.ID+"/customer-events",
		map[string]any{"kind": "reply", "message": reply, "event_id": "sec-reply"}).expect(t, http.StatusAccepted, "customer reply")
	f := &flow{ctx: ctx, stack: &stack{Stack: s}, caseID: v.ID}
	f.waitForMail(t, tierflow.MsgEscalated, 30*time.Second) // the NotifyCustomer activity ran with the customer's address
	wid := v.Workflow.ID

	t.Run("raw_history_and_description", func(t *testing.T) {
		stored := rawWorkflowBytes(ctx, t, s.RawTemporal, wid)
		for _, secret := range secrets {
			assert.False(t, bytes.Contains(stored, []byte(secret)), "Temporal stores %q in clear", secret)
		}
		// The scan looks where the data is: decoded with the keys, the input holds it.
		start := firstEvent(ctx, t, s.RawTemporal, wid).GetWorkflowExecutionStartedEventAttributes()
		require.True(t, codec.IsEncrypted(start.GetInput().GetPayloads()[0]), "the workflow input is sealed")
		var in workflows.CaseInput
		require.NoError(t, codec.DataConverter(s.Codec).FromPayloads(start.GetInput(), &in))
		assert.Equal(t, open.Customer.Email, in.Request.Customer.Email)
		var summary string
		require.NoError(t, codec.DataConverter(s.Codec).FromPayload(firstEvent(ctx, t, s.RawTemporal, wid).GetUserMetadata().GetSummary(), &summary))
		t.Logf("static summary: stored sealed (%d bytes, key %s); decoded: %q", len(firstEvent(ctx, t, s.RawTemporal, wid).GetUserMetadata().GetSummary().GetData()),
			firstEvent(ctx, t, s.RawTemporal, wid).GetUserMetadata().GetSummary().GetMetadata()[codec.MetadataKeyID], summary)
	})

	t.Run("temporal_cli", func(t *testing.T) {
		show := func(extra ...string) (string, error) {
			cli, err := temporaldev.FindCLI()
			require.NoError(t, err)
			args := append([]string{"workflow", "show", "--workflow-id", wid, "--address", s.Server.HostPort(),
				"--namespace", temporaldev.DefaultNamespace, "--output", "json"}, extra...)
			cmd := exec.CommandContext(ctx, cli, args...)
			cmd.Env = append(os.Environ(), "TEMPORAL_CONFIG_FILE="+filepath.Join(t.TempDir(), "none.toml"))
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := show()
		require.NoError(t, err, out)
		raw := cliText(t, out)
		require.Contains(t, raw, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "the CLI printed the history")
		require.Contains(t, raw, `"billing"`, "payload data is read (a search attribute's, in clear by design)")
		for _, secret := range secrets {
			assert.NotContains(t, raw, secret, "`temporal workflow show` without the codec")
		}
		out, err = show("--codec-endpoint", s.CodecURL, "--codec-auth", "Bearer "+tokCodecOperator)
		require.NoError(t, err, out)
		decoded := cliText(t, out)
		assert.Contains(t, decoded, open.Customer.Email, "an operator reads it through the codec endpoint")
		assert.Contains(t, decoded, reply)
		out, err = show("--codec-endpoint", s.CodecURL, "--codec-auth", "Bearer "+tokCodecViewer)
		assert.Error(t, err, "a viewer's token is refused")
		assert.NotContains(t, out, open.Customer.Email)
		assert.Regexp(t, `"route":"POST /codec/decode","status":403,[^\n]*"principal_id":"e2e-codec-viewer"`, s.API.Tail(2000),
			"the API refused the viewer's codec calls")
	})

	t.Run("encrypted_history_replays_with_the_keys_only", func(t *testing.T) {
		hist := rawHistory(ctx, t, s.RawTemporal, wid)
		replay := func(opts worker.WorkflowReplayerOptions) error {
			r, err := worker.NewWorkflowReplayerWithOptions(opts)
			require.NoError(t, err)
			r.RegisterWorkflowWithOptions(workflows.CaseWorkflow, workflow.RegisterOptions{Name: workflows.WorkflowName})
			return r.ReplayWorkflowHistory(nil, hist)
		}
		assert.NoError(t, replay(worker.WorkflowReplayerOptions{
			DataConverter: codec.DataConverter(s.Codec), FailureConverter: codec.FailureConverter(s.Codec)}))
		assert.Error(t, replay(worker.WorkflowReplayerOptions{DataConverter: converter.GetDefaultDataConverter()}),
			"without the keys a worker cannot read the history")
	})

	t.Run("temporal_ui_decodes_for_a_signed_in_operator", func(t *testing.T) {
		pageURL := s.UIURL + "/namespaces/default/workflows/" + url.PathEscape(wid)
		browser := newBrowser(ctx, t, chrome)
		bctx, cancel := context.WithTimeout(browser, 90*time.Second)
		defer cancel()

		// Not signed in: the UI's codec call is refused; it says so and shows no customer data.
		require.NoError(t, chromedp.Run(bctx, chromedp.Navigate(pageURL)))
		before := waitForPage(bctx, t, pageURL, []string{wid, "Payloads are encrypted"})
		for _, secret := range secrets {
			assert.NotContains(t, before, secret, "the UI shows %q without a codec session", secret)
		}
		t.Logf("Temporal UI screenshot (no codec session): %s", screenshotTo(bctx, t, s.Root, "security-codec-signed-out"))
		sel := `a[data-testid="user-metadata-tab"]`
		require.NoError(t, chromedp.Run(bctx, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery)))
		waitForPage(bctx, t, pageURL, []string{"Summary", "Details", "Events with Metadata"})
		time.Sleep(2 * time.Second) // the UI's codec calls for the metadata are refused meanwhile
		meta, err := pageText(bctx)
		require.NoError(t, err)
		assert.NotContains(t, meta, open.Subject, "the static summary is sealed too")
		t.Logf("user metadata without a codec session:\n%s", clip(meta, 1500))
		t.Logf("Temporal UI screenshot (user metadata, no codec session): %s",
			screenshotTo(bctx, t, s.Root, "security-codec-user-metadata-signed-out"))

		require.NoError(t, signInToCodec(bctx, s.CodecURL, tokCodecOperator, pageURL))
		after := waitForPage(bctx, t, pageURL, []string{wid, open.Customer.Email})
		assert.Contains(t, after, open.Customer.Name)
		t.Logf("Temporal UI screenshot (operator signed in, input decoded): %s", screenshotTo(bctx, t, s.Root, "security-codec-decoded"))

		require.NoError(t, chromedp.Run(bctx, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery)))
		meta = waitForPage(bctx, t, pageURL, []string{"zendesk #" + open.ExternalID, open.Subject, "Customer reference: " + open.Customer.ID})
		assert.NotContains(t, meta, "binary/encrypted")
		t.Logf("Temporal UI screenshot (user metadata decoded): %s", screenshotTo(bctx, t, s.Root, "security-codec-user-metadata"))
	})
}

// startCodecStack is startStack with the test's own codec principals.
func startCodecStack(t *testing.T) *harness.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := harness.Start(ctx, harness.Options{UI: true, SurveyKey: surveyKey, Logf: t.Logf,
		Env: map[string]string{"TIERFLOW_TOKENS": codecTokens(t)}})
	require.NoError(t, err, "start the product")
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Logf("stop the product: %v", err)
		}
	})
	t.Cleanup(func() { dumpLogsOnFailure(t, s) })
	return s
}

func rawHistory(ctx context.Context, t *testing.T, c client.Client, wid string) *historypb.History {
	t.Helper()
	hist := &historypb.History{}
	iter := c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	require.NotEmpty(t, hist.Events)
	return hist
}

func firstEvent(ctx context.Context, t *testing.T, c client.Client, wid string) *historypb.HistoryEvent {
	return rawHistory(ctx, t, c, wid).Events[0]
}

// rawWorkflowBytes is everything Temporal keeps about the workflow, as stored:
// every history event and the description (memo, search attributes, user
// metadata, pending activities), in protobuf form (payload data as raw bytes).
func rawWorkflowBytes(ctx context.Context, t *testing.T, c client.Client, wid string) []byte {
	t.Helper()
	var all []byte
	for _, ev := range rawHistory(ctx, t, c, wid).Events {
		b, err := proto.Marshal(ev)
		require.NoError(t, err)
		all = append(all, b...)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, wid, "")
	require.NoError(t, err)
	b, err := proto.Marshal(desc)
	require.NoError(t, err)
	require.NotEmpty(t, desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields(), "the description holds the search attributes")
	return append(all, b...)
}

// cliText is the CLI's JSON output with every base64 string (payload data and
// metadata) also decoded, so that a payload stored in clear is found in it.
func cliText(t *testing.T, out string) string {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal([]byte(out), &doc), "the CLI's JSON output: %s", clip(out, 2000))
	var b strings.Builder
	b.WriteString(out)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			if raw, err := base64.StdEncoding.DecodeString(v); err == nil {
				b.WriteString("\n")
				b.Write(raw)
			}
		}
	}
	walk(doc)
	return b.String()
}

// waitForPage waits until the page shows every one of want and returns its text.
func waitForPage(ctx context.Context, t *testing.T, pageURL string, want []string) string {
	t.Helper()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	text, missing, err := waitForText(waitCtx, want)
	require.NoError(t, err, "%s lacks %v; it shows:\n%s", pageURL, missing, clip(text, 4000))
	return text
}

// screenshotTo saves a full-page PNG under <root>/testartifacts/e2e-<name>.png.
func screenshotTo(ctx context.Context, t *testing.T, root, name string) string {
	t.Helper()
	dir := filepath.Join(root, "testartifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.Sleep(500*time.Millisecond), chromedp.FullScreenshot(&png, 100)))
	path := filepath.Join(dir, "e2e-"+name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	return path
}
