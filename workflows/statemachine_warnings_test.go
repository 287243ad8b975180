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
//   - each warning_scheduled batch ends in at most one way: withdrawn by a later
//     record before its instant, or released (its warning event, stamped with
//     its instant, for the same clock and deadline, recorded from that instant
//     on, before the same warning is written again); in a closed case, in
//     exactly one;
//   - a withdrawn batch is never delivered, a released one at most once;
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
	withdrawn, released := 0, 0
	same := func(ev tierflow.CaseEvent) bool {
		return ev.Details[tierflow.DetailClock] == sched.Details[tierflow.DetailClock] &&
			ev.Details[tierflow.DetailDeadline] == sched.Details[tierflow.DetailDeadline]
	}
	// Its story ends where the same warning is written again (to another owner):
	// it must have been withdrawn by then, and a later release is the new one's.
	superseded := false
	for j := i + 1; j < len(f.transitions) && !superseded; j++ {
		tr := f.transitions[j]
		if slices.Contains(tr.CancelEmails, sched.Seq) {
			withdrawn++
			assert.True(t, f.recordedAt[j].Before(at), "warning %d withdrawn at %s, after its instant %s",
				sched.Seq, f.recordedAt[j], at)
		}
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
	}
	if superseded {
		assert.Equal(t, 1, withdrawn, "warning %d written again, so withdrawn first", sched.Seq)
	}
	assert.LessOrEqual(t, withdrawn+released, 1, "warning %d: withdrawn %d times, released %d times", sched.Seq, withdrawn, released)
	if final.Status == tierflow.StatusClosed {
		assert.Equal(t, 1, withdrawn+released, "warning %d of a closed case neither withdrawn nor released", sched.Seq)
	}
	delivered := 0
	for _, m := range f.staff {
		if m.Key == testCaseID+"/"+itoa(int(sched.Seq))+"/"+string(m.Kind) {
			delivered++
		}
	}
	assert.LessOrEqual(t, delivered, 1, "warning %d delivered %d times", sched.Seq, delivered)
	if withdrawn > 0 {
		assert.Zero(t, delivered, "warning %d delivered though withdrawn", sched.Seq)
	}
}
