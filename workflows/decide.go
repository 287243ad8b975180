package workflows

import (
	"fmt"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// applyDecision is the one transition of a validated decision.
func (w *caseWorkflow) applyDecision(t *tx, d tierflow.Decision) {
	st := w.st
	st.rememberDecision(d.DecisionID)
	st.LastDecision = fmt.Sprintf("%s by %s", d.Action, d.Actor.ID)
	withID := func(ev *tierflow.CaseEvent) {
		if d.DecisionID != "" {
			if ev.Details == nil {
				ev.Details = map[string]string{}
			}
			ev.Details[tierflow.DetailDecisionID] = d.DecisionID
		}
	}
	switch d.Action {
	case tierflow.ActionAcknowledge:
		w.acknowledge(t, d.Actor.ID)
		w.emit(t, tierflow.EventAcknowledged, d.Actor, withID)
	case tierflow.ActionNote:
		w.emit(t, tierflow.EventNote, d.Actor, func(ev *tierflow.CaseEvent) { ev.Summary = d.Text; withID(ev) })
	case tierflow.ActionUpdateCustomer:
		w.restartCustomerUpdates(t)
		seq := w.emit(t, tierflow.EventCustomerUpdated, d.Actor, func(ev *tierflow.CaseEvent) { ev.CustomerMessage = d.Message; withID(ev) })
		w.mailCustomer(t, seq, tierflow.MsgProgressUpdate, func(m *tierflow.MessageData) { m.Text = d.Message })
	case tierflow.ActionRequestInfo:
		w.pause(t, tierflow.StatusAwaitingCustomer)
		st.Clocks.InfoRequestedAt, st.Clocks.RemindersSent = timePtr(t.now), 0
		st.Clocks.CustomerUpdate = nil
		seq := w.emit(t, tierflow.EventInfoRequested, d.Actor, func(ev *tierflow.CaseEvent) { ev.CustomerMessage = d.Message; withID(ev) })
		w.mailCustomer(t, seq, tierflow.MsgInfoRequest, func(m *tierflow.MessageData) { m.Text = d.Message })
	case tierflow.ActionEscalate:
		to, dept := st.Tier+1, st.Department
		if d.Mode == tierflow.EscalationFunctional {
			to = tierflow.TierSpecialist
		}
		if d.Department != "" {
			dept = d.Department
		}
		w.enterTier(t, to, dept, tierflow.EventEscalated, d.Actor, string(d.Mode), d.Reason, d.Summary, withID)
	case tierflow.ActionTransfer:
		w.enterTier(t, st.Tier, d.Department, tierflow.EventTransferred, d.Actor, "transfer", d.Reason, d.Summary, withID)
	case tierflow.ActionReassign:
		st.Assignee = d.Assignee
		seq := w.emit(t, tierflow.EventReassigned, d.Actor, func(ev *tierflow.CaseEvent) {
			ev.Reason = d.Reason
			ev.Details = map[string]string{tierflow.DetailAssignee: d.Assignee}
			withID(ev)
		})
		w.mailStaff(t, seq, tierflow.MsgStaffAssignment, []string{activities.StaffOwner}, func(in *activities.NotifyStaffInput) {
			in.Data.Reason = "reassigned by " + d.Actor.ID
		})
	case tierflow.ActionProposeCompensation:
		w.proposeCompensation(t, d, withID)
	case tierflow.ActionApprove, tierflow.ActionReject:
		w.decideApproval(t, d, withID)
	case tierflow.ActionResolve:
		w.resolve(t, d, withID)
	case tierflow.ActionReopen:
		w.reopen(t, d.Actor, d.Reason, st.Tier, withID)
	case tierflow.ActionClose:
		w.closeCase(t, d.Actor, d.Reason, withID)
	}
}

// acknowledge makes owner the owner: the acknowledge clock stops, the resolve clock starts.
func (w *caseWorkflow) acknowledge(t *tx, owner string) {
	st := w.st
	st.Assignee, st.Acknowledged, st.Status = owner, true, tierflow.StatusInProgress
	st.Clocks.Acknowledge, st.Clocks.AcknowledgeWarned = nil, false
	w.startResolveClock(t)
}

func (w *caseWorkflow) startResolveClock(t *tx) {
	dl := w.in.Policy.TierDeadline(tierflow.ClockResolve, w.in.Request.Priority, w.st.Tier, t.now)
	w.st.Clocks.Resolve, w.st.Clocks.ResolveWarned = &dl, false
}

// restartCustomerUpdates starts the update cadence again from now.
func (w *caseWorkflow) restartCustomerUpdates(t *tx) {
	dl := w.in.Policy.CustomerUpdateDeadline(w.in.Request.Priority, t.now)
	w.st.Clocks.CustomerUpdate = &dl
}

// enterTier hands the case to a tier and department: the new tier must acknowledge
// (status open, a fresh acknowledge clock), any wait on the customer ends, the
// directory proposes an owner, the customer is told who handles it and by when.
// A pending approval stays pending with its own clock.
func (w *caseWorkflow) enterTier(t *tx, to tierflow.Tier, dept string, eventType tierflow.EventType, actor tierflow.Principal,
	mode, reason, summary string, fill func(*tierflow.CaseEvent)) {
	st := w.st
	from := st.Tier
	if to > from {
		st.Escalations++
	}
	st.Tier, st.Department = to, dept
	st.Status, st.ResumeStatus, st.PausedAt = tierflow.StatusOpen, "", nil
	st.Assignee, st.Acknowledged = "", false
	st.Clocks.InfoRequestedAt, st.Clocks.RemindersSent = nil, 0
	ack := w.in.Policy.TierDeadline(tierflow.ClockAcknowledge, w.in.Request.Priority, to, t.now)
	st.Clocks.Acknowledge, st.Clocks.AcknowledgeWarned = &ack, false
	st.Clocks.Resolve, st.Clocks.ResolveWarned = nil, false
	// The email below tells the customer who handles the case and by when: it
	// counts as an update, so the cadence starts again from it.
	if st.Clocks.CustomerUpdate == nil || t.patched(changeCadenceOnEveryEmail) {
		w.restartCustomerUpdates(t)
	}
	seq := w.emit(t, eventType, actor, func(ev *tierflow.CaseEvent) {
		ev.FromTier, ev.Reason, ev.Summary = from, reason, summary
		ev.CustomerMessage = w.toldEscalated()
		ev.Details = map[string]string{tierflow.DetailMode: mode}
		if fill != nil {
			fill(ev)
		}
	})
	w.mailCustomer(t, seq, tierflow.MsgEscalated, nil)
	t.assign, t.assignReason = true, fmt.Sprintf("%s from tier %d: %s", eventType, from, reason)
}

// toldEscalated is the gist of the "escalated" email, for the audit log.
func (w *caseWorkflow) toldEscalated() string {
	msg := fmt.Sprintf("Your case is handled by %s (tier %d)", w.in.Policy.TierPolicy(w.st.Tier).Team, w.st.Tier)
	if eta := w.st.eta(); eta != nil {
		msg += "; expect an answer by " + eta.UTC().Format("2006-01-02 15:04 MST")
	}
	return msg + "."
}

// pause stops the tier clocks and moves to a waiting status.
func (w *caseWorkflow) pause(t *tx, status tierflow.Status) {
	st := w.st
	if st.PausedAt == nil {
		st.PausedAt = timePtr(t.now)
	}
	if !st.Status.TierClocksPaused() {
		st.ResumeStatus = st.Status
	}
	st.Status = status
}

// resume restarts the tier clocks: each deadline moves by the time it stood still.
func (w *caseWorkflow) resume(t *tx) {
	st := w.st
	if st.PausedAt != nil {
		for _, dl := range []*tierflow.Deadline{st.Clocks.Acknowledge, st.Clocks.Resolve} {
			if dl == nil {
				continue
			}
			from := *st.PausedAt
			if dl.Start.After(from) {
				from = dl.Start
			}
			*dl = w.in.Policy.Resume(*dl, from, t.now)
		}
	}
	st.PausedAt = nil
	st.Status = st.ResumeStatus
	if st.Status == "" {
		st.Status = tierflow.StatusOpen
		if st.Acknowledged {
			st.Status = tierflow.StatusInProgress
		}
	}
	st.ResumeStatus = ""
}

// resolve sends the resolution and schedules the survey.
func (w *caseWorkflow) resolve(t *tx, d tierflow.Decision, fill func(*tierflow.CaseEvent)) {
	st := w.st
	st.Status, st.ResolvedAt, st.Resolution = tierflow.StatusResolved, timePtr(t.now), d.Resolution
	w.stopClocks()
	sendAt := t.now.Add(w.in.Policy.Survey.Delay.Duration)
	st.Survey = &tierflow.SurveyState{Status: tierflow.SurveyScheduled, SendAt: &sendAt}
	apology := st.Tier >= tierflow.TierSupervisor
	seq := w.emit(t, tierflow.EventResolved, d.Actor, func(ev *tierflow.CaseEvent) {
		ev.Summary, ev.CustomerMessage = d.Explanation, d.Resolution
		ev.Details = map[string]string{tierflow.DetailApology: fmt.Sprint(apology)}
		fill(ev)
	})
	w.mailCustomer(t, seq, tierflow.MsgResolution, func(m *tierflow.MessageData) {
		m.Resolution, m.Explanation, m.Apology, m.ETA = d.Resolution, d.Explanation, apology, nil
		m.Compensation = w.approvedCompensation()
	})
}

// stopClocks stops every clock of an active case (resolution or closure).
func (w *caseWorkflow) stopClocks() {
	c := &w.st.Clocks
	c.Acknowledge, c.Resolve, c.CustomerUpdate, c.Approval = nil, nil, nil, nil
	c.InfoRequestedAt, c.RemindersSent = nil, 0
	w.st.PausedAt, w.st.ResumeStatus = nil, ""
}

func (w *caseWorkflow) approvedCompensation() []tierflow.Compensation {
	var out []tierflow.Compensation
	for _, c := range w.st.Compensation {
		if c.Status == tierflow.CompensationApproved {
			out = append(out, c)
		}
	}
	return out
}

// reopen brings a resolved case back to in_progress at tier "at" or higher; a
// survey not yet answered is cancelled.
func (w *caseWorkflow) reopen(t *tx, actor tierflow.Principal, reason string, at tierflow.Tier, fill func(*tierflow.CaseEvent)) {
	st := w.st
	if s := st.Survey; s != nil && (s.Status == tierflow.SurveyScheduled || s.Status == tierflow.SurveySent) {
		s.Status = tierflow.SurveyCancelled
	}
	st.Clocks.SurveyRemindAt = nil
	st.Reopens++
	st.ResolvedAt = nil
	from := st.Tier
	if at > from {
		st.Tier, st.Escalations, st.Assignee = at, st.Escalations+1, ""
	}
	st.Status, st.Acknowledged = tierflow.StatusInProgress, true
	w.startResolveClock(t)
	w.restartCustomerUpdates(t)
	seq := w.emit(t, tierflow.EventReopened, actor, func(ev *tierflow.CaseEvent) {
		ev.Reason, ev.FromTier = reason, from
		if fill != nil {
			fill(ev)
		}
	})
	w.mailCustomer(t, seq, tierflow.MsgReopened, nil)
	if at > from {
		w.emit(t, tierflow.EventEscalated, actor, func(ev *tierflow.CaseEvent) {
			ev.FromTier, ev.Reason = from, reason
			ev.Details = map[string]string{tierflow.DetailMode: "reopen"}
		})
		t.assign, t.assignReason = true, "reopened at tier "+itoa(int(at))+": "+reason
		return
	}
	w.mailStaff(t, seq, tierflow.MsgStaffAssignment, w.ownerOrQueue(), func(in *activities.NotifyStaffInput) {
		in.Data.Reason = "reopened: " + reason
	})
}

func (w *caseWorkflow) ownerOrQueue() []string {
	if w.st.Assignee != "" {
		return []string{activities.StaffOwner}
	}
	return []string{activities.StaffQueue}
}

// closeCase ends the case without (further) survey.
func (w *caseWorkflow) closeCase(t *tx, actor tierflow.Principal, reason string, fill func(*tierflow.CaseEvent)) {
	st := w.st
	if s := st.Survey; s != nil && (s.Status == tierflow.SurveyScheduled || s.Status == tierflow.SurveySent) {
		s.Status = tierflow.SurveyCancelled
	}
	st.Clocks.SurveyRemindAt = nil
	w.stopClocks()
	st.Status, st.ClosedAt = tierflow.StatusClosed, timePtr(t.now)
	w.emit(t, tierflow.EventClosed, actor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		if fill != nil {
			fill(ev)
		}
	})
}
