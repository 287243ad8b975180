package main

import (
	"context"
	"errors"
	"strings"

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

// rejection classifies a message the workflow refused. The workflow's convention
// (workflows.AsCaseError): the ApplicationError's type is "tierflow.<code>" and its
// details carry the safe message and field errors. Other application errors are
// classified by type (a bare tierflow.Code) or else by message: authority problems
// are 403, missing fields 422, expiry 410, the rest 409.
func rejection(e *temporal.ApplicationError) error {
	if ce, ok := workflows.AsCaseError(e); ok {
		ce.Err = e
		return ce
	}
	msg := e.Message()
	out := &tierflow.Error{Code: rejectionCode(e.Type(), msg), Message: msg, Err: e}
	if e.HasDetails() {
		var fields []tierflow.FieldError
		if e.Details(&fields) == nil {
			out.Fields = fields
		}
	}
	return out
}

func rejectionCode(errType, msg string) tierflow.Code {
	switch c := tierflow.Code(errType); c {
	case tierflow.CodeForbidden, tierflow.CodeInvalid, tierflow.CodeConflict, tierflow.CodeNotFound,
		tierflow.CodeGone, tierflow.CodeMalformed:
		return c
	case tierflow.CodeUnavailable:
		return tierflow.CodeUnavailable
	}
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "not allowed"), strings.Contains(m, "below the case's tier"),
		strings.Contains(m, "authority"), strings.Contains(m, "forbidden"):
		return tierflow.CodeForbidden
	case strings.Contains(m, "missing"), strings.Contains(m, "required"), strings.Contains(m, "invalid"):
		return tierflow.CodeInvalid
	case strings.Contains(m, "expired"):
		return tierflow.CodeGone
	}
	return tierflow.CodeConflict
}
