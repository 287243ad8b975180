package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

func TestCaseErrorClassifiesTemporalErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code tierflow.Code
	}{
		{"domain error kept", tierflow.Errorf(tierflow.CodeGone, "expired"), tierflow.CodeGone},
		{"workflow not found", serviceerror.NewNotFound("workflow not found"), tierflow.CodeNotFound},
		{"wrapped not found", fmt.Errorf("query: %w", serviceerror.NewNotFound("gone")), tierflow.CodeNotFound},
		{"server unavailable", serviceerror.NewUnavailable("connection refused"), tierflow.CodeUnavailable},
		{"deadline", context.DeadlineExceeded, tierflow.CodeUnavailable},
		{"update timed out", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded), tierflow.CodeUnavailable},
		{"throttled", serviceerror.NewResourceExhausted(0, "busy"), tierflow.CodeUnavailable},
		{"typed forbidden", temporal.NewApplicationError("tier 2 may not approve", "forbidden"), tierflow.CodeForbidden},
		{"typed conflict", temporal.NewApplicationError("the case is resolved", "conflict"), tierflow.CodeConflict},
		{"typed invalid", temporal.NewApplicationError("explanation is required", "invalid"), tierflow.CodeInvalid},
		{"typed gone", temporal.NewApplicationError("survey expired", "gone"), tierflow.CodeGone},
		// Not Tierflow's own type: the message is not trusted, whatever it says.
		{"foreign type", temporal.NewApplicationError("actor lacks the authority", "Error"), tierflow.CodeInternal},
		{"untyped", temporal.NewApplicationError("summary is required", ""), tierflow.CodeInternal},
		{"unknown tierflow code", temporal.NewApplicationError("x", "tierflow.bogus"), tierflow.CodeInternal},
		{"unknown", fmt.Errorf("boom"), tierflow.CodeInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := caseError("zendesk-1", tc.err)
			assert.Equal(t, tc.code, tierflow.ErrorCode(got))
			assert.ErrorIs(t, got, tc.err, "the cause is kept for the logs")
		})
	}
}

func TestRejectionFollowsTheWorkflowConvention(t *testing.T) {
	fields := []tierflow.FieldError{{Field: "explanation", Message: "is required at tier 3+"}}
	for code, want := range map[string]tierflow.Code{
		"tierflow.forbidden": tierflow.CodeForbidden, "tierflow.conflict": tierflow.CodeConflict,
		"tierflow.invalid": tierflow.CodeInvalid, "tierflow.gone": tierflow.CodeGone,
	} {
		appErr := temporal.NewApplicationErrorWithOptions("full text: explanation is required at tier 3+", code,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{"invalid resolve decision", fields}})
		err := caseError("zendesk-1", fmt.Errorf("update: %w", appErr))
		var e *tierflow.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, want, e.Code, code)
		assert.Equal(t, "invalid resolve decision", e.Message)
		assert.Equal(t, fields, e.Fields)
	}
}

func TestRejectionCarriesFieldErrors(t *testing.T) {
	fields := []tierflow.FieldError{{Field: "explanation", Message: "is required at tier 3+"}}
	err := caseError("zendesk-1", temporal.NewApplicationError("invalid resolve decision", "invalid", fields))
	var e *tierflow.Error
	assert.ErrorAs(t, err, &e)
	assert.Equal(t, fields, e.Fields)
	assert.Equal(t, "invalid resolve decision", e.Message)
}
