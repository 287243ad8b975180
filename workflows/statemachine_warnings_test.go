package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tierflow/tierflow"
)

// checkWarningOutbox checks the warnings written into the outbox (code level 4
// on; a run without them has none to check) against the record:
//   - each warning_scheduled batch is withdrawn by a later record before its
//     instant, or released (its warning event, stamped with its instant, for
//     the same clock and deadline, recorded from that instant on, before the
//     same warning is written again), never both; in a closed case, one of
//     them. A released one may be withdrawn later (its clock stopped while the
//     mailer lagged); a batch is withdrawn at most once;
//   - a batch withdrawn before its instant is never delivered, any other at
//     most once; a closed case leaves no warning batch waiting;
//   - no clock is warned twice of one deadline.
func checkWarningOutbox(t *testing.T, f *fakes, final tierflow.CaseView) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	type warned struct {
		clock, deadline string
	}
	seen := map[warned]int{}
	for i, tr := range f.transitions {
		for _, ev := range tr.Events {
			switch ev.Type {
			case tierflow.EventWarning, tierflow.EventCloseTargetWarning:
				w := warned{ev.Details[tierflow.DetailClock], ev.Details[tierflow.DetailDeadline]}
				seen[w]++
				assert.Equal(t, 1, seen[w], "the %s clock warned %d times of its deadline %s", w.clock, seen[w], w.deadline)
			case tierflow.EventWarningScheduled:
				checkScheduledWarning(t, f, i, ev, final)
			}
		}
	}
}

func checkScheduledWarning(t *testing.T, f *fakes, i int, sched tierflow.CaseEvent, final tierflow.CaseView) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, sched.Details[tierflow.DetailSendAt])
	if !assert.NoError(t, err, "warning_scheduled %d: send_at", sched.Seq) {
		return
	}
	withdrawnBefore, withdrawn, released := 0, 0, 0
	same := func(ev tierflow.CaseEvent) bool {
		return ev.Details[tierflow.DetailClock] == sched.Details[tierflow.DetailClock] &&
			ev.Details[tierflow.DetailDeadline] == sched.Details[tierflow.DetailDeadline]
	}
	// Its story ends where the same warning is written again (to another owner):
	// it must have been withdrawn by then, and a later release is the new one's.
	superseded := false
	for j := i + 1; j < len(f.transitions) && !superseded; j++ {
		tr := f.transitions[j]
		for _, ev := range tr.Events {
			switch {
			case ev.Type == tierflow.EventWarningScheduled && same(ev):
				superseded = true
			case ev.Type == tierflow.EventWarning && same(ev) && !superseded:
				released++
				assert.True(t, ev.At.Equal(at), "warning %d released stamped %s, not at its instant %s", sched.Seq, ev.At, at)
				assert.False(t, f.recordedAt[j].Before(at), "warning %d recorded released at %s, before its instant %s",
					sched.Seq, f.recordedAt[j], at)
			}
		}
		if slices.Contains(tr.CancelEmails, sched.Seq) {
			withdrawn++
			if f.recordedAt[j].Before(at) {
				withdrawnBefore++
			} else {
				assert.Equal(t, 1, released, "warning %d withdrawn at %s, after its instant %s, unreleased",
					sched.Seq, f.recordedAt[j], at)
			}
		}
	}
	if superseded {
		assert.Equal(t, 1, withdrawnBefore, "warning %d written again, so withdrawn first", sched.Seq)
	}
	assert.LessOrEqual(t, withdrawn, 1, "warning %d withdrawn %d times", sched.Seq, withdrawn)
	assert.LessOrEqual(t, withdrawnBefore+released, 1, "warning %d: withdrawn before its instant %d times, released %d times",
		sched.Seq, withdrawnBefore, released)
	if final.Status == tierflow.StatusClosed {
		assert.Equal(t, 1, withdrawnBefore+released, "warning %d of a closed case neither withdrawn nor released", sched.Seq)
		for _, b := range f.scheduled {
			assert.NotEqual(t, sched.Seq, b.Seq, "warning %d still waits in the outbox of a closed case", sched.Seq)
		}
	}
	delivered := 0
	for _, m := range f.staff {
		if m.Key == testCaseID+"/"+itoa(int(sched.Seq))+"/"+string(m.Kind) {
			delivered++
		}
	}
	assert.LessOrEqual(t, delivered, 1, "warning %d delivered %d times", sched.Seq, delivered)
	if withdrawnBefore > 0 {
		assert.Zero(t, delivered, "warning %d delivered though withdrawn before its instant", sched.Seq)
	}
}
