package workflows

import (
	"fmt"
	"strings"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// decisionTransition is what one decision action changes and emits. The action's
// declaration (tierflow.ActionSpecs) says which fields it needs, in which statuses
// it is allowed and who may take it; validateDecision has checked all of that
// before a transition runs.
type decisionTransition func(w *caseWorkflow, t *transition, d tierflow.Decision, tag eventTag)

// decisionTransitions holds every decision action's transition (a test checks
// that each declared action has one).
var decisionTransitions = map[tierflow.Action]decisionTransition{
	tierflow.ActionAcknowledge:         (*caseWorkflow).acknowledgeDecision,
	tierflow.ActionNote:                (*caseWorkflow).noteDecision,
	tierflow.ActionUpdateCustomer:      (*caseWorkflow).updateCustomerDecision,
	tierflow.ActionRequestInfo:         (*caseWorkflow).requestInfoDecision,
	tierflow.ActionEscalate:            (*caseWorkflow).escalateDecision,
	tierflow.ActionTransfer:            (*caseWorkflow).transferDecision,
	tierflow.ActionReassign:            (*caseWorkflow).reassignDecision,
	tierflow.ActionProposeCompensation: (*caseWorkflow).proposeCompensation,
	tierflow.ActionApprove:             (*caseWorkflow).decideApproval,
	tierflow.ActionReject:              (*caseWorkflow).decideApproval,
	tierflow.ActionResolve:             (*caseWorkflow).resolveDecision,
	tierflow.ActionReopen:              (*caseWorkflow).reopenDecision,
	tierflow.ActionClose:               (*caseWorkflow).closeDecision,
	tierflow.ActionMigratePolicy:       (*caseWorkflow).migratePolicyDecision, // migrate.go
}

// decisionGuard holds an action's rules beyond its declaration: ones that depend
// on the case's tier, department or pending approval.
type decisionGuard func(w *caseWorkflow, d tierflow.Decision, tier tierflow.Tier) error

var decisionGuards = map[tierflow.Action]decisionGuard{
	tierflow.ActionEscalate: func(w *caseWorkflow, d tierflow.Decision, _ tierflow.Tier) error {
		if d.Mode == tierflow.EscalationFunctional && w.st.Tier != tierflow.TierFrontline {
			return tierflow.Errorf(tierflow.CodeConflict,
				"a functional escalation goes from tier 1 to a tier 2 department; the case is at tier %d (use transfer)", w.st.Tier)
		}
		if d.Mode == tierflow.EscalationHierarchical && w.st.Tier == tierflow.TierExecutive {
			return tierflow.Errorf(tierflow.CodeConflict, "the case is already at tier 4, the top of the ladder")
		}
		return nil
	},
	tierflow.ActionTransfer: func(w *caseWorkflow, d tierflow.Decision, _ tierflow.Tier) error {
		if strings.EqualFold(d.Department, w.st.Department) {
			return tierflow.Errorf(tierflow.CodeConflict, "the case is already with the %s department", w.st.Department)
		}
		return nil
	},
	tierflow.ActionProposeCompensation: func(w *caseWorkflow, _ tierflow.Decision, _ tierflow.Tier) error {
		if ap := w.st.PendingApproval; ap != nil {
			return tierflow.Errorf(tierflow.CodeConflict, "approval %s is already pending", ap.ID)
		}
		return nil
	},
	tierflow.ActionResolve: func(w *caseWorkflow, d tierflow.Decision, _ tierflow.Tier) error {
		return w.validateResolve(d)
	},
	tierflow.ActionMigratePolicy: migratePolicyGuard, // migrate.go
}

// eventTag marks the events a decision causes with its decision ID.
type eventTag func(*tierflow.CaseEvent)

// tagFor marks the events a decision causes with its decision ID and, when it did
// not come through the API, with how it came (DetailVia: tierflow.ViaSignal).
func tagFor(d tierflow.Decision, via string) eventTag {
	return func(ev *tierflow.CaseEvent) {
		if d.DecisionID == "" && via == "" {
			return
		}
		if ev.Details == nil {
			ev.Details = map[string]string{}
		}
		if d.DecisionID != "" {
			ev.Details[tierflow.DetailDecisionID] = d.DecisionID
		}
		if via != "" {
			ev.Details[tierflow.DetailVia] = via
		}
	}
}

// applyDecision is the one transition of a validated decision; via is how it
// came when not through the API ("" for an Update, tierflow.ViaSignal).
func (w *caseWorkflow) applyDecision(t *transition, d tierflow.Decision, via string) {
	w.st.rememberDecision(d)
	w.st.LastDecision = fmt.Sprintf("%s by %s", d.Action, d.Actor.ID)
	if via != "" {
		w.st.LastDecision += " (" + via + ")"
	}
	decisionTransitions[d.Action](w, t, d, tagFor(d, via))
}

func (w *caseWorkflow) acknowledgeDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.acknowledge(t, d.Actor.ID)
	w.emit(t, tierflow.EventAcknowledged, d.Actor, tag)
}

func (w *caseWorkflow) noteDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.emit(t, tierflow.EventNote, d.Actor, func(ev *tierflow.CaseEvent) { ev.Summary = d.Text; tag(ev) })
}

func (w *caseWorkflow) updateCustomerDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.restartCustomerUpdates(t)
	seq := w.emit(t, tierflow.EventCustomerUpdated, d.Actor, func(ev *tierflow.CaseEvent) { ev.CustomerMessage = d.Message; tag(ev) })
	w.mailCustomer(t, seq, tierflow.MsgProgressUpdate, func(m *tierflow.MessageData) { m.Text = d.Message })
}

func (w *caseWorkflow) requestInfoDecision(t *transition, d tierflow.Decision, tag eventTag) {
	st := w.st
	w.pause(t, tierflow.StatusAwaitingCustomer)
	st.Clocks.InfoRequestedAt, st.Clocks.RemindersSent = timePtr(t.now), 0
	st.Clocks.CustomerUpdate = nil
	seq := w.emit(t, tierflow.EventInfoRequested, d.Actor, func(ev *tierflow.CaseEvent) { ev.CustomerMessage = d.Message; tag(ev) })
	w.mailCustomer(t, seq, tierflow.MsgInfoRequest, func(m *tierflow.MessageData) { m.Text = d.Message })
}

func (w *caseWorkflow) escalateDecision(t *transition, d tierflow.Decision, tag eventTag) {
	to, dept := w.st.Tier+1, w.st.Department
	if d.Mode == tierflow.EscalationFunctional {
		to = tierflow.TierSpecialist
	}
	if d.Department != "" {
		dept = d.Department
	}
	w.handOver(t, handover{to: to, department: dept, event: tierflow.EventEscalated, actor: d.Actor,
		mode: string(d.Mode), reason: d.Reason, summary: d.Summary, tag: tag})
}

func (w *caseWorkflow) transferDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.handOver(t, handover{to: w.st.Tier, department: d.Department, event: tierflow.EventTransferred, actor: d.Actor,
		mode: "transfer", reason: d.Reason, summary: d.Summary, tag: tag})
}

func (w *caseWorkflow) reassignDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.st.Assignee = d.Assignee
	seq := w.emit(t, tierflow.EventReassigned, d.Actor, func(ev *tierflow.CaseEvent) {
		ev.Reason = d.Reason
		ev.Details = map[string]string{tierflow.DetailAssignee: d.Assignee}
		tag(ev)
	})
	w.mailStaff(t, seq, tierflow.MsgStaffAssignment, []string{activities.StaffOwner}, func(in *activities.NotifyStaffInput) {
		in.Data.Reason = "reassigned by " + d.Actor.ID
	})
}

func (w *caseWorkflow) resolveDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.resolve(t, d, tag)
}

func (w *caseWorkflow) reopenDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.reopen(t, d.Actor, d.Reason, w.st.Tier, tag)
}

func (w *caseWorkflow) closeDecision(t *transition, d tierflow.Decision, tag eventTag) {
	w.closeCase(t, d.Actor, d.Reason, tag)
}
