package workflows

import (
	"time"

	"github.com/tierflow/tierflow"
)

// The survey of runs with the survey outbox (codeSurveyOutbox) goes out without
// the case: the resolution writes its email into the outbox with its send time
// (scheduleSurvey), the mailer delivers it then, and the case learns nothing of
// it until its next step, which records it first (catchUpSurvey). Its reminder
// and expiry are counted from the send time from the resolution on, so the case
// sleeps until one of them, an answer or a message. The case never knows
// whether the mailer has delivered it, so the state keeps the batch's seq
// (CaseState.SurveyOutboxSeq) until the survey is answered (the customer has
// it), and every other end of the survey (a reopen, a close, a withdrawal, the
// expiry: cancelSurvey) withdraws the batch: the store withdraws it if no
// mailer has claimed it yet (a mailer lagging behind the send time), and
// leaves it as it is if it went out. Runs from before it send the survey when
// their timer fires (sendSurvey), as does a survey scheduled the old way and
// carried into a run at this level by continue-as-new (only the first code with
// levels raised a continued run's level; continue-as-new now keeps it).
//
// What the audit log claims: survey_sent, stamped with the send time, says the
// survey was released to the mailer then, not that it was delivered; a later
// record that names its batch in CancelEmails withdrew it if it had not gone
// out by then. What was delivered is in the notification ledger.

// scheduleSurvey writes the survey of the resolution (scheduled by resolve) into
// the outbox, to go out at its SendAt: a survey_scheduled event names the batch.
func (w *caseWorkflow) scheduleSurvey(t *transition, tag eventTag) {
	st, s := w.st, w.st.Survey
	sendAt := *s.SendAt
	expires := w.armSurveyClocks(sendAt)
	seq := w.emit(t, tierflow.EventSurveyScheduled, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailSendAt: sendAt.UTC().Format(time.RFC3339)}
		tag(ev)
	})
	st.SurveyOutboxSeq = seq
	round := st.surveyRound()
	w.mailCustomerAt(t, seq, tierflow.MsgSurvey, sendAt, func(m *tierflow.MessageData) {
		m.ETA, m.ExpiresAt, m.SurveyRound = nil, &expires, round
	})
}

// catchUpSurvey records, at the start of a transition, that the survey waiting in
// the outbox was released to the mailer at its SendAt if that has come: status
// sent, sent at SendAt, a survey_sent event stamped SendAt before the
// transition's own events. The batch's seq stays: the mailer may not have
// delivered it yet, and a cancel withdraws it (cancelSurvey).
func (w *caseWorkflow) catchUpSurvey(t *transition) {
	st := w.st
	if st == nil || !st.surveyOutboxSent(t.now) { // nil: the opening
		return
	}
	*st.Survey = st.Survey.AsOf(t.now) // sent, at its SendAt
	sentAt := *st.Survey.SentAt
	w.emit(t, tierflow.EventSurveySent, tierflow.SystemActor, func(ev *tierflow.CaseEvent) { ev.At = sentAt })
}

// surveyOutboxSent reports whether the survey scheduled through the outbox has
// gone out by now (its SendAt has passed) without the state recording it yet.
func (s *CaseState) surveyOutboxSent(now time.Time) bool {
	sv := s.Survey
	return s.SurveyOutboxSeq != 0 && sv != nil && sv.Status == tierflow.SurveyScheduled && sv.SendAt != nil &&
		!now.Before(*sv.SendAt)
}

// asOf is the state as it stands at now, for showing it: a survey the outbox has
// released is shown sent (tierflow.SurveyState.AsOf), as catchUpSurvey will
// record it. It shares everything else with s; s is not changed.
func (s *CaseState) asOf(now time.Time) *CaseState {
	if !s.surveyOutboxSent(now) {
		return s
	}
	c := *s
	sv := s.Survey.AsOf(now)
	c.Survey = &sv
	return &c
}

// surveyDeadlines are the survey's pending instants: its send while scheduled,
// its reminder and expiry once sent. A survey scheduled through the outbox has
// its reminder and expiry from the start, counted from its SendAt; its send is
// the outbox's, not the case's (dueItems leaves it out), and the view explains
// it all the same.
func (s *CaseState) surveyDeadlines() (send, remind, expiry *pendingWait) {
	sv := s.Survey
	if sv == nil {
		return nil, nil, nil
	}
	switch sv.Status {
	case tierflow.SurveyScheduled:
		if sv.SendAt == nil {
			return nil, nil, nil
		}
		from := *sv.SendAt
		if s.ResolvedAt != nil {
			from = *s.ResolvedAt
		}
		send = &pendingWait{clock: tierflow.ClockSurveySend, from: from, at: *sv.SendAt}
		if s.SurveyOutboxSeq != 0 {
			remind, expiry = s.surveyAnswerDeadlines(*sv.SendAt)
		}
	case tierflow.SurveySent:
		if sv.SentAt == nil {
			return nil, nil, nil
		}
		remind, expiry = s.surveyAnswerDeadlines(*sv.SentAt)
	}
	return send, remind, expiry
}

// surveyAnswerDeadlines are the reminder (while not sent) and the expiry of a
// survey that goes out at sentAt.
func (s *CaseState) surveyAnswerDeadlines(sentAt time.Time) (remind, expiry *pendingWait) {
	sv := s.Survey
	if sv.ExpiresAt == nil {
		return nil, nil
	}
	if r := s.Clocks.SurveyRemindAt; r != nil {
		remind = &pendingWait{clock: tierflow.ClockSurveyReminder, from: sentAt, at: *r}
	}
	return remind, &pendingWait{clock: tierflow.ClockSurveyExpiry, from: sentAt, at: *sv.ExpiresAt}
}

// armSurveyClocks sets the expiry and the one reminder of a survey that goes out
// at from (policy survey.expiry and survey.reminder; no reminder at or after the
// expiry) and returns the expiry.
func (w *caseWorkflow) armSurveyClocks(from time.Time) time.Time {
	sp := w.in.Policy.Survey
	expires := from.Add(sp.Expiry.Duration)
	w.st.Survey.ExpiresAt = &expires
	if sp.Reminder.Duration > 0 && from.Add(sp.Reminder.Duration).Before(expires) {
		w.st.Clocks.SurveyRemindAt = timePtr(from.Add(sp.Reminder.Duration))
	}
	return expires
}
