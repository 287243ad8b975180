package simulate

import (
	"strconv"
	"time"

	"github.com/tierflow/tierflow"
)

// replay applies the recorded human actions of c, each at its recorded instant,
// firing the policy's due instants in between, and then runs the clocks on to
// asOf (or until the case ends). The first recorded event must be the opening.
func replay(p tierflow.Policy, c CaseLog, asOf time.Time) *caseSim {
	evs := c.Events
	s := open(p, c, evs[0])
	for i := 1; i < len(evs); i++ {
		ev := evs[i]
		if ev.At.After(asOf) {
			break
		}
		s.advanceTo(ev.At)
		if s.ended() {
			break
		}
		if ev.At.After(s.now) {
			s.now = ev.At
		}
		s.apply(evs, i)
	}
	s.advanceTo(asOf)
	return s
}

// apply replays recorded event i when it is a human's action (or a customer's);
// events the workflow derived itself are skipped: the simulation derives its own.
func (s *caseSim) apply(evs []tierflow.CaseEvent, i int) {
	ev, prev := evs[i], evs[i-1]
	derivedFromCustomer := prev.Type == tierflow.EventCustomerEvent && (prev.Details[tierflow.DetailKind] == string(tierflow.CustomerRequestedSupervisor) ||
		prev.Details[tierflow.DetailKind] == string(tierflow.CustomerExternalComplaint))
	live := s.status != tierflow.StatusResolved
	switch ev.Type {
	case tierflow.EventAcknowledged:
		if s.status == tierflow.StatusOpen && !s.acknowledged {
			s.acknowledge(ev.Actor)
		}
	case tierflow.EventEscalated:
		mode := ev.Details[tierflow.DetailMode]
		manual := mode == string(tierflow.EscalationFunctional) || mode == string(tierflow.EscalationHierarchical)
		if manual && !derivedFromCustomer && live && ev.Tier > s.tier {
			s.handOver(ev.Tier, tierflow.EventEscalated, ev.Actor, mode)
		}
	case tierflow.EventTransferred:
		if live {
			s.handOver(s.tier, tierflow.EventTransferred, ev.Actor, "transfer")
		}
	case tierflow.EventCustomerEvent:
		s.customerEvent(ev)
	case tierflow.EventInfoRequested:
		if s.status == tierflow.StatusOpen || s.status == tierflow.StatusInProgress {
			s.requestInfo(ev.Actor)
		}
	case tierflow.EventCustomerReplied:
		s.customerReplied(ev.Actor)
	case tierflow.EventApprovalRequested:
		if s.status == tierflow.StatusOpen || s.status == tierflow.StatusInProgress {
			s.pause(tierflow.StatusAwaitingApproval)
		}
	case tierflow.EventApproved, tierflow.EventRejected:
		if s.status == tierflow.StatusAwaitingApproval {
			s.resume()
		}
	case tierflow.EventCustomerUpdated:
		if ev.Actor.ID != tierflow.SystemActor.ID && live {
			s.restartUpdates()
			s.emit(tierflow.EventCustomerUpdated, ev.Actor, nil)
		}
	case tierflow.EventReassigned:
		s.emit(tierflow.EventReassigned, ev.Actor, nil)
	case tierflow.EventResolved:
		if live {
			s.resolveCase(ev.Actor)
		}
	case tierflow.EventReopened:
		if prev.Type != tierflow.EventSurveyAnswered && !derivedFromCustomer && s.status == tierflow.StatusResolved {
			s.reopen(ev.Actor, max(s.tier, reopenTarget(evs, i)))
		}
	case tierflow.EventSurveyAnswered:
		s.surveyAnswered(ev)
	case tierflow.EventClosed:
		byCustomer := prev.Type == tierflow.EventCustomerEvent && prev.Details[tierflow.DetailKind] == string(tierflow.CustomerWithdrawn)
		if ev.Actor.ID != tierflow.SystemActor.ID && !byCustomer {
			s.closeCase(ev.Actor)
		}
	}
}

// reopenTarget is the tier a recorded reopen went to: the hand-over that
// follows it when it went higher, its own tier otherwise.
func reopenTarget(evs []tierflow.CaseEvent, i int) tierflow.Tier {
	if reopenHandsOver(evs, i) {
		return evs[i+1].Tier
	}
	return evs[i].Tier
}

// reopenHandsOver reports whether reopen i is followed by its hand-over to a
// higher tier.
func reopenHandsOver(evs []tierflow.CaseEvent, i int) bool {
	return i+1 < len(evs) && evs[i+1].Type == tierflow.EventEscalated && evs[i+1].Details[tierflow.DetailMode] == "reopen"
}

func (s *caseSim) acknowledge(actor tierflow.Principal) {
	s.status, s.acknowledged = tierflow.StatusInProgress, true
	s.ack, s.ackWarned, s.ackRun = nil, false, -1
	s.startClock(tierflow.ClockResolve)
	s.emit(tierflow.EventAcknowledged, actor, nil)
}

func (s *caseSim) requestInfo(actor tierflow.Principal) {
	s.pause(tierflow.StatusAwaitingCustomer)
	s.infoAt, s.reminders, s.update = timePtr(s.now), 0, nil
	s.emit(tierflow.EventInfoRequested, actor, nil)
}

// customerReplied resumes a waiting case; at any other live status the reply is
// only recorded (a resolved case's reopen is its own recorded event).
func (s *caseSim) customerReplied(actor tierflow.Principal) {
	if s.ended() {
		return
	}
	if s.status == tierflow.StatusAwaitingCustomer {
		s.resume()
		s.restartUpdates()
		s.infoAt, s.reminders = nil, 0
	}
	s.emit(tierflow.EventCustomerReplied, actor, nil)
}

// customerEvent raises the case for a customer's request for a supervisor or
// external complaint (workflow raiseTo); a withdrawal closes it.
func (s *caseSim) customerEvent(ev tierflow.CaseEvent) {
	kind := tierflow.CustomerEventKind(ev.Details[tierflow.DetailKind])
	to := tierflow.TierExecutive
	switch kind {
	case tierflow.CustomerRequestedSupervisor:
		to = max(s.tier, tierflow.TierSupervisor)
	case tierflow.CustomerExternalComplaint:
	case tierflow.CustomerWithdrawn:
		s.emit(tierflow.EventCustomerEvent, ev.Actor, func(e *tierflow.CaseEvent) { e.Details = ev.Details })
		s.closeCase(ev.Actor)
		return
	default:
		return
	}
	s.emit(tierflow.EventCustomerEvent, ev.Actor, func(e *tierflow.CaseEvent) { e.Details = ev.Details })
	switch {
	case s.status == tierflow.StatusResolved:
		s.reopen(ev.Actor, to)
	case to > s.tier:
		s.handOver(to, tierflow.EventEscalated, ev.Actor, string(tierflow.EscalationHierarchical))
	}
}

// resolveCase stops every clock and schedules the survey.
func (s *caseSim) resolveCase(actor tierflow.Principal) {
	s.stopClocks()
	s.status = tierflow.StatusResolved
	sendAt := s.now.Add(s.p.Survey.Delay.Duration)
	s.survey = surveyClock{state: surveyScheduled, sendAt: &sendAt}
	s.emit(tierflow.EventResolved, actor, nil)
}

// reopen brings a resolved case back at tier "at": a higher tier is a hand-over,
// the same tier resumes work with a fresh resolve clock (workflow reopen).
func (s *caseSim) reopen(actor tierflow.Principal, at tierflow.Tier) {
	s.survey = surveyClock{}
	if at > s.tier {
		s.status = tierflow.StatusOpen
		s.emit(tierflow.EventReopened, actor, nil)
		s.handOver(at, tierflow.EventEscalated, actor, "reopen")
		return
	}
	s.status, s.acknowledged = tierflow.StatusInProgress, true
	s.startClock(tierflow.ClockResolve)
	s.startAnswer()
	s.restartUpdates()
	s.emit(tierflow.EventReopened, actor, nil)
}

// surveyAnswered applies the recorded answer by the candidate's rule: a low
// score or "not resolved" reopens at tier 3 or above, else the case closes. An
// answer to a survey the simulated case never sent is ignored.
func (s *caseSim) surveyAnswered(ev tierflow.CaseEvent) {
	if s.status != tierflow.StatusResolved || s.survey.state != surveySent {
		return
	}
	score, _ := strconv.Atoi(ev.Details[tierflow.DetailScore])
	resolved := ev.Details[tierflow.DetailResolved] == "true"
	s.survey = surveyClock{}
	s.emit(tierflow.EventSurveyAnswered, ev.Actor, func(e *tierflow.CaseEvent) { e.Details = ev.Details })
	if score <= s.p.Survey.ReopenAtOrBelow || !resolved {
		s.reopen(tierflow.SystemActor, max(s.tier, tierflow.TierSupervisor))
		return
	}
	s.closeCase(tierflow.SystemActor)
}
