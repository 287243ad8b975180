package activities

import (
	"context"
	"encoding/json"
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
// forward, writes its emails into the outbox (in.Emails, a scheduled batch with
// its NotBefore) and withdraws the batches in.CancelEmails, in one transaction;
// safe to retry. Invalid input is not retried (the workflow then
// sends the emails itself).
func (a *Activities) RecordTransition(ctx context.Context, in RecordTransitionInput) error {
	what := fmt.Sprintf("record transition of case %s", in.CaseID)
	if len(in.Emails) == 0 {
		if err := a.Store.RecordTransition(ctx, in.Transition); err != nil {
			return activityError(what, err)
		}
		return nil
	}
	outbox := a.outbox()
	if outbox == nil {
		return invalidInput("%s: emails for the outbox, and the store keeps no outbox", what)
	}
	batches := make([]tierflow.OutboxBatch, len(in.Emails))
	for i, e := range in.Emails {
		raw, err := json.Marshal(NotifyInput{CaseID: in.CaseID, Messages: e.Messages})
		if err != nil {
			return invalidInput("%s: emails of event %d: %v", what, e.Seq, err)
		}
		batches[i] = tierflow.OutboxBatch{Seq: e.Seq, Batch: raw, NotBefore: e.NotBefore}
	}
	if err := outbox.RecordTransitionWithOutbox(ctx, in.Transition, batches); err != nil {
		return activityError(what, err)
	}
	return nil
}

// outbox is a.Outbox, or the Store when it keeps one (postgres.Store does).
func (a *Activities) outbox() tierflow.Outbox {
	if a.Outbox != nil {
		return a.Outbox
	}
	o, _ := a.Store.(tierflow.Outbox)
	return o
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
