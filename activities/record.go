package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
)

// Error types of activity failures a retry cannot fix (the workflow lists them as
// non-retryable and records them on the case).
const (
	ErrTypeInvalidInput  = "InvalidInput"
	ErrTypeEmailRejected = "EmailRejected"
	// ErrTypeEmailUnavailable is retryable: the provider is down or rate-limits us,
	// nothing was sent, and the error's NextRetryDelay says when to try again.
	ErrTypeEmailUnavailable = "EmailUnavailable"
)

// RecordTransition appends the transition's events and moves the case projection
// forward, in one transaction; safe to retry. Invalid input is not retried.
func (a *Activities) RecordTransition(ctx context.Context, in RecordTransitionInput) error {
	if err := a.Store.RecordTransition(ctx, in); err != nil {
		return activityError(fmt.Sprintf("record transition of case %s", in.CaseID), err)
	}
	return nil
}

// activityError turns a dependency's error into what Temporal should do with it:
// CodeInvalid never gets better and is non-retryable; the rest is retried with the
// workflow's backoff.
func activityError(what string, err error) error {
	if tierflow.ErrorCode(err) == tierflow.CodeInvalid {
		return temporal.NewNonRetryableApplicationError(what+": "+err.Error(), ErrTypeInvalidInput, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// invalidInput is a non-retryable error about the activity's own input.
func invalidInput(format string, args ...any) error {
	err := tierflow.Errorf(tierflow.CodeInvalid, format, args...)
	return temporal.NewNonRetryableApplicationError(err.Message, ErrTypeInvalidInput, err)
}
