package updateauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RejectionType is the ApplicationError type of an Update the worker refused for
// want of a valid signature. It is not a "tierflow.<code>" rejection: when the API
// itself meets it, its keys and the worker's differ, a server fault.
const RejectionType = "UpdateNotSignedByTierflowAPI"

// ClientInterceptor signs every Update the client sends. Put it on the API's
// Temporal client (client.Options.Interceptors); it is not a worker interceptor.
func ClientInterceptor(s *Signer) interceptor.ClientInterceptor {
	return &clientInterceptor{signer: s}
}

type clientInterceptor struct {
	interceptor.ClientInterceptorBase
	signer *Signer
}

func (c *clientInterceptor) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	return &clientOutbound{ClientOutboundInterceptorBase: interceptor.ClientOutboundInterceptorBase{Next: next}, signer: c.signer}
}

type clientOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	signer *Signer
}

func (c *clientOutbound) UpdateWorkflow(ctx context.Context, in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if err := c.sign(ctx, Message{UpdateName: in.UpdateName, UpdateID: in.UpdateID, WorkflowID: in.WorkflowID,
		Args: in.Args}); err != nil {
		return nil, err
	}
	return c.Next.UpdateWorkflow(ctx, in)
}

// UpdateWithStartWorkflow signs the Update; its options must name the workflow ID
// (the SDK would otherwise take it from the start operation, after this point).
func (c *clientOutbound) UpdateWithStartWorkflow(ctx context.Context, in *interceptor.ClientUpdateWithStartWorkflowInput) (client.WorkflowUpdateHandle, error) {
	opts := in.UpdateOptions
	if opts == nil || opts.WorkflowID == "" {
		return nil, errors.New("updateauth: set UpdateOptions.WorkflowID to sign an update-with-start")
	}
	if opts.UpdateID == "" {
		id, err := randomID()
		if err != nil {
			return nil, err
		}
		opts.UpdateID = id // opts is the SDK's copy of the caller's options
	}
	if err := c.sign(ctx, Message{UpdateName: opts.UpdateName, UpdateID: opts.UpdateID, WorkflowID: opts.WorkflowID,
		Args: opts.Args}); err != nil {
		return nil, err
	}
	return c.Next.UpdateWithStartWorkflow(ctx, in)
}

func (c *clientOutbound) sign(ctx context.Context, m Message) error {
	h := interceptor.Header(ctx)
	if h == nil {
		return errors.New("updateauth: the Temporal client gave no header to write the signature to")
	}
	p, err := c.signer.Sign(m)
	if err != nil {
		return err
	}
	h[HeaderKey] = p
	return nil
}

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("updateauth: update id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// WorkerInterceptor refuses, in validation, every Update to this worker's
// workflows that lacks a valid signature: deny by default, so an Update added
// later is covered too. Put it on the worker (worker.Options.Interceptors) that
// runs the case workflow.
func WorkerInterceptor(v *Verifier) interceptor.WorkerInterceptor {
	return &workerInterceptor{verifier: v}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	verifier *Verifier
}

func (w *workerInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next},
		verifier: w.verifier}
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	verifier *Verifier
}

// ValidateUpdate runs before the workflow's own validator, and only when the
// Update is new: the SDK skips validation on replay (see the package doc).
func (w *workflowInbound) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	m := Message{UpdateName: in.Name, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Args: in.Args}
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		m.UpdateID = info.ID
	}
	// Verify reads the wall clock: safe, as validation never runs on replay.
	//workflowcheck:ignore
	if err := w.verifier.Verify(m, interceptor.WorkflowHeader(ctx)[HeaderKey]); err != nil {
		return Rejection(in.Name, err)
	}
	return w.Next.ValidateUpdate(ctx, in)
}

// Rejection is the error an unsigned or badly signed Update is refused with: it
// says why, and what an operator should do instead.
func Rejection(updateName string, why error) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(
		"update %q refused: %v. This workflow accepts Updates only from the Tierflow API, which authenticates "+
			"the person acting: use the API (POST /v1/cases/{id}/decisions), or send the `decision` Signal from "+
			"the Temporal UI or CLI, which is checked against the staff directory", updateName, why),
		RejectionType, temporal.ApplicationErrorOptions{NonRetryable: true})
}
