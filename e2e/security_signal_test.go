package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/workflows"
)

// TestSecurityForgedSignalOnTheRealStack is the attack of issue 9 item 1 on the
// running product: whoever reaches Temporal sends the `decision` signal with the
// Temporal CLI, naming an executive, to a case a CRM opened through the API.
// Before the staff directory check, the case closed. Now the case does not change,
// and the audit timeline in PostgreSQL (GET /v1/cases/{id}/events) shows
// decision_rejected, marked as a signal, with the reason; so does an agent who
// names themself an executive. A signal from a real directory member is applied
// as the directory knows them and marked as a signal.
func TestSecurityForgedSignalOnTheRealStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := startStack(t)
	a := newAPI(s.APIURL)

	// Our own directory members (the dev directory's IDs are not ours to rely on).
	executive := tierflow.StaffMember{ID: "sec-signal-exec", Name: "Robin Castellano", Email: "robin.castellano@support.example.com",
		Role: tierflow.RoleExecutive, Tier: tierflow.TierExecutive, Active: true}
	agent := tierflow.StaffMember{ID: "sec-signal-agent", Name: "Kai Moreau", Email: "kai.moreau@support.example.com",
		Role: tierflow.RoleAgent, Tier: tierflow.TierFrontline, Departments: []string{"billing"}, Active: true}
	for _, m := range []tierflow.StaffMember{executive, agent} {
		require.NoError(t, s.Store.UpsertStaff(ctx, m))
	}

	// A case opened by the CRM: nothing but a decision can change it during the test.
	opened := openQuietCase(ctx, t, a, "sec-signal-")
	caseID := opened.ID
	require.Equal(t, tierflow.StatusOpen, opened.Status)
	before := waitForSeq(ctx, t, a, caseID, opened.Seq)

	// The attack: an executive nobody has heard of closes the case.
	signalWithCLI(ctx, t, s, caseID, map[string]any{"action": "close", "decision_id": "forged-close", "reason": "closing it myself",
		"actor": map[string]any{"id": "sec-ceo-impostor", "name": "The CEO", "role": "executive", "tier": 4}})
	forged := waitForEvent(ctx, t, a, caseID, "the forged signal's rejection", func(ev tierflow.CaseEvent) bool {
		return ev.Type == tierflow.EventDecisionRejected && ev.Details[tierflow.DetailDecisionID] == "forged-close"
	})
	assert.Contains(t, forged.Reason, `unknown staff id: the staff directory has no member "sec-ceo-impostor"`)
	assert.Equal(t, tierflow.SystemActor.ID, forged.Actor.ID, "the sender is unknown; the impostor is not the actor")
	assert.Equal(t, tierflow.ViaSignal, forged.Details[tierflow.DetailVia])
	assert.Equal(t, "close", forged.Details[tierflow.DetailAction])

	// A real agent names themself an executive.
	signalWithCLI(ctx, t, s, caseID, map[string]any{"action": "close", "decision_id": "promoted-close", "reason": "closing it myself",
		"actor": map[string]any{"id": agent.ID, "role": "executive", "tier": 4}})
	promoted := waitForEvent(ctx, t, a, caseID, "the promoted agent's rejection", func(ev tierflow.CaseEvent) bool {
		return ev.Type == tierflow.EventDecisionRejected && ev.Details[tierflow.DetailDecisionID] == "promoted-close"
	})
	assert.Contains(t, promoted.Reason, "role/tier mismatch")
	assert.Equal(t, tierflow.ViaSignal, promoted.Details[tierflow.DetailVia])

	// Nothing changed but the record of the two attempts.
	after := a.getCase(ctx, t, tokViewer, caseID)
	assert.Equal(t, before.Seq+2, after.Seq, "two events: the rejections")
	assert.Equal(t, caseFactsOf(before), caseFactsOf(after), "the forged signals changed the case")
	for _, ev := range a.events(ctx, t, tokViewer, caseID) {
		if ev.Type != tierflow.EventDecisionRejected {
			assert.NotEqual(t, "sec-ceo-impostor", ev.Actor.ID, "event %d %s", ev.Seq, ev.Type)
			assert.NotEqual(t, agent.ID, ev.Actor.ID, "event %d %s", ev.Seq, ev.Type)
		}
	}

	// The real executive, by signal: applied as the directory knows them, marked.
	signalWithCLI(ctx, t, s, caseID, map[string]any{"action": "close", "decision_id": "real-close", "reason": "settled by phone",
		"actor": map[string]any{"id": executive.ID, "name": "Someone Else", "role": "executive", "tier": 4}})
	closed := waitForEvent(ctx, t, a, caseID, "the real executive's close", func(ev tierflow.CaseEvent) bool {
		return ev.Type == tierflow.EventClosed
	})
	assert.Equal(t, executive.ID, closed.Actor.ID)
	assert.Equal(t, executive.Name, closed.Actor.Name, "the directory's name, not the payload's")
	assert.Equal(t, tierflow.RoleExecutive, closed.Actor.Role)
	assert.Equal(t, tierflow.ViaSignal, closed.Details[tierflow.DetailVia], "an operator's signal is marked in the audit log")
	assert.Equal(t, "real-close", closed.Details[tierflow.DetailDecisionID])
	final := a.getCase(ctx, t, tokViewer, caseID)
	assert.Equal(t, tierflow.StatusClosed, final.Status)
	assert.Equal(t, "close by "+executive.ID+" (signal)", final.LastDecision)
}

// signalWithCLI sends the decision signal d to the case's workflow with the
// Temporal CLI, as an operator (or an attacker) at a terminal would.
func signalWithCLI(ctx context.Context, t *testing.T, s *stack, caseID string, d map[string]any) {
	t.Helper()
	cli, err := temporaldev.FindCLI()
	require.NoError(t, err)
	input, err := json.Marshal(d)
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, cli, "workflow", "signal", "--address", s.Server.HostPort(),
		"--namespace", s.Server.Namespace(), "--workflow-id", workflows.WorkflowID(caseID),
		"--name", workflows.SignalDecision, "--input", string(input))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "temporal workflow signal: %s", out)
}

// waitForEvent polls the case's audit timeline until an event matches.
func waitForEvent(ctx context.Context, t *testing.T, a *api, caseID, what string, match func(tierflow.CaseEvent) bool) tierflow.CaseEvent {
	t.Helper()
	var found tierflow.CaseEvent
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	poll(wctx, t, what, 250*time.Millisecond, func() (bool, string) {
		events := a.events(ctx, t, tokViewer, caseID)
		var seen []string
		for _, ev := range events {
			if match(ev) {
				found = ev
				return true, ""
			}
			seen = append(seen, fmt.Sprintf("%d:%s", ev.Seq, ev.Type))
		}
		return false, strings.Join(seen, " ")
	})
	return found
}

// waitForSeq waits until the case's record holds event seq and returns the case.
func waitForSeq(ctx context.Context, t *testing.T, a *api, caseID string, seq int64) tierflow.CaseView {
	t.Helper()
	var v tierflow.CaseView
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	poll(wctx, t, fmt.Sprintf("event %d in the record", seq), 250*time.Millisecond, func() (bool, string) {
		r := a.do(ctx, t, tokViewer, http.MethodGet, "/v1/cases/"+url.PathEscape(caseID)+"/events", nil)
		if r.Status != http.StatusOK { // a case just opened may not be readable yet
			t.Logf("GET events of the case just opened: %d %s", r.Status, r.Body)
			return false, fmt.Sprintf("%d %s", r.Status, r.Body)
		}
		var body struct {
			Events []tierflow.CaseEvent `json:"events"`
		}
		r.decode(t, &body)
		if n := len(body.Events); n > 0 && body.Events[n-1].Seq >= seq {
			v = a.getCase(ctx, t, tokViewer, caseID)
			return true, ""
		}
		return false, fmt.Sprintf("%d events", len(body.Events))
	})
	return v
}

// caseFacts is what a forged decision must not change.
type caseFacts struct {
	Status       tierflow.Status
	Tier         tierflow.Tier
	Assignee     *string
	LastDecision string
	ClosedAt     *time.Time
	ResolvedAt   *time.Time
	Escalations  int
}

func caseFactsOf(v tierflow.CaseView) caseFacts {
	return caseFacts{Status: v.Status, Tier: v.Tier, Assignee: v.Assignee, LastDecision: v.LastDecision,
		ClosedAt: v.ClosedAt, ResolvedAt: v.ResolvedAt, Escalations: v.Escalations}
}

// openQuietCase opens a case through the API under the standard policy (its clocks
// run in hours, so nothing but a decision changes it during a test), with an
// external ID made unique from prefix.
func openQuietCase(ctx context.Context, t *testing.T, a *api, prefix string) tierflow.CaseView {
	t.Helper()
	ext := prefix + strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	return a.do(ctx, t, tokIntegration, http.MethodPost, "/v1/cases", tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: ext,
		Customer: tierflow.Customer{ID: "C-" + ext, Name: "Grace Hopper", Email: ext + "@example.com", Locale: "en"},
		Subject:  "Charged twice", Description: "Two charges for one order.", Category: "billing",
		Priority: tierflow.PriorityNormal, Department: "billing", Trigger: tierflow.TriggerUnresolved,
		OpenedAt:         time.Now().UTC().Add(-time.Minute).Truncate(time.Second),
		FrontlineSummary: "Two settled charges.",
	}).expect(t, http.StatusCreated, "open").caseView(t)
}
