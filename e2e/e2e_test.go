package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// The dev tokens the API documents (TIERFLOW_DEV_TOKENS=true).
const (
	tokIntegration = "dev-integration"
	tokAgent       = "dev-agent"
	tokSpecialist  = "dev-specialist"
	tokSupervisor  = "dev-supervisor"
	tokExecutive   = "dev-executive"
	tokViewer      = "dev-viewer"
)

// The principal IDs of the dev tokens (never the tokens themselves), the IDs of
// their members in the dev staff directory.
const (
	idAgent      = "dev:agent"
	idSupervisor = "dev:supervisor"
)

// flow is what the steps of TestEndToEnd share.
type flow struct {
	ctx     context.Context
	stack   *stack
	api     *api
	chrome  string
	started time.Time
	open    tierflow.OpenCaseRequest
	caseID  string
	view    tierflow.CaseView // the latest answer
}

// TestEndToEnd drives the running product as a CRM, the staff, the customer and an
// operator would, under the fast policy (clocks in seconds):
//
//	open (idempotent) -> tier 1 acknowledges and escalates functionally to billing ->
//	the specialist acknowledges and proposes 500.00 (above tier 2's 250.00) -> an agent
//	may not approve, the supervisor does -> the specialist escalates hierarchically
//	to tier 3 -> nobody acknowledges: the breach escalates automatically to tier 4 ->
//	the executive resolves with an explanation -> the resolution email apologises ->
//	the customer answers the survey in Chromium -> the case closes; KPIs, the audit
//	timeline, the Temporal UI and a visibility query all show it.
//
// Functional escalation only leaves tier 1 and the automatic one must come from a
// missed acknowledgement, so the missed deadline is tier 3's.
func TestEndToEnd(t *testing.T) {
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	s := startStack(t)
	f := &flow{ctx: ctx, stack: s, api: newAPI(s.APIURL), chrome: chrome, started: begin}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"open_is_idempotent", f.openIdempotent},
		{"functional_escalation_to_billing", f.functionalEscalation},
		{"compensation_above_authority_needs_a_supervisor", f.compensationApproval},
		{"hierarchical_escalation_to_tier_3", f.hierarchicalEscalation},
		{"missed_acknowledgement_escalates_automatically", f.automaticEscalation},
		{"resolution_with_apology_and_explanation", f.resolveWithApology},
		{"survey_answered_in_chromium", f.answerSurvey},
		{"case_closed_with_kpis_and_timeline", f.closedWithRecords},
		{"visibility_query_finds_the_case", f.visibilityQuery},
		{"temporal_ui_shows_the_case", f.temporalUI},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			t.Fatalf("step %s failed; later steps depend on it", st.name)
		}
	}
	t.Logf("end-to-end flow passed in %s (case %s)", time.Since(begin).Round(time.Millisecond), f.caseID)
}

// openIdempotent: 201 then 200 with the same case, 409 for a different body.
func (f *flow) openIdempotent(t *testing.T) {
	ext := "E2E-" + strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	f.open = tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: ext,
		Customer: tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en"},
		Subject:  "Refund not received", Description: "Paid twice for order 7731; frontline could not reverse the charge.",
		Category: "billing", Priority: tierflow.PriorityHigh, Channel: "phone",
		OpenedAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second), Trigger: tierflow.TriggerUnresolved,
		FrontlineSummary: "Checked the payment log: the charge is settled twice.", Policy: "fast",
		CRMURL: "https://crm.example.com/tickets/" + ext,
	}
	first := f.api.do(f.ctx, t, tokIntegration, http.MethodPost, "/v1/cases", f.open).expect(t, http.StatusCreated, "open")
	v := first.caseView(t)
	f.caseID, f.view = v.ID, v
	assert.Equal(t, tierflow.CaseID(f.open.Source, ext), v.ID, "the case id derives from source and external id")
	assert.Equal(t, tierflow.StatusOpen, v.Status)
	assert.Equal(t, tierflow.TierFrontline, v.Tier, "an unresolved, high case starts at tier 1")
	assert.Equal(t, "fast", v.Policy.Name)
	assert.NotEmpty(t, v.Workflow.ID)
	assert.NotEmpty(t, first.Header.Get("X-Request-Id"))

	again := f.api.do(f.ctx, t, tokIntegration, http.MethodPost, "/v1/cases", f.open).
		expect(t, http.StatusOK, "open the same case again").caseView(t)
	assert.Equal(t, v.ID, again.ID)
	assert.Equal(t, v.Workflow.ID, again.Workflow.ID)

	changed := f.open
	changed.Subject = "A different subject for the same CRM issue"
	conflict := f.api.do(f.ctx, t, tokIntegration, http.MethodPost, "/v1/cases", changed).
		expect(t, http.StatusConflict, "open with a different body")
	assert.Contains(t, conflict.Header.Get("Content-Type"), "application/problem+json")
}

// functionalEscalation: tier 1 takes the case and hands it to billing (tier 2).
func (f *flow) functionalEscalation(t *testing.T) {
	v := f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "ack-t1"})
	assert.Equal(t, tierflow.StatusInProgress, v.Status)
	require.NotNil(t, v.Assignee)
	assert.Equal(t, idAgent, *v.Assignee)

	v = f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "escalate", "mode": "functional", "department": "billing", "decision_id": "esc-functional",
		"reason": "double charge needs a refund", "summary": "Customer paid twice for order 7731; I cannot reverse a settled charge. Proposing a refund by billing.",
	})
	assert.Equal(t, tierflow.TierSpecialist, v.Tier)
	assert.Equal(t, "billing", v.Department)
	assert.Equal(t, tierflow.StatusOpen, v.Status, "the new tier must acknowledge")
	f.view = v
}

// compensationApproval: 500.00 is above a specialist's 250.00, so it waits for an
// approval that an agent may not give and the supervisor does.
func (f *flow) compensationApproval(t *testing.T) {
	f.api.mustDecide(f.ctx, t, tokSpecialist, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "ack-t2"})
	v := f.api.mustDecide(f.ctx, t, tokSpecialist, f.caseID, map[string]any{
		"action": "propose_compensation", "decision_id": "comp-1", "amount_cents": 50000, "currency": "EUR",
		"description": "refund of the duplicate charge plus goodwill",
	})
	assert.Equal(t, tierflow.StatusAwaitingApproval, v.Status)
	require.NotNil(t, v.PendingApproval, "500.00 is above tier 2's authority")
	assert.Equal(t, int64(50000), v.PendingApproval.AmountCents)
	assert.Equal(t, tierflow.TierSupervisor, v.PendingApproval.RequiredTier)
	approvalID := v.PendingApproval.ID

	denied := f.api.decide(f.ctx, t, tokAgent, f.caseID, map[string]any{"action": "approve", "approval_id": approvalID, "note": "fine by me"})
	denied.expect(t, http.StatusForbidden, "an agent approving 500.00")
	assert.Contains(t, denied.Header.Get("Content-Type"), "application/problem+json")
	// The specialist decides at the case's tier, but 500.00 is beyond tier 2's authority.
	f.api.decide(f.ctx, t, tokSpecialist, f.caseID, map[string]any{"action": "approve", "approval_id": approvalID}).
		expect(t, http.StatusForbidden, "the specialist approving their own 500.00 proposal")

	v = f.api.mustDecide(f.ctx, t, tokSupervisor, f.caseID, map[string]any{
		"action": "approve", "approval_id": approvalID, "decision_id": "approve-1", "note": "justified: we charged twice"})
	assert.Nil(t, v.PendingApproval)
	assert.Equal(t, tierflow.StatusInProgress, v.Status)
	require.Len(t, v.Compensation, 1)
	assert.Equal(t, tierflow.CompensationApproved, v.Compensation[0].Status)
	assert.Equal(t, idSupervisor, v.Compensation[0].ApprovedBy)
	f.view = v
}

// hierarchicalEscalation: the specialist hands the case one tier up.
func (f *flow) hierarchicalEscalation(t *testing.T) {
	v := f.api.mustDecide(f.ctx, t, tokSpecialist, f.caseID, map[string]any{
		"action": "escalate", "mode": "hierarchical", "decision_id": "esc-hierarchical",
		"reason":  "the customer wants an explanation from a manager",
		"summary": "Refund of 500.00 EUR approved; the customer asks why it happened. A supervisor should explain and close.",
	})
	assert.Equal(t, tierflow.TierSupervisor, v.Tier)
	assert.Equal(t, tierflow.StatusOpen, v.Status)
	require.NotNil(t, v.Deadlines.AcknowledgeBy, "tier 3 has an acknowledge deadline")
	t.Logf("tier 3 must acknowledge by %s (in %s)", v.Deadlines.AcknowledgeBy.Format(time.RFC3339),
		time.Until(*v.Deadlines.AcknowledgeBy).Round(time.Second))
	f.view = v
}

// automaticEscalation: nobody at tier 3 acknowledges; the breach moves the case to tier 4.
func (f *flow) automaticEscalation(t *testing.T) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(f.ctx, 60*time.Second)
	defer cancel()
	poll(ctx, t, "the acknowledge breach and the automatic escalation to tier 4", time.Second, func() (bool, string) {
		f.view = f.api.getCase(f.ctx, t, tokViewer, f.caseID)
		return f.view.Tier == tierflow.TierExecutive && hasBreach(f.view, tierflow.ClockAcknowledge, tierflow.TierSupervisor),
			fmt.Sprintf("tier %d, status %s, breaches %+v", f.view.Tier, f.view.Status, f.view.Breaches)
	})
	t.Logf("automatic escalation seen %s after the hierarchical one", time.Since(start).Round(time.Second))
	assert.Equal(t, tierflow.StatusOpen, f.view.Status)
	assert.Empty(t, f.view.Customer.Email, "a viewer never sees the customer's email")
}

func hasBreach(v tierflow.CaseView, clock tierflow.Clock, tier tierflow.Tier) bool {
	for _, b := range v.Breaches {
		if b.Clock == clock && b.Tier == tier {
			return true
		}
	}
	return false
}

const (
	resolutionText  = "We refunded the duplicate charge of order 7731 and added a goodwill credit."
	explanationText = "A payment retry during a gateway outage charged your card a second time."
)

// resolveWithApology: at tier 4 a resolution needs an explanation; the customer's
// email apologises and explains.
func (f *flow) resolveWithApology(t *testing.T) {
	f.api.mustDecide(f.ctx, t, tokExecutive, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "ack-t4"})
	missing := f.api.decide(f.ctx, t, tokExecutive, f.caseID, map[string]any{"action": "resolve", "resolution": resolutionText})
	missing.expect(t, http.StatusUnprocessableEntity, "resolve at tier 4 without an explanation")

	v := f.api.mustDecide(f.ctx, t, tokExecutive, f.caseID, map[string]any{
		"action": "resolve", "decision_id": "resolve-1", "resolution": resolutionText, "explanation": explanationText})
	assert.Equal(t, tierflow.StatusResolved, v.Status)
	assert.NotNil(t, v.ResolvedAt)
	f.view = v

	mail := f.waitForMail(t, tierflow.MsgResolution, 30*time.Second)
	assert.Equal(t, []string{f.open.Customer.Email}, mail.To)
	text := f.mailText(t, mail.ID)
	assert.Contains(t, text, "sincerely sorry", "tier 3+ resolutions apologise")
	assert.Contains(t, text, explanationText)
	assert.Contains(t, text, resolutionText)
	assert.Contains(t, text, "500.00", "the approved compensation is offered")

	// The mailbox's list page shows it too, as a developer would browse it.
	list := f.api.do(f.ctx, t, tokViewer, http.MethodGet, "/dev/mailbox/?case="+url.QueryEscape(f.caseID), nil).
		expect(t, http.StatusOK, "dev mailbox list")
	assert.Contains(t, string(list.Body), html.EscapeString(mail.Subject))
}

// answerSurvey: the survey email (fast: 5s after resolution) links to the survey
// page, which the customer answers in a real browser.
func (f *flow) answerSurvey(t *testing.T) {
	mail := f.waitForMail(t, tierflow.MsgSurvey, 30*time.Second)
	link := surveyLink(f.mailText(t, mail.ID))
	require.NotEmpty(t, link, "the survey email holds a link")
	require.True(t, strings.HasPrefix(link, f.stack.APIURL+"/v1/surveys/"), "survey link %s points at the API", link)

	browser := newBrowser(f.ctx, t, f.chrome)
	thanks, err := answerSurveyInBrowser(browser, link, 5, true, "Quick and honest, thank you.")
	require.NoError(t, err)
	assert.Contains(t, thanks, "We have recorded your answer")

	// The link is single-use: the answer closed the case (its workflow is gone), and
	// a second answer is told "already answered" from the record (api.md: 409).
	again := f.api.do(f.ctx, t, "", http.MethodPost, strings.TrimPrefix(link, f.stack.APIURL),
		map[string]any{"score": 1, "resolved": false})
	assert.Equal(t, http.StatusConflict, again.Status, "a second answer: %s", again.Body)
}
