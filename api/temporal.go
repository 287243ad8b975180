package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// memoRequestSHA256 is the memo key holding an open request's fingerprint.
const memoRequestSHA256 = "request_sha256"

// openQueryWait bounds how long Open waits for a new workflow to answer its query
// before it answers with the case as the request describes it.
const openQueryWait = 5 * time.Second

// temporalCases is the CaseService over a Temporal client: one case, one workflow.
type temporalCases struct {
	client client.Client
	// payloads is the client's data converter (the codec's when payloads are
	// encrypted), for the payloads read outside the client's calls: the memo.
	payloads converter.DataConverter
	logger   *slog.Logger
	// openWait bounds the wait for a new case's first query (openQueryWait).
	openWait time.Duration
}

// newTemporalCases serves cases through c; payloads must be c's data converter
// (nil: the SDK's default, for a client without a codec).
func newTemporalCases(c client.Client, payloads converter.DataConverter, logger *slog.Logger) *temporalCases {
	if payloads == nil {
		payloads = converter.GetDefaultDataConverter()
	}
	return &temporalCases{client: c, payloads: payloads, logger: logger, openWait: openQueryWait}
}

// Open starts the case workflow, failing (not attaching) when one with the same ID
// exists, open or closed within retention; that workflow's memo tells a retry of the
// same request (the existing case) from a different request (a conflict).
func (t *temporalCases) Open(ctx context.Context, cmd OpenCommand) (tierflow.CaseView, bool, error) {
	input := workflows.CaseInput{Request: cmd.Request, Policy: cmd.Policy, OpenedBy: cmd.OpenedBy}
	run, err := t.client.ExecuteWorkflow(ctx, startOptions(cmd), workflows.WorkflowName, input)
	if err != nil {
		if isAlreadyStarted(err) {
			view, err := t.existing(ctx, cmd)
			return view, false, err
		}
		return tierflow.CaseView{}, false, caseError(cmd.CaseID, err)
	}
	return t.firstView(ctx, cmd, run.GetRunID()), true, nil
}

func isAlreadyStarted(err error) bool {
	var already *serviceerrorAlreadyStarted
	return errors.As(err, &already)
}

// existing answers a repeated open of cmd.CaseID.
func (t *temporalCases) existing(ctx context.Context, cmd OpenCommand) (tierflow.CaseView, error) {
	desc, err := t.client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(cmd.CaseID), "")
	if err != nil {
		return tierflow.CaseView{}, caseError(cmd.CaseID, err)
	}
	var stored string
	if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoRequestSHA256]; p != nil {
		if err := t.payloads.FromPayload(p, &stored); err != nil {
			return tierflow.CaseView{}, fmt.Errorf("decode memo of case %s: %w", cmd.CaseID, err)
		}
	}
	if stored != cmd.Fingerprint {
		return tierflow.CaseView{}, tierflow.Errorf(tierflow.CodeConflict,
			"case %s already exists with a different request", cmd.CaseID)
	}
	return t.Get(ctx, cmd.CaseID)
}

// firstView is the new case from the workflow's query. A workflow answers queries
// once its first task ran; when no worker does so within openQueryWait, the case is
// described from the request (it will read the same once a worker picks it up).
func (t *temporalCases) firstView(ctx context.Context, cmd OpenCommand, runID string) tierflow.CaseView {
	waitCtx, cancel := context.WithTimeout(ctx, t.openWait)
	defer cancel()
	for {
		view, err := t.Get(waitCtx, cmd.CaseID)
		if err == nil {
			return view
		}
		select {
		case <-waitCtx.Done():
			t.logger.Warn("new case did not answer its query; answering from the request",
				slog.String("case_id", cmd.CaseID), slog.String("error", err.Error()))
			return provisionalView(cmd, runID)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// provisionalView describes a case that was just started, before its workflow ran.
func provisionalView(cmd OpenCommand, runID string) tierflow.CaseView {
	req := cmd.Request
	return tierflow.CaseView{
		ID: cmd.CaseID, Source: req.Source, ExternalID: req.ExternalID, Status: tierflow.StatusOpen,
		Tier: cmd.Policy.StartTierFor(req), StartTier: cmd.Policy.StartTierFor(req), Department: req.Department,
		Priority: req.Priority, Category: req.Category, Subject: req.Subject, Trigger: req.Trigger,
		Channel: req.Channel, Customer: req.Customer,
		Policy:   tierflow.PolicyRef{Name: cmd.Policy.Name, Version: cmd.Policy.Version},
		OpenedAt: req.OpenedAt.UTC(), Breaches: []tierflow.Breach{}, Compensation: []tierflow.Compensation{},
		Workflow: tierflow.WorkflowRef{ID: workflows.WorkflowID(cmd.CaseID), RunID: runID},
	}
}

// Get queries the case's workflow.
func (t *temporalCases) Get(ctx context.Context, caseID string) (tierflow.CaseView, error) {
	var view tierflow.CaseView
	val, err := t.client.QueryWorkflow(ctx, workflows.WorkflowID(caseID), "", workflows.QueryCase)
	if err != nil {
		return view, caseError(caseID, err)
	}
	if err := val.Get(&view); err != nil {
		return view, fmt.Errorf("decode case %s: %w", caseID, err)
	}
	return view, nil
}

// Decide sends the decision as an Update and waits for its outcome. The decision ID,
// when given, is the Update ID, so a retried request is applied once.
func (t *temporalCases) Decide(ctx context.Context, caseID string, d tierflow.Decision) (tierflow.CaseView, error) {
	opts := client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(caseID), UpdateName: workflows.UpdateDecide,
		Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if d.DecisionID != "" {
		opts.UpdateID = "decision-" + d.DecisionID
	}
	return t.update(ctx, caseID, opts)
}

// CustomerEvent sends the event as an Update and waits for its outcome, so that a
// rejection (say, a reply to a closed case) reaches the caller. The event ID, when
// given, is the Update ID, so a retried request is applied once.
func (t *temporalCases) CustomerEvent(ctx context.Context, caseID string, e tierflow.CustomerEvent) error {
	opts := client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(caseID), UpdateName: workflows.UpdateCustomerEvent,
		Args: []any{e}, WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if e.EventID != "" {
		opts.UpdateID = "customer-event-" + e.EventID
	}
	_, err := t.update(ctx, caseID, opts)
	return err
}

// AnswerSurvey sends the survey response as an Update and waits for its outcome.
func (t *temporalCases) AnswerSurvey(ctx context.Context, caseID string, r tierflow.SurveyResponse) (tierflow.CaseView, error) {
	return t.update(ctx, caseID, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(caseID), UpdateName: workflows.UpdateSurvey,
		Args: []any{r}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
}

func (t *temporalCases) update(ctx context.Context, caseID string, opts client.UpdateWorkflowOptions) (tierflow.CaseView, error) {
	var view tierflow.CaseView
	handle, err := t.client.UpdateWorkflow(ctx, opts)
	if err != nil {
		return view, caseError(caseID, err)
	}
	if err := handle.Get(ctx, &view); err != nil {
		return view, caseError(caseID, err)
	}
	return view, nil
}

// Ping checks that the Temporal frontend answers.
func (t *temporalCases) Ping(ctx context.Context) error {
	_, err := t.client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// startOptions are the options of a case workflow's start: a deterministic ID that
// fails rather than attaches or reuses, the request's fingerprint in the memo, the
// operator-facing static summary and details, and the initial search attributes.
func startOptions(cmd OpenCommand) client.StartWorkflowOptions {
	opts := workflows.StartOptions(cmd.CaseID, cmd.Request, cmd.Policy)
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true
	if opts.Memo == nil {
		opts.Memo = map[string]any{}
	}
	opts.Memo[memoRequestSHA256] = cmd.Fingerprint
	return opts
}
