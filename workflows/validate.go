package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// Reasons a message is refused. They are *tierflow.Error values: CodeConflict for
// the case's state, CodeForbidden for the actor's tier, department or authority,
// CodeInvalid for a missing field, CodeGone for an expired survey.

// errAlreadyApplied: the decision (same ID, same content) was applied before. An
// Update answers the case; a Signal is ignored.
var errAlreadyApplied = tierflow.Errorf(tierflow.CodeConflict, "this decision was already applied")

// actorTier is the tier an actor decides at: their own tier, or their role's.
func actorTier(p tierflow.Principal) tierflow.Tier {
	if p.Tier.Valid() {
		return p.Tier
	}
	return p.Role.DecidingTier()
}

// departmentRule says where an agent's or specialist's departments are checked.
type departmentRule int

const (
	// departmentAtEveryTier: an agent or specialist acts (anything but a note,
	// approvals included) only on a case of a department they serve, whatever
	// their tier; anyone else acting at the case's tier must serve it too (a
	// supervisor who names departments).
	departmentAtEveryTier departmentRule = iota
	// departmentAtCaseTier, the rule before changeDepartmentAtEveryTier: only an
	// actor at the case's tier must serve its department; approvals go by
	// authority alone. Handlers of runs from before the change judge by it.
	departmentAtCaseTier
)

// validateDecision says whether d may be applied to the case as it is now, under
// today's rules. Validators call it; handlers call judgeDecision.
func (w *caseWorkflow) validateDecision(d tierflow.Decision) error {
	return w.validateDecisionUnder(d, departmentAtEveryTier)
}

// judgeDecision is validateDecision in a handler, where the run's history decides
// the department rule: when only the department rule at every tier refuses d, a
// run from before changeDepartmentAtEveryTier applies d, as its history recorded.
// The patch is asked only then (a validator never asks: it refuses, and a refused
// Update leaves no history), so ordinary runs meet no marker.
func (w *caseWorkflow) judgeDecision(ctx workflow.Context, d tierflow.Decision) error {
	err := w.validateDecision(d)
	if err == nil || w.validateDecisionUnder(d, departmentAtCaseTier) != nil || w.patched(ctx, changeDepartmentAtEveryTier) {
		return err
	}
	return nil
}

// validateDecisionUnder says whether d may be applied to the case as it is now:
// its shape (Decision.Validate), then its action's declaration
// (tierflow.ActionSpecs: who may take it, in which statuses), then the action's
// own guard.
func (w *caseWorkflow) validateDecisionUnder(d tierflow.Decision, rule departmentRule) error {
	if err := d.Validate(); err != nil {
		return err
	}
	st := w.st
	if st.Closed() {
		return tierflow.Errorf(tierflow.CodeConflict, "the case is closed")
	}
	if st.seenDecision(d.DecisionID) {
		if st.sameDecision(d) {
			return errAlreadyApplied
		}
		return tierflow.Errorf(tierflow.CodeConflict, "decision_id %s was already used for a different decision", d.DecisionID)
	}
	tier := actorTier(d.Actor)
	if d.Actor.Role.DecidingTier() == 0 || !tier.Valid() {
		return tierflow.Errorf(tierflow.CodeForbidden, "a principal with role %q cannot decide on cases", d.Actor.Role)
	}
	spec, _ := tierflow.SpecOf(d.Action)
	if err := w.validateWho(spec.Who, d, tier, rule); err != nil {
		return err
	}
	if !spec.Allows(st.Status) {
		return statusRefusal(d.Action, st.Status, spec.Statuses)
	}
	if guard := decisionGuards[d.Action]; guard != nil {
		return guard(w, d, tier)
	}
	return nil
}

// validateWho applies the action's rule of who may take it.
func (w *caseWorkflow) validateWho(who tierflow.Who, d tierflow.Decision, tier tierflow.Tier, rule departmentRule) error {
	st := w.st
	everyTier := rule == departmentAtEveryTier && d.Actor.Role.RequiresDepartments()
	switch who {
	case tierflow.WhoAnyStaff:
		return nil
	case tierflow.WhoAuthority:
		// Whoever the request was sent to decides it, and any tier above, even when
		// the case has since climbed past them: authority is the check, not the
		// case's tier. The request went to the required tier's staff of the case's
		// department, so an agent or specialist must serve it.
		return w.validateApproval(d, tier, everyTier)
	case tierflow.WhoSupervisorUp:
		if tier < tierflow.TierSupervisor {
			return tierflow.Errorf(tierflow.CodeForbidden, "%s needs a supervisor or above", d.Action)
		}
	}
	if tier < st.Tier {
		return tierflow.Errorf(tierflow.CodeForbidden, "an actor at tier %d cannot decide for a tier %d case", tier, st.Tier)
	}
	return w.validateDepartment(d.Actor, tier == st.Tier || everyTier)
}

// validateDepartment refuses an actor who does not serve the case's department,
// when the rule concerns them (checked).
func (w *caseWorkflow) validateDepartment(actor tierflow.Principal, checked bool) error {
	if !checked || w.st.Department == "" || actor.InDepartment(w.st.Department) {
		return nil
	}
	return tierflow.Errorf(tierflow.CodeForbidden, "the actor does not serve the %s department that handles the case", w.st.Department)
}

func (w *caseWorkflow) validateApproval(d tierflow.Decision, tier tierflow.Tier, departmentChecked bool) error {
	ap := w.st.PendingApproval
	if ap == nil {
		return tierflow.Errorf(tierflow.CodeConflict, "no approval is pending")
	}
	// Authority and department first: an actor without them learns nothing of
	// the pending request.
	if !w.in.Policy.CanApprove(tier, ap.AmountCents) {
		limit, _ := w.in.Policy.Authority(tier)
		return tierflow.Errorf(tierflow.CodeForbidden, "tier %d's authority (%s) does not cover the pending approval",
			tier, money(limit, ap.Currency))
	}
	if err := w.validateDepartment(d.Actor, departmentChecked); err != nil {
		return err
	}
	if d.ApprovalID != ap.ID {
		return tierflow.Errorf(tierflow.CodeConflict, "unknown approval id %q (the pending one is %s)", d.ApprovalID, ap.ID)
	}
	return nil
}

func (w *caseWorkflow) validateResolve(d tierflow.Decision) error {
	st := w.st
	if st.PendingApproval != nil {
		return tierflow.Errorf(tierflow.CodeConflict, "approval %s is pending; approve or reject it first", st.PendingApproval.ID)
	}
	if st.Tier >= tierflow.TierSupervisor && strings.TrimSpace(d.Explanation) == "" {
		return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid resolve decision",
			Fields: []tierflow.FieldError{{Field: "explanation", Message: "is required when resolving at tier 3 or above"}}}
	}
	return nil
}

// validateCustomerEvent says whether e may be applied to the case as it is now.
func (w *caseWorkflow) validateCustomerEvent(e tierflow.CustomerEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if w.st.Closed() {
		return tierflow.Errorf(tierflow.CodeConflict, "the case is closed")
	}
	if w.st.seenEvent(e.EventID) {
		return errEventAlreadyApplied
	}
	return nil
}

// errEventAlreadyApplied: the CRM sent a customer event again (same event_id). An
// Update answers the case; a Signal is ignored.
var errEventAlreadyApplied = tierflow.Errorf(tierflow.CodeConflict, "this customer event was already applied")

// validateSurvey says whether a survey answer is expected now: the survey of the
// answer's round (an old link after a reopen answers nothing), sent and not
// expired. A survey the outbox has sent by now is sent, though the state records
// it only in the answer's transition (catchUpSurvey). An answer without a round
// is one recorded before rounds (a replay): the validator refuses new ones
// (validateSurveyUpdate).
func (w *caseWorkflow) validateSurvey(now time.Time, r tierflow.SurveyResponse) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s := w.st.asOf(now).Survey
	switch {
	case s == nil:
		return tierflow.Errorf(tierflow.CodeConflict, "no survey is waiting for an answer")
	case r.Round != 0 && r.Round != w.st.surveyRound():
		return tierflow.Errorf(tierflow.CodeGone, "this survey link belongs to an earlier survey of the case")
	case s.Status == tierflow.SurveyAnswered:
		return tierflow.Errorf(tierflow.CodeConflict, "the survey was already answered")
	case s.Status == tierflow.SurveyExpired || (s.Status == tierflow.SurveySent && s.ExpiresAt != nil && !now.Before(*s.ExpiresAt)):
		return tierflow.Errorf(tierflow.CodeGone, "the survey expired")
	case s.Status != tierflow.SurveySent:
		return tierflow.Errorf(tierflow.CodeConflict, "no survey is waiting for an answer")
	}
	return nil
}

// surveyRoundRequired refuses a new survey answer that names no round: the API
// always sends the round its link was signed for.
var surveyRoundRequired = &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid survey response",
	Fields: []tierflow.FieldError{{Field: "round", Message: "is required: the survey round the link was signed for"}}}

// asJudged is d as this run's department rules see its actor. Before
// changeDepartmentsRequired an agent or specialist without departments served
// every department, and a history recorded then replays with that rule (as if
// the actor served the case's department). Only such an actor, on a case with a
// department, asks for the patch, so other runs pay no marker. The decision
// applied and recorded is always d itself.
func (w *caseWorkflow) asJudged(ctx workflow.Context, d tierflow.Decision) tierflow.Decision {
	a := d.Actor
	if w.st.Department == "" || len(a.Departments) > 0 || !a.Role.RequiresDepartments() {
		return d
	}
	if w.patched(ctx, changeDepartmentsRequired) {
		return d
	}
	d.Actor.Departments = []string{w.st.Department}
	return d
}

// statusRefusal says an action is not allowed in the case's status.
func statusRefusal(a tierflow.Action, s tierflow.Status, allowed []tierflow.Status) error {
	if s == tierflow.StatusResolved {
		return tierflow.Errorf(tierflow.CodeConflict, "cannot %s a case that is resolved; reopen it first", a)
	}
	names := make([]string, len(allowed))
	for i, st := range allowed {
		names[i] = string(st)
	}
	return tierflow.Errorf(tierflow.CodeConflict, "cannot %s a case that is %s (only %s)", a, s, strings.Join(names, " or "))
}

// money writes minor units as "250.00 EUR".
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, currency)
}

// approvalOutsideCaseTier reports whether d is an approval that the rules before
// changeApprovalByAuthority refused: its actor is below the case's tier, or at
// it without serving the case's department.
func (w *caseWorkflow) approvalOutsideCaseTier(d tierflow.Decision) bool {
	if d.Action != tierflow.ActionApprove && d.Action != tierflow.ActionReject {
		return false
	}
	tier := actorTier(d.Actor)
	return tier < w.st.Tier || (tier == w.st.Tier && w.st.Department != "" && !d.Actor.InDepartment(w.st.Department))
}
