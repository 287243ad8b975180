package workflows

import (
	"fmt"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// applyCustomerEvent is the one transition of a validated customer event.
func (w *caseWorkflow) applyCustomerEvent(t *transition, e tierflow.CustomerEvent) {
	st := w.st
	st.rememberEvent(e.EventID)
	actor := e.Source
	if actor.ID == "" {
		actor = tierflow.SystemActor
	}
	st.LastDecision = fmt.Sprintf("customer %s", e.Kind)
	details := map[string]string{tierflow.DetailKind: string(e.Kind)}
	if e.EventID != "" {
		details[tierflow.DetailEventID] = e.EventID
	}
	note := func(typ tierflow.EventType) int64 {
		return w.emit(t, typ, actor, func(ev *tierflow.CaseEvent) { ev.Summary, ev.Details = e.Message, details })
	}
	switch e.Kind {
	case tierflow.CustomerReply:
		switch st.Status {
		case tierflow.StatusAwaitingCustomer:
			w.resume(t)
			w.restartCustomerUpdates(t)
			st.Clocks.InfoRequestedAt, st.Clocks.RemindersSent = nil, 0
			seq := note(tierflow.EventCustomerReplied)
			w.mailCustomer(t, seq, tierflow.MsgETAChanged, nil)
		case tierflow.StatusResolved:
			note(tierflow.EventCustomerReplied)
			w.reopen(t, actor, "the customer replied after the resolution", st.Tier, nil)
		default:
			note(tierflow.EventCustomerReplied)
		}
	case tierflow.CustomerRequestedSupervisor:
		note(tierflow.EventCustomerEvent)
		w.raiseTo(t, actor, max(st.Tier, tierflow.TierSupervisor), "the customer asked for a supervisor")
	case tierflow.CustomerExternalComplaint:
		note(tierflow.EventCustomerEvent)
		w.raiseTo(t, actor, tierflow.TierExecutive, "the customer filed an external complaint")
	case tierflow.CustomerWithdrawn:
		note(tierflow.EventCustomerEvent)
		w.closeCase(t, actor, "the customer withdrew the case", nil)
	}
}

// raiseTo moves the case hierarchically to tier "to" (a resolved case reopens
// there); a case already there keeps its tier and the tier's staff are told.
func (w *caseWorkflow) raiseTo(t *transition, actor tierflow.Principal, to tierflow.Tier, reason string) {
	st := w.st
	switch {
	case st.Status == tierflow.StatusResolved:
		w.reopen(t, actor, reason, to, nil)
	case to > st.Tier:
		w.handOver(t, handover{to: to, department: st.Department, event: tierflow.EventEscalated, actor: actor,
			mode: string(tierflow.EscalationHierarchical), reason: reason})
	default:
		groups := append(w.ownerOrQueue(), activities.StaffSupervisor)
		if st.Tier == tierflow.TierExecutive {
			groups = append(groups, activities.StaffExecutive)
		}
		w.mailStaff(t, st.Seq, tierflow.MsgStaffAssignment, groups, func(in *activities.NotifyStaffInput) {
			in.Data.Reason = reason
		})
	}
}

// applySurvey records the answer: a good one closes the case, a low score or "not
// resolved" reopens it at tier 3 or above.
func (w *caseWorkflow) applySurvey(t *transition, r tierflow.SurveyResponse) {
	st, s := w.st, w.st.Survey
	s.Status, s.Score, s.Comment, s.AnsweredAt = tierflow.SurveyAnswered, r.Score, r.Comment, timePtr(t.now)
	s.Resolved = &r.Resolved
	st.Clocks.SurveyRemindAt = nil
	st.SurveyOutboxSeq = 0 // answered: the customer has it, there is nothing to withdraw
	st.LastDecision = fmt.Sprintf("survey answered: %d of 5", r.Score)
	w.emit(t, tierflow.EventSurveyAnswered, customerActor(w.in.Request.Customer), func(ev *tierflow.CaseEvent) {
		ev.Summary = r.Comment
		ev.Details = map[string]string{tierflow.DetailScore: itoa(r.Score), tierflow.DetailResolved: fmt.Sprint(r.Resolved), tierflow.DetailComment: r.Comment}
	})
	if r.Score <= w.in.Policy.Survey.ReopenAtOrBelow || !r.Resolved {
		reason := fmt.Sprintf("survey score %d of 5", r.Score)
		if !r.Resolved {
			reason += ", not resolved"
		}
		w.reopen(t, tierflow.SystemActor, reason, max(st.Tier, tierflow.TierSupervisor), nil)
		return
	}
	w.closeCase(t, tierflow.SystemActor, "survey answered", nil)
}

// customerActor names the customer in the audit log by reference only.
func customerActor(c tierflow.Customer) tierflow.Principal {
	return tierflow.Principal{ID: "customer:" + c.ID, Role: tierflow.RoleSystem}
}

func (w *caseWorkflow) sendSurvey(t *transition) {
	st, s := w.st, w.st.Survey
	s.Status, s.SentAt = tierflow.SurveySent, timePtr(t.now)
	expires := w.armSurveyClocks(t.now)
	seq := w.emit(t, tierflow.EventSurveySent, tierflow.SystemActor, nil)
	round := st.surveyRound()
	w.mailCustomer(t, seq, tierflow.MsgSurvey, func(m *tierflow.MessageData) { m.ETA, m.ExpiresAt, m.SurveyRound = nil, &expires, round })
}

func (w *caseWorkflow) remindSurvey(t *transition) {
	w.st.Clocks.SurveyRemindAt = nil
	expires := w.st.Survey.ExpiresAt
	seq := w.emit(t, tierflow.EventReminderSent, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockSurvey)}
	})
	round := w.st.surveyRound()
	w.mailCustomer(t, seq, tierflow.MsgSurveyReminder, func(m *tierflow.MessageData) { m.ETA, m.ExpiresAt, m.SurveyRound = nil, expires, round })
}

func (w *caseWorkflow) expireSurvey(t *transition) {
	w.st.Survey.Status = tierflow.SurveyExpired
	w.st.Clocks.SurveyRemindAt = nil
	w.st.LastDecision = "survey expired"
	w.emit(t, tierflow.EventSurveyExpired, tierflow.SystemActor, nil)
	w.closeCase(t, tierflow.SystemActor, "the survey expired without an answer", nil)
}
