package simulate

import (
	"time"

	"github.com/tierflow/tierflow"
)

// dueItem is one pending instant and what happens when it comes.
type dueItem struct {
	at   time.Time
	fire func()
}

// dueItems lists the pending instants in the workflow's fixed order (ties fire
// in it): tier clocks unless paused, the customer cadence unless waiting or
// resolved, the close target until resolved, the waiting reminders and
// auto-resolution, the survey.
func (s *caseSim) dueItems() []dueItem {
	if s.ended() {
		return nil
	}
	var items []dueItem
	add := func(at time.Time, fire func()) { items = append(items, dueItem{at: at, fire: fire}) }
	if !s.status.TierClocksPaused() {
		if dl := s.ack; dl != nil {
			if !s.ackWarned && dl.WarnAt != nil {
				add(*dl.WarnAt, func() { s.ackWarned = true; s.warn(*s.ack) })
			}
			add(dl.At, func() { s.breach(tierflow.ClockAcknowledge) })
		}
		if dl := s.resolve; dl != nil {
			if !s.resolveWarned && dl.WarnAt != nil {
				add(*dl.WarnAt, func() { s.resolveWarned = true; s.warn(*s.resolve) })
			}
			add(dl.At, func() { s.breach(tierflow.ClockResolve) })
		}
	}
	if s.update != nil && s.status != tierflow.StatusAwaitingCustomer && s.status != tierflow.StatusResolved {
		add(s.update.At, s.progressUpdate)
	}
	if s.status != tierflow.StatusResolved {
		if dl := s.closeTarget; !s.closeTargetWarned && dl.WarnAt != nil {
			add(*dl.WarnAt, s.warnCloseTarget)
		}
		if !s.closeTargetBreached {
			add(s.closeTarget.At, s.breachCloseTarget)
		}
	}
	if s.status == tierflow.StatusAwaitingCustomer && s.infoAt != nil {
		ac := s.p.AwaitingCustomer
		auto := s.infoAt.Add(ac.AutoResolveAfter.Duration)
		if s.reminders < len(ac.Reminders) {
			if at := s.infoAt.Add(ac.Reminders[s.reminders].Duration); at.Before(auto) {
				add(at, s.remindCustomer)
			}
		}
		add(auto, s.autoResolve)
	}
	switch sv := s.survey; sv.state {
	case surveyScheduled:
		add(*sv.sendAt, s.sendSurvey)
	case surveySent:
		if sv.remindAt != nil {
			add(*sv.remindAt, s.remindSurvey)
		}
		add(*sv.expires, s.expireSurvey)
	}
	return items
}

// maxDuePerCase bounds the instants one case may fire, against a bug looping
// (a tier-4 clock repeats at most daily, so a year is far below it).
const maxDuePerCase = 10000

// advanceTo fires every instant at or before until, earliest first, each at
// its own instant.
func (s *caseSim) advanceTo(until time.Time) {
	for range maxDuePerCase {
		var due *dueItem
		for _, it := range s.dueItems() {
			if !it.at.After(until) && (due == nil || it.at.Before(due.at)) {
				due = &it
			}
		}
		if due == nil {
			return
		}
		if due.at.After(s.now) {
			s.now = due.at
		}
		due.fire()
	}
}

func (s *caseSim) warn(dl tierflow.Deadline) {
	s.emit(tierflow.EventWarning, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(dl.Clock)}
	})
}

// breach records the missed clock and escalates one tier; at tier 4 the clock
// starts again with the policy's back-off (workflow breach, repeatTopTierClock).
func (s *caseSim) breach(clock tierflow.Clock) {
	run := s.ackRun
	if clock == tierflow.ClockResolve {
		run, s.resolve, s.resolveRun = s.resolveRun, nil, -1
	} else {
		s.ack, s.ackRun = nil, -1
	}
	if run >= 0 {
		s.runs[run].Breached = true
	}
	s.emit(tierflow.EventBreach, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(clock)}
	})
	if s.tier < tierflow.TierExecutive {
		s.handOver(s.tier+1, tierflow.EventEscalated, tierflow.SystemActor, "automatic")
		return
	}
	s.repeats++
	next := s.p.RepeatDeadline(clock, s.pr, tierflow.TierExecutive, s.repeats, s.now)
	s.runs = append(s.runs, clockRun{Deadline: next})
	if clock == tierflow.ClockResolve {
		s.resolve, s.resolveWarned, s.resolveRun = &next, false, len(s.runs)-1
	} else {
		s.ack, s.ackWarned, s.ackRun = &next, false, len(s.runs)-1
	}
	if s.answer != nil && !s.answer.At.Before(next.At) {
		return
	}
	answer := s.p.AnswerDeadline(s.pr, s.tier, s.acknowledged, s.now)
	if answer.At.Before(next.At) {
		answer = next
		answer.Clock, answer.WarnAt = tierflow.ClockAnswer, nil
	}
	s.answer = &answer
	s.restartUpdates() // the new-ETA email counts as an update
}

func (s *caseSim) progressUpdate() {
	s.restartUpdates()
	s.emit(tierflow.EventCustomerUpdated, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Reason = "automatic progress update"
	})
}

func (s *caseSim) warnCloseTarget() {
	s.closeTargetWarned = true
	s.emit(tierflow.EventCloseTargetWarning, tierflow.SystemActor, nil)
}

// breachCloseTarget flags the missed promise and hands a case below tier 4 to it.
func (s *caseSim) breachCloseTarget() {
	s.closeTargetBreached = true
	s.emit(tierflow.EventCloseTargetBreach, tierflow.SystemActor, nil)
	if s.tier < tierflow.TierExecutive {
		s.handOver(tierflow.TierExecutive, tierflow.EventEscalated, tierflow.SystemActor, "automatic")
	}
}

func (s *caseSim) remindCustomer() {
	s.reminders++
	s.emit(tierflow.EventReminderSent, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockAwaitCustomer), tierflow.DetailReminder: itoa(s.reminders)}
	})
}

func (s *caseSim) autoResolve() {
	s.stopClocks()
	s.status = tierflow.StatusResolved
	s.emit(tierflow.EventAutoResolved, tierflow.SystemActor, nil)
	s.closeCase(tierflow.SystemActor)
}

func (s *caseSim) sendSurvey() {
	sp := s.p.Survey
	expires := s.now.Add(sp.Expiry.Duration)
	s.survey = surveyClock{state: surveySent, expires: &expires}
	if sp.Reminder.Duration > 0 && s.now.Add(sp.Reminder.Duration).Before(expires) {
		s.survey.remindAt = timePtr(s.now.Add(sp.Reminder.Duration))
	}
	s.emit(tierflow.EventSurveySent, tierflow.SystemActor, nil)
}

func (s *caseSim) remindSurvey() {
	s.survey.remindAt = nil
	s.emit(tierflow.EventReminderSent, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = map[string]string{tierflow.DetailClock: string(tierflow.ClockSurvey)}
	})
}

func (s *caseSim) expireSurvey() {
	s.emit(tierflow.EventSurveyExpired, tierflow.SystemActor, nil)
	s.closeCase(tierflow.SystemActor)
}
