package main

import (
	"context"
	"errors"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

type serviceerrorAlreadyStarted = serviceerror.WorkflowExecutionAlreadyStarted

// caseError turns an error from the Temporal client into a *tierflow.Error the API can
// answer with: a missing workflow is CodeNotFound, an unreachable server or a message
// nobody processed in time is CodeUnavailable, and a message the workflow rejected is
// classified by rejectionCode. The cause is kept for the logs.
func caseError(caseID string, err error) error {
	var te *tierflow.Error
	if errors.As(err, &te) {
		return err
	}
	var (
		notFound  *serviceerror.NotFound
		appErr    *temporal.ApplicationError
		timeout   *client.WorkflowUpdateServiceTimeoutOrCanceledError
		already   *serviceerror.WorkflowExecutionAlreadyStarted
		exhausted *serviceerror.ResourceExhausted
		down      *serviceerror.Unavailable
		deadline  *serviceerror.DeadlineExceeded
		canceled  *serviceerror.Canceled
	)
	switch {
	case errors.As(err, &appErr):
		return rejection(appErr)
	case errors.As(err, &notFound):
		return &tierflow.Error{Code: tierflow.CodeNotFound, Message: "no case " + caseID, Err: err}
	case errors.As(err, &already):
		return &tierflow.Error{Code: tierflow.CodeConflict, Message: "case " + caseID + " already exists", Err: err}
	case errors.As(err, &timeout), errors.As(err, &deadline), errors.As(err, &canceled),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &tierflow.Error{Code: tierflow.CodeUnavailable,
			Message: "the case did not answer in time (no worker is processing it); retry later", Err: err}
	case errors.As(err, &down), errors.As(err, &exhausted):
		return &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "Temporal is unavailable; retry later", Err: err}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		return &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "Temporal is unavailable; retry later", Err: err}
	case codes.FailedPrecondition:
		return &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "the case is not ready yet; retry later", Err: err}
	}
	return &tierflow.Error{Code: tierflow.CodeInternal, Err: err}
}

// rejection classifies a message the workflow refused. Only Tierflow's own errors
// pass their code, message and field errors through: the workflow's convention
// (workflows.AsCaseError: type "tierflow.<code>", the safe message and fields in the
// details) or a type that is itself one of ownCodes. Any other ApplicationError (a
// panic, an SDK or library error, another service's type) may carry internal text:
// it becomes CodeInternal, answered with a fixed message and logged with the
// request id by writeError.
func rejection(e *temporal.ApplicationError) error {
	if ce, ok := workflows.AsCaseError(e); ok && ownCodes[ce.Code] {
		ce.Err = e
		return ce
	}
	if code := tierflow.Code(e.Type()); ownCodes[code] {
		out := &tierflow.Error{Code: code, Message: e.Message(), Err: e}
		if e.HasDetails() {
			var fields []tierflow.FieldError
			if e.Details(&fields) == nil {
				out.Fields = fields
			}
		}
		return out
	}
	return &tierflow.Error{Code: tierflow.CodeInternal, Err: e}
}

// ownCodes are the codes a workflow rejects a message with; their messages are
// written for the caller.
var ownCodes = map[tierflow.Code]bool{
	tierflow.CodeForbidden: true, tierflow.CodeInvalid: true, tierflow.CodeConflict: true,
	tierflow.CodeNotFound: true, tierflow.CodeGone: true, tierflow.CodeMalformed: true,
	tierflow.CodeUnavailable: true,
}
