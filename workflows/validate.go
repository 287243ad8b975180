package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
)

// Reasons a message is refused. They are *tierflow.Error values: CodeConflict for
// the case's state, CodeForbidden for the actor's tier, department or authority,
// CodeInvalid for a missing field, CodeGone for an expired survey.

// actorTier is the tier an actor decides at: their own tier, or their role's.
func actorTier(p tierflow.Principal) tierflow.Tier {
	if p.Tier.Valid() {
		return p.Tier
	}
	return p.Role.DecidingTier()
}

// validateDecision says whether d may be applied to the case as it is now.
func (w *caseWorkflow) validateDecision(d tierflow.Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	st := w.st
	if st.Closed() {
		return tierflow.Errorf(tierflow.CodeConflict, "the case is closed")
	}
	if st.seenDecision(d.DecisionID) {
		return tierflow.Errorf(tierflow.CodeConflict, "decision %s was already applied", d.DecisionID)
	}
	tier := actorTier(d.Actor)
	if d.Actor.Role.DecidingTier() == 0 || !tier.Valid() {
		return tierflow.Errorf(tierflow.CodeForbidden, "a principal with role %q cannot decide on cases", d.Actor.Role)
	}
	if d.Action == tierflow.ActionNote {
		return nil
	}
	if tier < st.Tier {
		return tierflow.Errorf(tierflow.CodeForbidden, "an actor at tier %d cannot decide for a tier %d case", tier, st.Tier)
	}
	if tier == st.Tier && st.Department != "" && !d.Actor.InDepartment(st.Department) {
		return tierflow.Errorf(tierflow.CodeForbidden, "the actor does not serve the %s department that handles the case", st.Department)
	}
	return w.validateAction(d, tier)
}

// validateAction checks the action against the case's status and the actor's authority.
func (w *caseWorkflow) validateAction(d tierflow.Decision, tier tierflow.Tier) error {
	st := w.st
	switch d.Action {
	case tierflow.ActionAcknowledge:
		return statusIn(st.Status, "acknowledge", tierflow.StatusOpen)
	case tierflow.ActionUpdateCustomer:
		return notResolved(st.Status, "updating the customer")
	case tierflow.ActionReassign:
		return notResolved(st.Status, "reassigning it")
	case tierflow.ActionRequestInfo:
		return statusIn(st.Status, "request information on", tierflow.StatusOpen, tierflow.StatusInProgress)
	case tierflow.ActionEscalate:
		if err := notResolved(st.Status, "escalating it"); err != nil {
			return err
		}
		if d.Mode == tierflow.EscalationFunctional && st.Tier != tierflow.TierFrontline {
			return tierflow.Errorf(tierflow.CodeConflict,
				"a functional escalation goes from tier 1 to a tier 2 department; the case is at tier %d (use transfer)", st.Tier)
		}
		if d.Mode == tierflow.EscalationHierarchical && st.Tier == tierflow.TierExecutive {
			return tierflow.Errorf(tierflow.CodeConflict, "the case is already at tier 4, the top of the ladder")
		}
	case tierflow.ActionTransfer:
		if err := notResolved(st.Status, "transferring it"); err != nil {
			return err
		}
		if strings.EqualFold(d.Department, st.Department) {
			return tierflow.Errorf(tierflow.CodeConflict, "the case is already with the %s department", st.Department)
		}
	case tierflow.ActionProposeCompensation:
		if err := statusIn(st.Status, "propose compensation on", tierflow.StatusOpen, tierflow.StatusInProgress); err != nil {
			return err
		}
		if st.PendingApproval != nil {
			return tierflow.Errorf(tierflow.CodeConflict, "approval %s is already pending", st.PendingApproval.ID)
		}
	case tierflow.ActionApprove, tierflow.ActionReject:
		return w.validateApproval(d, tier)
	case tierflow.ActionResolve:
		return w.validateResolve(d)
	case tierflow.ActionReopen:
		return statusIn(st.Status, "reopen", tierflow.StatusResolved)
	case tierflow.ActionClose:
		if tier < tierflow.TierSupervisor {
			return tierflow.Errorf(tierflow.CodeForbidden, "closing a case without a survey needs a supervisor or above")
		}
	}
	return nil
}

func (w *caseWorkflow) validateApproval(d tierflow.Decision, tier tierflow.Tier) error {
	ap := w.st.PendingApproval
	if ap == nil {
		return tierflow.Errorf(tierflow.CodeConflict, "no approval is pending")
	}
	if d.ApprovalID != ap.ID {
		return tierflow.Errorf(tierflow.CodeConflict, "unknown approval id %q (the pending one is %s)", d.ApprovalID, ap.ID)
	}
	if !w.in.Policy.CanApprove(tier, ap.AmountCents) {
		limit, _ := w.in.Policy.Authority(tier)
		return tierflow.Errorf(tierflow.CodeForbidden, "tier %d's authority (%s) does not cover %s",
			tier, money(limit, ap.Currency), money(ap.AmountCents, ap.Currency))
	}
	return nil
}

func (w *caseWorkflow) validateResolve(d tierflow.Decision) error {
	st := w.st
	if err := statusIn(st.Status, "resolve", tierflow.StatusOpen, tierflow.StatusInProgress, tierflow.StatusAwaitingCustomer); err != nil {
		return err
	}
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
		return tierflow.Errorf(tierflow.CodeConflict, "customer event %s was already applied", e.EventID)
	}
	return nil
}

// validateSurvey says whether a survey answer is expected now.
func (w *caseWorkflow) validateSurvey(now time.Time, r tierflow.SurveyResponse) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s := w.st.Survey
	switch {
	case s == nil:
		return tierflow.Errorf(tierflow.CodeConflict, "no survey is waiting for an answer")
	case s.Status == tierflow.SurveyAnswered:
		return tierflow.Errorf(tierflow.CodeConflict, "the survey was already answered")
	case s.Status == tierflow.SurveyExpired || (s.Status == tierflow.SurveySent && s.ExpiresAt != nil && !now.Before(*s.ExpiresAt)):
		return tierflow.Errorf(tierflow.CodeGone, "the survey expired")
	case s.Status != tierflow.SurveySent:
		return tierflow.Errorf(tierflow.CodeConflict, "no survey is waiting for an answer")
	}
	return nil
}

func statusIn(s tierflow.Status, verb string, allowed ...tierflow.Status) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return tierflow.Errorf(tierflow.CodeConflict, "cannot %s a case that is %s (only %s)", verb, s, strings.Join(names, " or "))
}

func notResolved(s tierflow.Status, doing string) error {
	if s == tierflow.StatusResolved {
		return tierflow.Errorf(tierflow.CodeConflict, "the case is resolved; reopen it before %s", doing)
	}
	return nil
}

// money writes minor units as "250.00 EUR".
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, currency)
}
