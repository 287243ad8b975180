package simulate

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tierflow/tierflow"
)

// caseSim is one case replayed under a policy: the part of the workflow's state
// that decides its clocks, and the events it emits. Its transitions mirror the
// workflow's (workflows/clocks.go, lifecycle.go, customer.go) and take every
// instant from the policy's pure deadline functions.
type caseSim struct {
	p      tierflow.Policy
	pr     tierflow.Priority
	caseID string
	now    time.Time

	tier         tierflow.Tier
	status       tierflow.Status
	acknowledged bool
	escalations  int

	ack, resolve, answer, update *tierflow.Deadline
	ackWarned, resolveWarned     bool
	repeats                      int
	ackRun, resolveRun           int // index in runs of the running clock, -1 when none

	closeTarget                            tierflow.Deadline
	closeTargetWarned, closeTargetBreached bool

	pausedAt     *time.Time
	resumeStatus tierflow.Status
	infoAt       *time.Time
	reminders    int

	survey surveyClock

	events []tierflow.CaseEvent
	// runs are the tier clocks this case ran, each with its last deadline and
	// whether it was missed: what explains a changed fate.
	runs []clockRun
}

// clockRun is one tier clock as it ran: its deadline (moved by pauses) and its end.
type clockRun struct {
	Deadline tierflow.Deadline
	Breached bool
}

type surveyState int

const (
	surveyNone surveyState = iota
	surveyScheduled
	surveySent
)

type surveyClock struct {
	state                     surveyState
	sendAt, remindAt, expires *time.Time
}

// open starts the case as the workflow's open does, at the recorded start tier
// and instant.
func open(p tierflow.Policy, c CaseLog, opened tierflow.CaseEvent) *caseSim {
	s := &caseSim{p: p, pr: c.Priority, caseID: c.CaseID, now: opened.At, tier: opened.Tier,
		status: tierflow.StatusOpen, ackRun: -1, resolveRun: -1}
	openedAt := c.OpenedAt
	if openedAt.IsZero() {
		openedAt = opened.At
	}
	s.startClock(tierflow.ClockAcknowledge)
	s.restartUpdates()
	s.closeTarget = p.CloseTargetDeadline(openedAt)
	s.startAnswer()
	s.emit(tierflow.EventOpened, opened.Actor, func(ev *tierflow.CaseEvent) { ev.Details = opened.Details })
	s.emit(tierflow.EventAssigned, tierflow.SystemActor, nil)
	return s
}

func (s *caseSim) emit(typ tierflow.EventType, actor tierflow.Principal, fill func(*tierflow.CaseEvent)) {
	ev := tierflow.CaseEvent{CaseID: s.caseID, Seq: int64(len(s.events) + 1), Type: typ, At: s.now, Actor: actor,
		Tier: s.tier, Status: s.status}
	if fill != nil {
		fill(&ev)
	}
	s.events = append(s.events, ev)
}

// startClock starts the tier's acknowledge or resolve clock from now.
func (s *caseSim) startClock(clock tierflow.Clock) {
	dl := s.p.TierDeadline(clock, s.pr, s.tier, s.now)
	s.runs = append(s.runs, clockRun{Deadline: dl})
	if clock == tierflow.ClockResolve {
		s.resolve, s.resolveWarned, s.resolveRun, s.repeats = &dl, false, len(s.runs)-1, 0
		return
	}
	s.ack, s.ackWarned, s.ackRun = &dl, false, len(s.runs)-1
}

// stopTierClocks stops both tier clocks (met: a missed one is stopped by breach).
func (s *caseSim) stopTierClocks() {
	s.ack, s.resolve, s.ackWarned, s.resolveWarned = nil, nil, false, false
	s.ackRun, s.resolveRun, s.repeats = -1, -1, 0
}

func (s *caseSim) restartUpdates() {
	dl := s.p.CustomerUpdateDeadline(s.pr, s.now)
	s.update = &dl
}

func (s *caseSim) startAnswer() {
	dl := s.p.AnswerDeadline(s.pr, s.tier, s.acknowledged, s.now)
	s.answer = &dl
}

// handOver gives the case to tier "to": a fresh acknowledge clock and promise,
// the cadence from now, any wait on the customer ended (workflow handOver).
func (s *caseSim) handOver(to tierflow.Tier, typ tierflow.EventType, actor tierflow.Principal, mode string) {
	if to > s.tier {
		s.escalations++
	}
	s.tier, s.status = to, tierflow.StatusOpen
	s.pausedAt, s.resumeStatus, s.acknowledged = nil, "", false
	s.infoAt, s.reminders = nil, 0
	s.stopTierClocks()
	s.startClock(tierflow.ClockAcknowledge)
	s.startAnswer()
	s.restartUpdates()
	s.emit(typ, actor, func(ev *tierflow.CaseEvent) { ev.Details = map[string]string{tierflow.DetailMode: mode} })
	s.emit(tierflow.EventAssigned, tierflow.SystemActor, nil)
}

func (s *caseSim) pause(status tierflow.Status) {
	if s.pausedAt == nil {
		s.pausedAt = timePtr(s.now)
	}
	if !s.status.TierClocksPaused() {
		s.resumeStatus = s.status
	}
	s.status = status
}

// resume moves every paused deadline by the time it stood still
// (Policy.ResumeAfterPause, as the workflow does).
func (s *caseSim) resume() {
	if s.pausedAt != nil {
		for _, dl := range []*tierflow.Deadline{s.ack, s.resolve, s.answer} {
			if dl == nil {
				continue
			}
			*dl = s.p.ResumeAfterPause(*dl, *s.pausedAt, s.now)
		}
		s.syncRuns()
	}
	s.pausedAt = nil
	s.status, s.resumeStatus = tierflow.StatusAfterPause(s.resumeStatus, s.acknowledged), ""
}

// syncRuns keeps the runs' deadlines equal to the running clocks'.
func (s *caseSim) syncRuns() {
	if s.ack != nil && s.ackRun >= 0 {
		s.runs[s.ackRun].Deadline = *s.ack
	}
	if s.resolve != nil && s.resolveRun >= 0 {
		s.runs[s.resolveRun].Deadline = *s.resolve
	}
}

func (s *caseSim) stopClocks() {
	s.stopTierClocks()
	s.update, s.answer, s.infoAt, s.reminders = nil, nil, nil, 0
	s.pausedAt, s.resumeStatus = nil, ""
}

func (s *caseSim) closeCase(actor tierflow.Principal) {
	s.survey = surveyClock{}
	s.stopClocks()
	s.status = tierflow.StatusClosed
	s.emit(tierflow.EventClosed, actor, nil)
}

func (s *caseSim) ended() bool { return s.status == tierflow.StatusClosed }

func timePtr(t time.Time) *time.Time { return &t }

func itoa(n int) string { return strconv.Itoa(n) }

func tierClockKey(t tierflow.Tier, c tierflow.Clock) string {
	return fmt.Sprintf("tier_%d.%s", int(t), c)
}
