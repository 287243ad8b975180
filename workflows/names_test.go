package workflows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"

	"github.com/tierflow/tierflow"
)

// What operators see carries references, never the customer's name or email.
func TestStartOptionsHoldNoPersonalData(t *testing.T) {
	r := testRequest()
	r.CRMURL = "https://crm.example.com/tickets/48213"
	r.Priority = tierflow.PriorityUrgent
	opts := StartOptions(testCaseID, r, testPolicy())

	assert.Equal(t, "case-zendesk-48213", opts.ID)
	assert.Equal(t, TaskQueue, opts.TaskQueue)
	assert.Equal(t, "zendesk #48213 · urgent · Refund not received", opts.StaticSummary)
	assert.Contains(t, opts.StaticDetails, "Customer reference: C-991")
	assert.Contains(t, opts.StaticDetails, r.CRMURL)
	assert.Contains(t, opts.StaticDetails, "Start tier 3")
	sa := opts.TypedSearchAttributes
	tier, ok := sa.GetInt64(SACaseTier)
	require.True(t, ok)
	assert.Equal(t, int64(3), tier)
	at, ok := sa.GetTime(SACloseTargetAt)
	require.True(t, ok)
	assert.Equal(t, t0.Add(30*day), at)
	for _, s := range []string{opts.ID, opts.StaticSummary, opts.StaticDetails, fmt.Sprint(opts.Memo)} {
		assert.NotContains(t, s, "Ada")
		assert.NotContains(t, s, "ada@example.com")
	}
	long := r
	long.Subject = strings.Repeat("é", 300)
	assert.LessOrEqual(t, len(StaticSummary(long)), 200)
}

// The rejection an Update returns comes back as the domain error on the client.
func TestRejectionRoundTrip(t *testing.T) {
	src := &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid escalate decision",
		Fields: []tierflow.FieldError{{Field: "summary", Message: "is required"}}}
	err := rejection(src)
	got, ok := AsCaseError(fmt.Errorf("update failed: %w", err))
	require.True(t, ok)
	assert.Equal(t, src.Code, got.Code)
	assert.Equal(t, src.Message, got.Message)
	assert.Equal(t, src.Fields, got.Fields)
	_, ok = AsCaseError(errors.New("context deadline exceeded"))
	assert.False(t, ok)
	assert.NoError(t, rejection(nil))
}

// The Temporal UI's current details follow each transition: tier, status, owner,
// next deadline, last decision, and no personal data.
func TestCurrentDetails(t *testing.T) {
	env, _ := testEnv(t, t0)
	var details string
	at(env, 30*time.Minute, func() {
		res, err := env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, res.Get(&md))
		details = md.GetCurrentDetails()
		names := []string{}
		for _, u := range md.GetDefinition().GetUpdateDefinitions() {
			assert.NotEmpty(t, u.GetDescription(), u.GetName())
			names = append(names, u.GetName())
		}
		assert.ElementsMatch(t, []string{UpdateDecide, UpdateCustomerEvent, UpdateSurvey, UpdateOpen}, names)
		for _, s := range md.GetDefinition().GetSignalDefinitions() {
			assert.NotEmpty(t, s.GetDescription(), s.GetName())
		}
		for _, q := range md.GetDefinition().GetQueryDefinitions() {
			if q.GetName() == QueryCase {
				assert.NotEmpty(t, q.GetDescription())
			}
		}
	})
	decideAt(t, env, 10*time.Minute, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, time.Hour, closeBy(supervisor, "end"))
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), testRequest()))
	result(t, env)

	assert.Contains(t, details, "**Tier 1 frontline**")
	assert.Contains(t, details, "status `in_progress`")
	assert.Contains(t, details, "Owner: agent-1")
	assert.Contains(t, details, "Next deadline: tier 1 resolve warning at 2026-11-19T04:10:00Z")
	assert.Contains(t, details, "Last decision: acknowledge by agent-1")
	assert.NotContains(t, details, "Ada")
	assert.NotContains(t, details, "ada@example.com")
}
