package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/tierflow/tierflow"
)

// At codeDeadlineNotWarning the NextDeadline search attribute is the nearest
// deadline, not the 75% warning before it: the warning upserts nothing (one
// search attribute write less per clock on the server) and operators filtering
// on NextDeadline see when the case can breach. Runs below that level keep the
// warning's instant, as their histories recorded it.
func TestNextDeadlineIsTheDeadlineNotItsWarning(t *testing.T) {
	for _, tc := range []struct {
		name            string
		code            int
		warningUpserts  bool
		nextIsTheBreach bool
	}{
		{"current level", CurrentCode, false, true},
		{"before the level", codeSurveyOutbox, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, f := testEnv(t, t0)
			ops := &opsRecorder{}
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{ops}})
			p, r := testPolicy(), testRequest()
			dl := p.TierDeadline(tierflow.ClockAcknowledge, r.Priority, tierflow.TierFrontline, t0)
			require.NotNil(t, dl.WarnAt)
			upserts := func() (int, time.Time) {
				ops.mu.Lock()
				defer ops.mu.Unlock()
				next, _ := temporal.NewSearchAttributes(ops.upserts...).GetTime(SANextDeadline)
				return len(ops.upserts), next
			}
			var beforeN, afterN int
			var before, after time.Time
			at(env, dl.WarnAt.Sub(t0)-time.Minute, func() { beforeN, before = upserts() })
			at(env, dl.WarnAt.Sub(t0)+time.Minute, func() { afterN, after = upserts() })
			at(env, dl.WarnAt.Sub(t0)+2*time.Minute, func() {
				env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "w"})
			})
			in := input(p, r)
			in.Code = tc.code
			env.ExecuteWorkflow(WorkflowName, in)
			final := result(t, env)
			require.Equal(t, tierflow.StatusClosed, final.Status)
			require.Len(t, f.eventsOf(tierflow.EventWarning), 1, "the warning fired")
			if tc.warningUpserts {
				assert.Greater(t, afterN, beforeN, "the warning moved NextDeadline")
				assert.True(t, before.Equal(*dl.WarnAt), "NextDeadline %s, the warning %s", before, *dl.WarnAt)
			} else {
				assert.Equal(t, beforeN, afterN, "the warning upserts no search attribute")
			}
			if tc.nextIsTheBreach {
				assert.True(t, before.Equal(dl.At) && after.Equal(dl.At), "NextDeadline %s / %s, the deadline %s", before, after, dl.At)
			}
		})
	}
}
