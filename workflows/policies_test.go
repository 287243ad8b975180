package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/policyfile"
)

// The shipped policies drive the workflow as they are: an untouched case under the
// default policy climbs every tier on business-hours deadlines and misses its
// 30-day target; under the fast demo policy the same happens within minutes.
func TestShippedPolicies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy tierflow.Policy
		end    time.Duration
	}{
		{"default", policyfile.Default(), 31 * day},
		{"fast", policyfile.Fast(), 11 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, f := testEnv(t, t0)
			at(env, tc.end, func() {
				env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "w"})
			})
			env.ExecuteWorkflow(WorkflowName, input(tc.policy, testRequest()))
			final := result(t, env)
			assert.Equal(t, tierflow.TierExecutive, final.Tier)
			assert.True(t, final.CloseTargetBreached)
			assert.GreaterOrEqual(t, len(final.Breaches), 4)
			assert.NotEmpty(t, f.customerOf(tierflow.MsgProgressUpdate))
			assert.Equal(t, tc.policy.Version, final.Policy.Version)
			f.checkRecord(t)
		})
	}
}
