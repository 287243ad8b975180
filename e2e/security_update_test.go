package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/internal/updateauth"
	"github.com/tierflow/tierflow/workflows"
)

// TestSecurityForgedUpdateOnTheRealStack is the Update twin of the forged signal
// (issue 9 item 1): whoever reaches Temporal sends the `decide` Update naming an
// executive, to a case a CRM opened through the API. Before, the Update was
// applied as that executive and the case closed. Now the worker refuses it in
// validation, whether it comes from an SDK client without the API's signature,
// from one signing with a key the worker does not hold, with the API's signature
// copied from history, or from the Temporal CLI; so are a forged survey answer and
// a forged withdrawal. The case and its PostgreSQL timeline are unchanged, and a
// decision through the API is still applied.
func TestSecurityForgedUpdateOnTheRealStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := startStack(t)
	a := newAPI(s.APIURL)

	opened := openQuietCase(ctx, t, a, "sec-update-")
	caseID, workflowID := opened.ID, workflows.WorkflowID(opened.ID)

	// A decision through the API: signed by the API, applied.
	noted := a.mustDecide(ctx, t, tokAgent, caseID, map[string]any{"action": "note", "decision_id": "sec-update-note",
		"text": "Called the bank."})
	assert.Contains(t, noted.LastDecision, "note by ")
	before := waitForSeq(ctx, t, a, caseID, noted.Seq)
	apiHeader := acceptedUpdateHeader(ctx, t, s.Temporal, workflowID, "decision-sec-update-note")

	impostor := tierflow.Principal{ID: "sec-update-impostor", Name: "The CEO", Role: tierflow.RoleExecutive, Tier: tierflow.TierExecutive}
	forged := tierflow.Decision{Action: tierflow.ActionClose, DecisionID: "forged-update-close", Reason: "closing it myself", Actor: impostor}
	wrongKey, err := updateauth.NewSigner([][]byte{[]byte("not-the-survey-key-of-this-stack")})
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		c    client.Client
		want string
	}{
		"an SDK client":                        {s.Temporal, "no tierflow-update-auth header"},
		"a client signing with another key":    {dialStack(t, s, updateauth.ClientInterceptor(wrongKey)), "the signature does not match"},
		"the API's header copied from history": {dialStack(t, s, copyHeader(apiHeader)), "the signature does not match"},
	} {
		t.Run(name, func(t *testing.T) {
			err := sendUpdate(ctx, tc.c, workflowID, workflows.UpdateDecide, forged)
			assertRefused(t, err, workflows.UpdateDecide, tc.want)
		})
	}
	t.Run("the Temporal CLI", func(t *testing.T) {
		out, err := updateWithCLI(ctx, t, s, workflowID, workflows.UpdateDecide, forged)
		require.Error(t, err, "temporal workflow update execute: %s", out)
		// Without the codec the CLI sees the refusal's type; its message is
		// encrypted like every failure the worker writes.
		assert.Contains(t, out, "type: "+updateauth.RejectionType)

		// An operator's CLI, pointed at the codec endpoint, reads why and what to do.
		out, err = updateWithCLI(ctx, t, s, workflowID, workflows.UpdateDecide, forged,
			"--codec-endpoint", s.APIURL+"/codec", "--codec-auth", "Bearer "+tokSupervisor)
		require.Error(t, err, "temporal workflow update execute: %s", out)
		assert.Contains(t, out, `refused: no tierflow-update-auth header`) // the CLI escapes the quotes
		assert.Contains(t, out, "use the API")
	})
	t.Run("the other Updates", func(t *testing.T) {
		assertRefused(t, sendUpdate(ctx, s.Temporal, workflowID, workflows.UpdateSurvey,
			tierflow.SurveyResponse{Score: 5, Resolved: true}), workflows.UpdateSurvey, "no tierflow-update-auth header")
		assertRefused(t, sendUpdate(ctx, s.Temporal, workflowID, workflows.UpdateCustomerEvent,
			tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "forged-withdrawal",
				Source: tierflow.Principal{ID: "crm-impostor", Role: tierflow.RoleIntegration}}),
			workflows.UpdateCustomerEvent, "no tierflow-update-auth header")
	})

	// Nothing was applied: the case and its timeline in PostgreSQL are as before.
	// (A refused Update leaves no trace in history either, so nothing can arrive
	// late: the timeline is read after a later decision has been recorded.)
	after := a.getCase(ctx, t, tokViewer, caseID)
	assert.Equal(t, tierflow.StatusOpen, after.Status)
	assert.Equal(t, before.Seq, after.Seq, "no event was recorded")
	assert.Equal(t, caseFactsOf(before), caseFactsOf(after), "the forged Updates changed the case")

	second := a.mustDecide(ctx, t, tokAgent, caseID, map[string]any{"action": "note", "decision_id": "sec-update-note-2",
		"text": "The bank confirmed the refund."})
	assert.Equal(t, before.Seq+1, second.Seq, "the API's next decision is the next event")
	waitForSeq(ctx, t, a, caseID, second.Seq)
	events := a.events(ctx, t, tokViewer, caseID)
	for _, ev := range events {
		assert.NotEqual(t, impostor.ID, ev.Actor.ID, "event %d %s", ev.Seq, ev.Type)
		assert.NotContains(t, []string{"forged-update-close", "forged-withdrawal"}, ev.Details[tierflow.DetailDecisionID],
			"event %d %s", ev.Seq, ev.Type)
		assert.NotContains(t, []tierflow.EventType{tierflow.EventClosed, tierflow.EventDecisionRejected}, ev.Type,
			"event %d", ev.Seq)
	}
	last := events[len(events)-1]
	assert.Equal(t, "sec-update-note-2", last.Details[tierflow.DetailDecisionID])
	assert.Equal(t, tierflow.RoleAgent, last.Actor.Role, "the API's principal, not a payload's")
}

// sendUpdate sends the Update with c and waits for its outcome.
func sendUpdate(ctx context.Context, c client.Client, workflowID, name string, arg any) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// assertRefused checks that the worker refused the Update for want of the API's
// signature, telling the operator what to do instead.
func assertRefused(t *testing.T, err error, name, why string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "the Update must be refused, got %v", err)
	assert.Equal(t, updateauth.RejectionType, appErr.Type())
	assert.Contains(t, appErr.Message(), `update "`+name+`" refused: `+why)
	assert.Contains(t, appErr.Message(), "use the API")
	assert.Contains(t, appErr.Message(), "`decision` Signal from the Temporal UI or CLI, which is checked against the staff directory")
}

// acceptedUpdateHeader is the signature header of an accepted Update as history
// holds it: what anyone who can read the case's history can copy.
func acceptedUpdateHeader(ctx context.Context, t *testing.T, c client.Client, workflowID, updateID string) *commonpb.Payload {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if req := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest(); req.GetMeta().GetUpdateId() == updateID {
			p := req.GetInput().GetHeader().GetFields()[updateauth.HeaderKey]
			require.NotNil(t, p, "the API's Update carries the header")
			return p
		}
	}
	t.Fatalf("no accepted update %s in the history of %s", updateID, workflowID)
	return nil
}

// dialStack connects another SDK client to the stack's namespace.
func dialStack(t *testing.T, s *stack, interceptors ...interceptor.ClientInterceptor) client.Client {
	t.Helper()
	opts := client.Options{HostPort: s.Server.HostPort(), Namespace: s.Server.Namespace(), Interceptors: interceptors}
	// The attacker is given the codec keys, so that the refusal's (encrypted)
	// message can be read: holding them does not help to forge the signature.
	codec.ConfigureClient(&opts, s.Codec)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// copyHeader is an attacker's client interceptor: it puts a copied signature
// header on every Update.
func copyHeader(p *commonpb.Payload) interceptor.ClientInterceptor { return &headerCopier{header: p} }

type headerCopier struct {
	interceptor.ClientInterceptorBase
	header *commonpb.Payload
}

func (h *headerCopier) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	return &headerCopierOutbound{ClientOutboundInterceptorBase: interceptor.ClientOutboundInterceptorBase{Next: next}, header: h.header}
}

type headerCopierOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	header *commonpb.Payload
}

func (h *headerCopierOutbound) UpdateWorkflow(ctx context.Context, in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	interceptor.Header(ctx)[updateauth.HeaderKey] = h.header
	return h.Next.UpdateWorkflow(ctx, in)
}

// updateWithCLI sends the Update with the Temporal CLI, as an attacker at a
// terminal would, and returns its output.
func updateWithCLI(ctx context.Context, t *testing.T, s *stack, workflowID, name string, arg any, flags ...string) (string, error) {
	t.Helper()
	cli, err := temporaldev.FindCLI()
	require.NoError(t, err)
	input, err := json.Marshal(arg)
	require.NoError(t, err)
	args := append([]string{"workflow", "update", "execute", "--address", s.Server.HostPort(),
		"--namespace", s.Server.Namespace(), "--workflow-id", workflowID, "--name", name,
		"--input", string(input)}, flags...)
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	return string(out), err
}
