package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
)

// decideFunc is a CaseDecider of one function.
type decideFunc func(ctx context.Context, caseID string, d tierflow.Decision) error

func (f decideFunc) DecideCase(ctx context.Context, caseID string, d tierflow.Decision) error {
	return f(ctx, caseID, d)
}

// MigrateCase sends only the decision the API authorized for that case and the
// workflow it runs in, before the authorization expired (under any of the
// survey keys, for rotation), and tells a refusal (an outcome) from a case it
// could not reach (an error, retried).
func TestMigrateCaseSendsOnlyAuthorizedDecisions(t *testing.T) {
	oldKey, newKey := []byte("old-survey-key-0123456789abcdef!"), []byte("new-survey-key-0123456789abcdef!")
	snapshot := tierflow.Policy{Name: "fast", Version: "v2"}
	decision := tierflow.Decision{Action: tierflow.ActionMigratePolicy, DecisionID: "migration:m1:600c4a46c5e27df4", Policy: "fast@v2",
		PolicySnapshot: &snapshot, Reason: "faster \xff clocks", // invalid UTF-8 survives the trip through JSON
		Actor: tierflow.Principal{ID: "sup-1", Role: tierflow.RoleSupervisor, Tier: 3}}
	// The test activity environment runs its activity in the workflow
	// "default-test-workflow-id".
	until := time.Now().Add(activities.MigrationAuthorizationTTL)
	grant := activities.MigrationGrant{CaseID: "case-1", WorkflowID: "default-test-workflow-id", Until: until}
	auth, err := activities.AuthorizeMigration([][]byte{oldKey}, grant, decision)
	require.NoError(t, err)
	otherWorkflow := grant
	otherWorkflow.WorkflowID = "policy-migration-m1"
	authOtherWorkflow, err := activities.AuthorizeMigration([][]byte{oldKey}, otherWorkflow, decision)
	require.NoError(t, err)
	expired := grant
	expired.Until = time.Now().Add(-time.Second)
	authExpired, err := activities.AuthorizeMigration([][]byte{oldKey}, expired, decision)
	require.NoError(t, err)

	var sent []string
	answer := error(nil)
	acts := &activities.MigrationActivities{SurveyKeys: [][]byte{newKey, oldKey},
		Cases: decideFunc(func(_ context.Context, caseID string, _ tierflow.Decision) error {
			sent = append(sent, caseID)
			return answer
		})}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	migrate := func(in activities.MigrateCaseInput) (activities.MigrateCaseResult, error) {
		v, err := env.ExecuteActivity(acts.MigrateCase, in)
		if err != nil {
			return activities.MigrateCaseResult{}, err
		}
		var res activities.MigrateCaseResult
		require.NoError(t, v.Get(&res))
		return res, nil
	}

	res, err := migrate(activities.MigrateCaseInput{CaseID: "case-1", Decision: decision, Authorization: auth,
		AuthorizedUntil: until})
	require.NoError(t, err)
	assert.Nil(t, res.Refusal, "an old key still verifies")

	other := decision
	other.Actor.ID = "exec-1"
	for name, in := range map[string]activities.MigrateCaseInput{
		"another case":  {CaseID: "case-2", Decision: decision, Authorization: auth, AuthorizedUntil: until},
		"another actor": {CaseID: "case-1", Decision: other, Authorization: auth, AuthorizedUntil: until},
		"no auth":       {CaseID: "case-1", Decision: decision, AuthorizedUntil: until},
		"another workflow's": {CaseID: "case-1", Decision: decision, Authorization: authOtherWorkflow,
			AuthorizedUntil: until},
		"expiry extended": {CaseID: "case-1", Decision: decision, Authorization: authExpired, AuthorizedUntil: until},
		"expired":         {CaseID: "case-1", Decision: decision, Authorization: authExpired, AuthorizedUntil: expired.Until},
	} {
		res, err := migrate(in)
		require.NoError(t, err, name)
		require.NotNil(t, res.Refusal, name)
		assert.Equal(t, tierflow.CodeForbidden, res.Refusal.Code, name)
		if name == "expired" {
			assert.Contains(t, res.Refusal.Message, "expired", name)
		}
	}
	assert.Equal(t, []string{"case-1"}, sent, "nothing unauthorized was sent")

	answer = tierflow.Errorf(tierflow.CodeConflict, "cannot migrate_policy a case that is resolved")
	res, err = migrate(activities.MigrateCaseInput{CaseID: "case-1", Decision: decision, Authorization: auth,
		AuthorizedUntil: until})
	require.NoError(t, err, "a refusal is an outcome")
	assert.Equal(t, &activities.CaseRefusal{Code: tierflow.CodeConflict, Message: "cannot migrate_policy a case that is resolved"},
		res.Refusal)

	for _, unreachable := range []error{errors.New("connection refused"), tierflow.Errorf(tierflow.CodeUnavailable, "retry later")} {
		answer = unreachable
		_, err = migrate(activities.MigrateCaseInput{CaseID: "case-1", Decision: decision, Authorization: auth,
			AuthorizedUntil: until})
		assert.Error(t, err, "%v is retried", unreachable)
	}

	_, err = activities.AuthorizeMigration(nil, grant, decision)
	assert.Error(t, err, "no key, no authorization")
}
