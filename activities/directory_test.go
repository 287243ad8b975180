package activities_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/postgres"
)

// LookUpStaff answers what the workflow needs to check a signal's actor: found or
// not, active or not, and the member's identity (never the email address, which
// would land in the case's Temporal history).
func TestLookUpStaff(t *testing.T) {
	h := newHarness(t)
	seedStaff(t, h)
	look := func(id string) (activities.LookUpStaffResult, error) {
		return run[activities.LookUpStaffResult](t, h.env, h.acts.LookUpStaff, activities.LookUpStaffInput{CaseID: "zendesk-4711", StaffID: id})
	}

	res, err := look("m1")
	require.NoError(t, err)
	assert.True(t, res.Found)
	assert.True(t, res.Active)
	assert.Equal(t, tierflow.Principal{ID: "m1", Name: "Morgan", Role: tierflow.RoleSupervisor, Tier: 3, Departments: []string{"billing"}}, res.Member)
	raw, err := json.Marshal(res)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "@", "no email address in the result")

	res, err = look("s3")
	require.NoError(t, err)
	assert.True(t, res.Found)
	assert.False(t, res.Active, "an inactive member is found, and said to be inactive")

	res, err = look("exec-impostor")
	require.NoError(t, err, "an unknown ID is an answer, not a failure")
	assert.False(t, res.Found)

	_, err = look("")
	assert.Equal(t, activities.ErrTypeInvalidInput, applicationError(t, err).Type())
}

// A directory that cannot answer fails the attempt with a retryable error.
func TestLookUpStaffWhenTheDirectoryIsDown(t *testing.T) {
	h := newHarness(t)
	seedStaff(t, h)
	down, err := postgres.Open(context.Background(), h.dsn, nil)
	require.NoError(t, err)
	down.Close() // a closed pool answers nothing
	acts := &activities.Activities{Store: down}
	env := newActivityEnv(acts, &syncBuffer{})
	_, err = run[activities.LookUpStaffResult](t, env, acts.LookUpStaff, activities.LookUpStaffInput{CaseID: "zendesk-4711", StaffID: "m1"})
	require.Error(t, err)
	assert.False(t, applicationError(t, err).NonRetryable(), "retryable: %v", err)
}
