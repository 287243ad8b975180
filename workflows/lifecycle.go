package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// The steps transitions share: ownership, hand-overs, pauses, resolution, reopening
// and closing. Each changes the state and emits what it causes into the transition.

// acknowledge makes owner the owner: the acknowledge clock stops, the resolve clock starts.
func (w *caseWorkflow) acknowledge(t *transition, owner string) {
	st := w.st
	w.moveTo(t, tierflow.StatusInProgress)
	st.Assignee, st.Acknowledged = owner, true
	st.Clocks.Acknowledge, st.Clocks.AcknowledgeWarned = nil, false
	w.startResolveClock(t)
}

func (w *caseWorkflow) startResolveClock(t *transition) {
	dl := w.in.Policy.TierDeadline(tierflow.ClockResolve, w.in.Request.Priority, w.st.Tier, t.now)
	w.st.Clocks.Resolve, w.st.Clocks.ResolveWarned, w.st.Clocks.Repeats = &dl, false, 0
}

// startAnswerClock makes the tier's resolution promise the customer's ETA: the
// tier's acknowledge time (unless acknowledged) plus its resolve time, from now.
func (w *caseWorkflow) startAnswerClock(t *transition) {
	dl := w.in.Policy.AnswerDeadline(w.in.Request.Priority, w.st.Tier, w.st.Acknowledged, t.now)
	w.st.Clocks.Answer = &dl
}

// restartCustomerUpdates starts the update cadence again from now.
func (w *caseWorkflow) restartCustomerUpdates(t *transition) {
	dl := w.in.Policy.CustomerUpdateDeadline(w.in.Request.Priority, t.now)
	w.st.Clocks.CustomerUpdate = &dl
}

// handover is one hand-over of the case to a tier and department.
type handover struct {
	to         tierflow.Tier
	department string
	event      tierflow.EventType // EventEscalated or EventTransferred
	actor      tierflow.Principal
	mode       string // functional, hierarchical, automatic, transfer, reopen
	reason     string
	summary    string
	tag        eventTag
	// customerKind is the email that tells the customer who handles the case now
	// and by when (MsgEscalated unless set).
	customerKind tierflow.MessageKind
}

// handOver gives the case to a tier and department: the tier must acknowledge
// (status open, a fresh acknowledge clock and answer promise), any wait on the
// customer ends, the customer is told who handles the case and by when, and the
// directory proposes an owner, who is told. A pending approval stays pending
// with its own clock, and whoever it was sent to may still decide it; the event
// says so.
func (w *caseWorkflow) handOver(t *transition, h handover) {
	st := w.st
	from := st.Tier
	if h.to > from {
		st.Escalations++
	}
	st.Tier, st.Department = h.to, h.department
	w.moveTo(t, tierflow.StatusOpen)
	st.ResumeStatus, st.PausedAt = "", nil
	st.Assignee, st.Acknowledged = "", false
	st.Clocks.InfoRequestedAt, st.Clocks.RemindersSent = nil, 0
	ack := w.in.Policy.TierDeadline(tierflow.ClockAcknowledge, w.in.Request.Priority, h.to, t.now)
	st.Clocks.Acknowledge, st.Clocks.AcknowledgeWarned = &ack, false
	st.Clocks.Resolve, st.Clocks.ResolveWarned, st.Clocks.Repeats = nil, false, 0
	w.startAnswerClock(t)
	// The email below tells the customer who handles the case and by when: it
	// counts as an update, so the cadence starts again from it.
	if st.Clocks.CustomerUpdate == nil || t.patched(changeCadenceOnEveryEmail) {
		w.restartCustomerUpdates(t)
	}
	seq := w.emit(t, h.event, h.actor, func(ev *tierflow.CaseEvent) {
		ev.FromTier, ev.Reason, ev.Summary = from, h.reason, h.summary
		ev.CustomerMessage = w.toldWhoAndWhen()
		ev.Details = map[string]string{tierflow.DetailMode: h.mode}
		if ap := st.PendingApproval; ap != nil {
			ev.Details[tierflow.DetailApprovalID] = ap.ID
			ev.Details[tierflow.DetailApproval] = fmt.Sprintf("still pending: %s for tier %d or above to decide", money(ap.AmountCents, ap.Currency), ap.RequiredTier)
		}
		if h.tag != nil {
			h.tag(ev)
		}
	})
	kind := h.customerKind
	if kind == "" {
		kind = tierflow.MsgEscalated
	}
	w.mailCustomer(t, seq, kind, nil)
	reason := fmt.Sprintf("%s from tier %d: %s", h.event, from, h.reason)
	if ap := st.PendingApproval; ap != nil {
		reason += fmt.Sprintf(" (approval %s of %s still pending)", ap.ID, money(ap.AmountCents, ap.Currency))
	}
	w.assignOwner(t, reason)
}

// toldWhoAndWhen is the gist of the email that tells the customer who handles
// the case and when to expect an answer, for the audit log.
func (w *caseWorkflow) toldWhoAndWhen() string {
	msg := fmt.Sprintf("Your case is handled by %s (tier %d)", w.in.Policy.TierPolicy(w.st.Tier).Team, w.st.Tier)
	if eta := w.st.eta(); eta != nil {
		msg += "; expect an answer by " + eta.UTC().Format("2006-01-02 15:04 MST")
	}
	return msg + "."
}

// moveTo changes the case's status along the state machine
// (tierflow.StatusTransitions): every status change goes through here. A move the
// table lacks is a bug; it is logged (the state-machine test fails on it) rather
// than failing the case.
func (w *caseWorkflow) moveTo(t *transition, to tierflow.Status) {
	from := w.st.Status
	if from != to && !from.CanBecome(to) {
		workflow.GetLogger(t.ctx).Error("status change outside the state machine", "case_id", w.st.CaseID,
			"from", from, "to", to)
	}
	w.st.Status = to
}

// pause stops the tier clocks and moves to a waiting status.
func (w *caseWorkflow) pause(t *transition, status tierflow.Status) {
	st := w.st
	if st.PausedAt == nil {
		st.PausedAt = timePtr(t.now)
	}
	if !st.Status.TierClocksPaused() {
		st.ResumeStatus = st.Status
	}
	w.moveTo(t, status)
}

// resume restarts the tier clocks and the answer promise: each deadline moves by
// the time it stood still.
func (w *caseWorkflow) resume(t *transition) {
	st := w.st
	if st.PausedAt != nil {
		for _, dl := range []*tierflow.Deadline{st.Clocks.Acknowledge, st.Clocks.Resolve, st.Clocks.Answer} {
			if dl == nil {
				continue
			}
			*dl = w.in.Policy.ResumeAfterPause(*dl, *st.PausedAt, t.now)
		}
	}
	st.PausedAt = nil
	w.moveTo(t, tierflow.StatusAfterPause(st.ResumeStatus, st.Acknowledged))
	st.ResumeStatus = ""
}

// resolve sends the resolution and schedules the survey: in runs with the survey
// outbox, its email goes into the outbox now, to go out at its send time
// (scheduleSurvey); before, the case's timer sends it then (sendSurvey).
func (w *caseWorkflow) resolve(t *transition, d tierflow.Decision, tag eventTag) {
	st := w.st
	w.moveTo(t, tierflow.StatusResolved)
	st.ResolvedAt, st.Resolution = timePtr(t.now), d.Resolution
	w.stopClocks()
	sendAt := t.now.Add(w.in.Policy.Survey.Delay.Duration)
	// A reopen cancels the survey of its round, so this resolution's survey is
	// round Reopens+1; its links name that round (tierflow.SurveyLink).
	st.Survey = &tierflow.SurveyState{Status: tierflow.SurveyScheduled, Round: st.Reopens + 1, SendAt: &sendAt}
	apology := st.Tier >= tierflow.TierSupervisor
	seq := w.emit(t, tierflow.EventResolved, d.Actor, func(ev *tierflow.CaseEvent) {
		ev.Summary, ev.CustomerMessage = d.Explanation, d.Resolution
		ev.Details = map[string]string{tierflow.DetailApology: fmt.Sprint(apology)}
		tag(ev)
	})
	w.mailCustomer(t, seq, tierflow.MsgResolution, func(m *tierflow.MessageData) {
		m.Resolution, m.Explanation, m.Apology, m.ETA = d.Resolution, d.Explanation, apology, nil
		m.Compensation = w.approvedCompensation()
	})
	if w.surveyOutbox {
		w.scheduleSurvey(t, tag)
	}
}

// stopClocks stops every clock of an active case (resolution or closure).
func (w *caseWorkflow) stopClocks() {
	c := &w.st.Clocks
	c.Acknowledge, c.Resolve, c.CustomerUpdate, c.Approval, c.Answer = nil, nil, nil, nil, nil
	c.InfoRequestedAt, c.RemindersSent, c.Repeats = nil, 0, 0
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

// cancelSurvey stops a survey not yet answered (the case reopened or closed, the
// survey expired). A survey scheduled through the outbox and not answered is
// always withdrawn by the transition's record, before or after its send time:
// the mailer may lag behind it; the store withdraws only what no mailer has
// claimed (Transition.CancelEmails).
func (w *caseWorkflow) cancelSurvey(t *transition) {
	if s := w.st.Survey; s != nil && (s.Status == tierflow.SurveyScheduled || s.Status == tierflow.SurveySent) {
		s.Status = tierflow.SurveyCancelled
	}
	if seq := w.st.SurveyOutboxSeq; seq != 0 {
		t.cancelEmails = append(t.cancelEmails, seq)
		w.st.SurveyOutboxSeq = 0
	}
	w.st.Clocks.SurveyRemindAt = nil
}

// reopen brings a resolved case back at tier "at" or higher; a survey not yet
// answered is cancelled. At the same tier the owner takes it up again
// (in_progress, a fresh resolve clock). At a higher tier it is an escalation: the
// new tier must acknowledge, an owner is proposed and told, and the customer
// hears who handles the case now and by when.
func (w *caseWorkflow) reopen(t *transition, actor tierflow.Principal, reason string, at tierflow.Tier, tag eventTag) {
	st := w.st
	w.cancelSurvey(t)
	st.Reopens++
	st.ResolvedAt = nil
	from := st.Tier
	if at > from && t.patched(changeReopenHigherIsEscalation) {
		w.moveTo(t, tierflow.StatusOpen) // the hand-over below gives it to the new tier
		w.emit(t, tierflow.EventReopened, actor, func(ev *tierflow.CaseEvent) {
			ev.Reason, ev.FromTier = reason, from
			if tag != nil {
				tag(ev)
			}
		})
		w.handOver(t, handover{to: at, department: st.Department, event: tierflow.EventEscalated, actor: actor,
			mode: "reopen", reason: reason, customerKind: tierflow.MsgReopened})
		return
	}
	if at > from {
		st.Tier, st.Escalations, st.Assignee = at, st.Escalations+1, ""
	}
	w.moveTo(t, tierflow.StatusInProgress)
	st.Acknowledged = true
	w.startResolveClock(t)
	w.startAnswerClock(t)
	w.restartCustomerUpdates(t)
	seq := w.emit(t, tierflow.EventReopened, actor, func(ev *tierflow.CaseEvent) {
		ev.Reason, ev.FromTier = reason, from
		if tag != nil {
			tag(ev)
		}
	})
	w.mailCustomer(t, seq, tierflow.MsgReopened, nil)
	if at > from {
		// Histories from before changeReopenHigherIsEscalation.
		w.emit(t, tierflow.EventEscalated, actor, func(ev *tierflow.CaseEvent) {
			ev.FromTier, ev.Reason = from, reason
			ev.Details = map[string]string{tierflow.DetailMode: "reopen"}
		})
		w.assignOwner(t, "reopened at tier "+itoa(int(at))+": "+reason)
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

// closeCase ends the case without (further) survey. A pending approval is settled
// first: withdrawn, recorded and visible in the compensation list.
func (w *caseWorkflow) closeCase(t *transition, actor tierflow.Principal, reason string, tag eventTag) {
	st := w.st
	if st.PendingApproval != nil && t.patched(changeSettleApprovalOnClose) {
		w.withdrawApproval(t, "the case was closed: "+reason)
	}
	w.cancelSurvey(t)
	w.stopClocks()
	w.moveTo(t, tierflow.StatusClosed)
	st.ClosedAt = timePtr(t.now)
	w.emit(t, tierflow.EventClosed, actor, func(ev *tierflow.CaseEvent) {
		ev.Reason = reason
		if tag != nil {
			tag(ev)
		}
	})
}
