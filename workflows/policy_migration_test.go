package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

var migrationKey = []byte("0123456789abcdef0123456789abcdef")

// migrationInput is a migration of n cases (case-00...) to fast@v2, each
// authorized as the API authorizes it.
func migrationInput(t *testing.T, n int) PolicyMigrationInput {
	t.Helper()
	in := PolicyMigrationInput{MigrationID: "m1", Policy: tierflow.Policy{Name: "fast", Version: "v2"},
		Reason: "faster clocks", Actor: supervisor, AuthorizedUntil: time.Now().Add(activities.MigrationAuthorizationTTL)}
	for i := range n {
		id := fmt.Sprintf("case-%02d", i)
		auth, err := activities.AuthorizeMigration([][]byte{migrationKey}, in.MigrationGrant(id), in.Decision())
		require.NoError(t, err)
		in.Cases = append(in.Cases, MigrationCase{CaseID: id, Policy: "standard@v1", Authorization: auth})
	}
	return in
}

func migrationEnv() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(PolicyMigrationWorkflow, workflow.RegisterOptions{Name: PolicyMigrationWorkflowName})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: PolicyMigrationID("m1")}) // the authorized workflow
	env.SetTestTimeout(30 * time.Second)
	return env
}

// fakeDecider is the cases (activities.CaseDecider): each decision takes a
// moment; it counts how many run at once and answers what answers holds.
type fakeDecider struct {
	mu                 sync.Mutex
	running, maxAtOnce int
	calls              map[string][]tierflow.Decision
	answers            map[string][]error // per case, one per call; nil: applied
}

func (f *fakeDecider) DecideCase(_ context.Context, caseID string, d tierflow.Decision) error {
	f.mu.Lock()
	f.running++
	f.maxAtOnce = max(f.maxAtOnce, f.running)
	f.calls[caseID] = append(f.calls[caseID], d)
	var answer error
	if a := f.answers[caseID]; len(a) > 0 {
		answer, f.answers[caseID] = a[0], a[1:]
	}
	f.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	f.mu.Lock()
	f.running--
	f.mu.Unlock()
	return answer
}

// The migration sends every case not yet under the target the same decision,
// at most MigrationFanOut at once; a refusal is recorded with its reason and not
// retried, a transient failure is retried, a decision the API did not authorize
// is not sent, and the result is the summary.
func TestPolicyMigrationFansOutAndSummarizes(t *testing.T) {
	env := migrationEnv()
	cases := &fakeDecider{calls: map[string][]tierflow.Decision{}, answers: map[string][]error{
		"case-03": {tierflow.Errorf(tierflow.CodeConflict, "cannot migrate_policy a case that is resolved")},
		"case-07": {errors.New("no worker answered"), nil},
		"case-11": {&tierflow.Error{Code: tierflow.CodeNotFound, Message: "no case case-11 in flight"}},
	}}
	env.RegisterActivity(&activities.MigrationActivities{Cases: cases, SurveyKeys: [][]byte{migrationKey}})
	in := migrationInput(t, 20)
	in.Cases[5].Policy = "fast@v2"                        // already migrated
	in.Cases[9].Authorization = in.Cases[8].Authorization // not this case's

	env.ExecuteWorkflow(PolicyMigrationWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got MigrationProgress
	require.NoError(t, env.GetWorkflowResult(&got))

	assert.Equal(t, MigrationCompleted, got.Status)
	assert.Equal(t, "fast@v2", got.Policy)
	assert.Equal(t, 20, got.Total)
	assert.Equal(t, 20, got.Done)
	assert.Equal(t, 0, got.Pending)
	assert.Len(t, got.Migrated, 16)
	assert.Contains(t, got.Migrated, "case-07", "retried after a transient failure")
	assert.Equal(t, []string{"case-05"}, got.Unchanged)
	assert.ElementsMatch(t, []MigrationRefusal{
		{CaseID: "case-03", Code: tierflow.CodeConflict, Message: "cannot migrate_policy a case that is resolved"},
		{CaseID: "case-09", Code: tierflow.CodeForbidden,
			Message: "the migration did not come from the Tierflow API: start it with POST /v1/policies/migrate"},
		{CaseID: "case-11", Code: tierflow.CodeNotFound, Message: "no case case-11 in flight"},
	}, got.Refused)

	assert.LessOrEqual(t, cases.maxAtOnce, MigrationFanOut)
	assert.Greater(t, cases.maxAtOnce, 1, "cases are migrated concurrently")
	assert.NotContains(t, cases.calls, "case-05", "a case under the target is sent nothing")
	assert.NotContains(t, cases.calls, "case-09", "an unauthorized decision is not sent")
	assert.Len(t, cases.calls["case-03"], 1, "a refusal is not retried")
	require.Len(t, cases.calls["case-07"], 2)
	d := cases.calls["case-07"][1]
	assert.Equal(t, "migration:m1:600c4a46c5e27df4", d.DecisionID, "the migration id and fast@v2's digest")
	assert.Equal(t, tierflow.ActionMigratePolicy, d.Action)
	assert.Equal(t, "fast@v2", d.Policy)
	assert.Equal(t, supervisor, d.Actor)
	assert.Equal(t, "faster clocks", d.Reason)
	require.NotNil(t, d.PolicySnapshot)
	assert.Equal(t, in.Policy, *d.PolicySnapshot)
}

// The progress query answers where the migration stands while it runs: with
// each decision taking 10 s, at 15 s the first MigrationFanOut cases are done
// and the next MigrationFanOut are in flight.
func TestPolicyMigrationProgressMidway(t *testing.T) {
	env := migrationEnv()
	env.RegisterActivity(&activities.MigrationActivities{})
	env.OnActivity(ma.MigrateCase, mock.Anything, mock.Anything).After(10 * time.Second).Return(
		func(_ context.Context, in activities.MigrateCaseInput) (activities.MigrateCaseResult, error) {
			if in.CaseID == "case-02" {
				return activities.MigrateCaseResult{Refusal: &activities.CaseRefusal{Code: tierflow.CodeConflict,
					Message: "cannot migrate_policy a case that is closed"}}, nil
			}
			return activities.MigrateCaseResult{}, nil
		})
	started := 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { started++ })
	var midway MigrationProgress
	var startedMidway int
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryMigrationProgress)
		require.NoError(t, err)
		require.NoError(t, v.Get(&midway))
		startedMidway = started
	}, 15*time.Second)

	env.ExecuteWorkflow(PolicyMigrationWorkflowName, migrationInput(t, 20))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	assert.Equal(t, MigrationRunning, midway.Status)
	assert.Equal(t, 20, midway.Total)
	assert.Equal(t, MigrationFanOut, midway.Done)
	assert.Equal(t, 20-MigrationFanOut, midway.Pending)
	assert.Len(t, midway.Migrated, MigrationFanOut-1)
	assert.Equal(t, []MigrationRefusal{{CaseID: "case-02", Code: tierflow.CodeConflict,
		Message: "cannot migrate_policy a case that is closed"}}, midway.Refused)
	assert.Equal(t, 2*MigrationFanOut, startedMidway, "the next cases are in flight, no more")

	var final MigrationProgress
	require.NoError(t, env.GetWorkflowResult(&final))
	assert.Equal(t, MigrationCompleted, final.Status)
	assert.Equal(t, "20/20 done (19 migrated, 0 unchanged, 1 refused)", final.Line())
	v, err := env.QueryWorkflow(QueryMigrationProgress)
	require.NoError(t, err)
	var queried MigrationProgress
	require.NoError(t, v.Get(&queried))
	assert.Equal(t, final, queried, "the query answers the summary once completed")
}

// A case the retries never reach is reported unavailable once the retry window
// has passed; the migration still completes.
func TestPolicyMigrationReportsUnreachedCases(t *testing.T) {
	env := migrationEnv()
	env.RegisterActivity(&activities.MigrationActivities{})
	env.OnActivity(ma.MigrateCase, mock.Anything, mock.Anything).Return(activities.MigrateCaseResult{},
		errors.New("Temporal is unavailable"))

	env.ExecuteWorkflow(PolicyMigrationWorkflowName, migrationInput(t, 2))
	require.NoError(t, env.GetWorkflowError())
	var got MigrationProgress
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Len(t, got.Refused, 2)
	assert.Equal(t, tierflow.CodeUnavailable, got.Refused[0].Code)
	assert.Contains(t, got.Refused[0].Message, "not reached")
	assert.Equal(t, "2/2 done (0 migrated, 0 unchanged, 2 refused)", got.Line())
}

// An input the API could not have sent fails the workflow at once.
func TestPolicyMigrationRefusesABadInput(t *testing.T) {
	env := migrationEnv()
	env.RegisterActivity(&activities.MigrationActivities{})
	in := migrationInput(t, 2)
	in.Cases[1].CaseID = in.Cases[0].CaseID
	env.ExecuteWorkflow(PolicyMigrationWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.Error(t, env.GetWorkflowError())
	assert.Contains(t, env.GetWorkflowError().Error(), "distinct")
}

// A migration's decision id tells its target apart (a migration id reused for
// another target sends its cases another decide Update) and is a valid
// decision id for the longest migration id and policy.
func TestMigrationDecisionIDNamesTheTarget(t *testing.T) {
	assert.NotEqual(t, MigrationDecisionID("m-x", "fast@v2"), MigrationDecisionID("m-x", "standard@v1"))
	assert.Equal(t, MigrationDecisionID("m-x", "fast@v2"), MigrationDecisionID("m-x", "fast@v2"))
	long := strings.Repeat("m", 64)
	target := strings.Repeat("p", 64) + "@" + strings.Repeat("v ", 32)
	d := tierflow.Decision{Action: tierflow.ActionAcknowledge, DecisionID: MigrationDecisionID(long, target),
		Actor: supervisor}
	assert.NoError(t, d.Validate())
}

// The start options attach a repeated request to the running migration, do not
// run a completed one again, and tell the Temporal UI what the migration does.
func TestPolicyMigrationStartOptions(t *testing.T) {
	in := migrationInput(t, 3)
	in.Cases[2].Policy = "fast@v2"
	opts := PolicyMigrationStartOptions(in)
	assert.Equal(t, "policy-migration-m1", opts.ID)
	assert.Equal(t, TaskQueue, opts.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, opts.WorkflowIDConflictPolicy)
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, opts.WorkflowIDReusePolicy)
	assert.Equal(t, "migrate 2 cases to fast@v2: faster clocks", opts.StaticSummary)
	assert.Contains(t, opts.StaticDetails, "Asked by sup-1 (supervisor)")
	assert.Equal(t, map[string]any{MemoMigrationPolicy: "fast@v2"}, opts.Memo, "the target, read back by the API")

	p := NewMigrationProgress(in)
	assert.Equal(t, "1/3 done (0 migrated, 1 unchanged, 0 refused)", p.Line())
	assert.Equal(t, 2, p.Pending)
}
