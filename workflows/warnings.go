package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// The tier clocks' warnings of runs with the warning outbox (codeWarningOutbox)
// go out without the case: an acknowledge or resolve clock's 75% warning is
// written into the outbox when the clock starts, to go out at its instant, and
// no timer wakes the case for it. A deadline then costs the server one workflow
// task, its own, instead of two. (The close target's warning, once in a case's
// 30 days, keeps its timer: it would otherwise be written at every opening and
// again at every hand-over, whose tier its email names.)
//
// Each transition ends by comparing the warnings the case owes (pendingWarnings:
// the same ones a run without the outbox would fire with timers) with those it
// has written (CaseState.WarningOutbox), in commit (syncWarnings):
//   - a warning written but no longer owed (its clock was acknowledged, paused,
//     restarted, stopped; its owner changed) is withdrawn by the transition's
//     record (Transition.CancelEmails);
//   - a warning released (its instant has passed) stays written while its
//     clock runs to the deadline it warns of: the mailer may lag behind the
//     instant. Once the clock stops, pauses or changes, the record withdraws it
//     too, as the survey's is (survey.go): the store withdraws what no mailer
//     has claimed, so a lagging mailer sends no warning for a clock that is no
//     longer running;
//   - a warning owed and not written is written, under a warning_scheduled event
//     that names its batch and says when it goes out (DetailSendAt); one whose
//     instant has already come (a clock restarted or migrated late in its
//     span) goes out at once from the case, as before.
//
// The next transition from a warning's instant on records it (catchUpWarnings):
// deadline_warning, stamped with its instant, before the
// transition's own events, with the state the case had then (nothing changed it
// since). Like survey_sent (survey.go) it says the warning was released to the
// mailer then, not that it was delivered; a later record that names its batch
// in CancelEmails withdrew it if it had not gone out by then. What was
// delivered is in the notification ledger. A withdrawal takes effect when its
// record commits, not at the workflow's instant: a warning withdrawn just
// before its instant (an acknowledgement in the last seconds) can still go out
// if a mailer claims it in between, as a survey can.
//
// What operators see: no "warning" timer in the Temporal UI (the pending
// deadline's timer is the case's next wake-up); the warning_scheduled event and
// its outbox batch from the clock's start; the warning itself in the audit log
// from the case's next step, at its own instant.

// outboxWarning is a warning written into the outbox: it goes out at WarnAt,
// named by the warning_scheduled event Seq.
type outboxWarning struct {
	Clock    tierflow.Clock `json:"clock"`
	Seq      int64          `json:"seq"`
	WarnAt   time.Time      `json:"warn_at"`
	Deadline time.Time      `json:"deadline"`
	// To says who hears it and as what (the recipient groups, the owner, the
	// tier and department the email names, the policy whose queues it names): a
	// warning owed to anyone else is another warning.
	To string `json:"to"`
	// Released: its instant has passed and the case recorded it; the batch
	// stays named here, to be withdrawn if the mailer lags behind the clock.
	Released bool `json:"released,omitempty"`
}

// warningSpec is a warning the case owes: the clock, its deadline (WarnAt set)
// and who hears it (groups; to, as outboxWarning.To).
type warningSpec struct {
	clock  tierflow.Clock
	dl     tierflow.Deadline
	groups []string
	to     string
}

// pendingWarnings are the warnings the case owes now: a running tier clock's
// (not while paused), until it went out. They are the tier warnings of dueItems
// in runs without the warning outbox.
func (w *caseWorkflow) pendingWarnings() []warningSpec {
	st, c := w.st, &w.st.Clocks
	if st.Closed() {
		return nil
	}
	var out []warningSpec
	if !st.Status.TierClocksPaused() {
		if dl := c.Acknowledge; dl != nil && !c.AcknowledgeWarned && dl.WarnAt != nil {
			out = append(out, w.acknowledgeWarning(*dl))
		}
		if dl := c.Resolve; dl != nil && !c.ResolveWarned && dl.WarnAt != nil {
			out = append(out, w.resolveWarning(*dl))
		}
	}
	return out
}

// acknowledgeWarning is the warning of the acknowledge clock dl: to the tier's
// queue and the supervisor.
func (w *caseWorkflow) acknowledgeWarning(dl tierflow.Deadline) warningSpec {
	return w.tierWarning(tierflow.ClockAcknowledge, dl, []string{activities.StaffQueue, activities.StaffSupervisor})
}

// resolveWarning is the warning of the resolve clock dl: to the owner (or the
// queue) and the supervisor.
func (w *caseWorkflow) resolveWarning(dl tierflow.Deadline) warningSpec {
	return w.tierWarning(tierflow.ClockResolve, dl, append(w.ownerOrQueue(), activities.StaffSupervisor))
}

// tierWarning is the warning of a tier clock to groups, as the case stands.
func (w *caseWorkflow) tierWarning(clock tierflow.Clock, dl tierflow.Deadline, groups []string) warningSpec {
	to := fmt.Sprintf("%s|%s|%d|%s|%s@%s", strings.Join(groups, ","), w.st.Assignee, w.st.Tier, w.st.Department,
		w.in.Policy.Name, w.in.Policy.Version)
	return warningSpec{clock: clock, dl: dl, groups: groups, to: to}
}

// written reports whether o is p, written and not released yet.
func (p warningSpec) written(o outboxWarning) bool {
	return !o.Released && o.Clock == p.clock && o.WarnAt.Equal(*p.dl.WarnAt) && o.Deadline.Equal(p.dl.At) && o.To == p.to
}

// stillRunning reports whether the clock a released warning o warns of still
// runs to the deadline it named.
func (w *caseWorkflow) stillRunning(o outboxWarning) bool {
	c := &w.st.Clocks
	if w.st.Closed() || w.st.Status.TierClocksPaused() {
		return false
	}
	dl := c.Acknowledge
	if o.Clock == tierflow.ClockResolve {
		dl = c.Resolve
	}
	return dl != nil && dl.At.Equal(o.Deadline)
}

// markWarned records that the warning of clock went out.
func (w *caseWorkflow) markWarned(clock tierflow.Clock) {
	c := &w.st.Clocks
	switch clock {
	case tierflow.ClockAcknowledge:
		c.AcknowledgeWarned = true
	case tierflow.ClockResolve:
		c.ResolveWarned = true
	}
}

// warningDetails are the details of a warning's events.
func warningDetails(clock tierflow.Clock, deadline time.Time) map[string]string {
	return map[string]string{tierflow.DetailClock: string(clock), tierflow.DetailDeadline: deadline.UTC().Format(time.RFC3339)}
}

// mailWarning queues p's staff email, caused by event seq.
func (w *caseWorkflow) mailWarning(t *transition, seq int64, p warningSpec) {
	w.mailStaff(t, seq, tierflow.MsgStaffWarning, p.groups, func(in *activities.NotifyStaffInput) {
		in.Data.Clock, in.Data.Deadline = p.clock, timePtr(p.dl.At)
	})
}

// sendWarning tells staff now that p's clock is about to run out: the warning
// of a run without the warning outbox, or one whose instant has already come.
func (w *caseWorkflow) sendWarning(t *transition, p warningSpec) {
	w.markWarned(p.clock)
	seq := w.emit(t, tierflow.EventWarning, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = warningDetails(p.clock, p.dl.At)
	})
	w.mailWarning(t, seq, p)
}

// syncWarnings brings the outbox in line with the warnings the case owes at the
// end of t (runs with the warning outbox): it withdraws those no longer owed,
// writes those not yet written, and sends at once one whose instant has come.
func (w *caseWorkflow) syncWarnings(t *transition) {
	if w.in.Code < codeWarningOutbox || !w.outbox.enabled || w.st == nil {
		return
	}
	want := w.pendingWarnings()
	var kept []outboxWarning
	for _, o := range w.st.WarningOutbox {
		if (o.Released && w.stillRunning(o)) ||
			slices.ContainsFunc(want, func(p warningSpec) bool { return p.written(o) }) {
			kept = append(kept, o)
			continue
		}
		t.cancelEmails = append(t.cancelEmails, o.Seq)
	}
	w.st.WarningOutbox = kept
	for _, p := range want {
		if slices.ContainsFunc(kept, p.written) {
			continue
		}
		if !p.dl.WarnAt.After(t.now) {
			w.sendWarning(t, p)
			continue
		}
		w.scheduleWarning(t, p)
	}
}

// scheduleWarning writes p into the outbox, to go out at its WarnAt, under a
// warning_scheduled event.
func (w *caseWorkflow) scheduleWarning(t *transition, p warningSpec) {
	at := *p.dl.WarnAt
	seq := w.emit(t, tierflow.EventWarningScheduled, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
		ev.Details = warningDetails(p.clock, p.dl.At)
		ev.Details[tierflow.DetailSendAt] = at.UTC().Format(time.RFC3339)
	})
	w.mailWarning(t, seq, p)
	t.scheduleLastMail(seq, at)
	w.st.WarningOutbox = append(w.st.WarningOutbox, outboxWarning{Clock: p.clock, Seq: seq, WarnAt: at, Deadline: p.dl.At, To: p.to})
}

// catchUpWarnings records, at the start of a transition, the warnings the
// outbox released since the case's last step: each is marked sent and recorded
// at its instant, earliest first; its batch stays named until its clock stops
// (syncWarnings).
func (w *caseWorkflow) catchUpWarnings(t *transition) {
	if w.st == nil { // the opening
		return
	}
	var due []*outboxWarning
	for i := range w.st.WarningOutbox {
		if o := &w.st.WarningOutbox[i]; !o.Released && !o.WarnAt.After(t.now) {
			due = append(due, o)
		}
	}
	slices.SortStableFunc(due, func(a, b *outboxWarning) int { return a.WarnAt.Compare(b.WarnAt) })
	for _, o := range due {
		o.Released = true
		w.markWarned(o.Clock)
		w.emit(t, tierflow.EventWarning, tierflow.SystemActor, func(ev *tierflow.CaseEvent) {
			ev.At = o.WarnAt
			ev.Details = warningDetails(o.Clock, o.Deadline)
		})
	}
}
