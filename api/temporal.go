package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// memoRequestSHA256 is the memo key holding an open request's fingerprint.
const memoRequestSHA256 = "request_sha256"

// temporalCases is the CaseService over a Temporal client: one case, one workflow.
type temporalCases struct {
	client client.Client
	// payloads is the client's data converter (the codec's when payloads are
	// encrypted), for the payloads read outside the client's calls: the memo.
	payloads converter.DataConverter
	// records is the durable record the case after an Update is read from: the
	// workflow answers a receipt (tierflow.Receipt), not the case.
	records tierflow.CaseReader
	logger  *slog.Logger
	// codeLevel is the code level new cases start at (workflows.CaseInput.Code):
	// workflows.CurrentCode unless TIERFLOW_CASE_CODE_LEVEL lowers it.
	codeLevel int
}

// newTemporalCases serves cases through c and records; payloads must be c's data
// converter (nil: the SDK's default, for a client without a codec).
func newTemporalCases(c client.Client, payloads converter.DataConverter, records tierflow.CaseReader, logger *slog.Logger) *temporalCases {
	if payloads == nil {
		payloads = converter.GetDefaultDataConverter()
	}
	return &temporalCases{client: c, payloads: payloads, records: records, logger: logger, codeLevel: workflows.CurrentCode}
}

// openAnswer is the open Update's answer (workflows.OpenAnswer) as the API reads
// it: a receipt under "case", or the whole case from a worker before receipts.
type openAnswer struct {
	Case    tierflow.CaseAnswer `json:"case"`
	Created bool                `json:"created"`
}

// Open starts the case workflow with the open Update (Update-with-Start, one
// round trip) and answers with the workflow's own first state, read from the
// record, which holds it when the Update answers. A running workflow with the case's ID gets the Update instead (ID
// conflict policy "use existing"): it answers the case as it is, or rejects a
// different request as a conflict. A closed one is never started again (ID reuse
// policy "reject duplicate"); it, and a running workflow whose worker predates the
// open Update, are answered from the memo's fingerprint and the query (existing).
func (t *temporalCases) Open(ctx context.Context, cmd OpenCommand) (tierflow.CaseView, bool, error) {
	requestID, err := newOpenRequestID()
	if err != nil {
		return tierflow.CaseView{}, false, err
	}
	// The case runs at the configured level (TIERFLOW_CASE_CODE_LEVEL, this
	// code's by default): workers are deployed before the API, so they know it,
	// and a lower level lets workers that predate it run the case.
	input := workflows.CaseInput{Request: cmd.Request, Policy: cmd.Policy, OpenedBy: cmd.OpenedBy, OpenRequestID: requestID,
		Code: t.codeLevel}
	start := t.client.NewWithStartWorkflowOperation(startOptions(cmd), workflows.WorkflowName, input)
	var answer openAnswer
	handle, err := t.client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			// The workflow ID is set for internal/updateauth, which signs it.
			WorkflowID: workflows.WorkflowID(cmd.CaseID), UpdateID: "open-" + requestID,
			UpdateName: workflows.UpdateOpen, WaitForStage: client.WorkflowUpdateStageCompleted,
			Args: []any{workflows.OpenRequest{Fingerprint: cmd.Fingerprint, RequestID: requestID}},
		},
	})
	if err == nil {
		err = handle.Get(ctx, &answer)
	}
	switch {
	case err == nil:
		view, err := t.caseAfter(ctx, cmd.CaseID, answer.Case)
		return view, answer.Created, err
	case isAlreadyStarted(err):
		view, err := t.existing(ctx, cmd)
		return view, false, err
	case isUnknownUpdate(err):
		t.logger.Info("open case: the workflow's worker has no open Update; answering from its memo and query",
			slog.String("case_id", cmd.CaseID))
		view, err := t.existing(ctx, cmd)
		return view, false, err
	}
	return tierflow.CaseView{}, false, caseError(cmd.CaseID, err)
}

// newOpenRequestID is a random ID for one open request (workflows.OpenRequest).
func newOpenRequestID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("open request id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func isAlreadyStarted(err error) bool {
	var already *serviceerrorAlreadyStarted
	return errors.As(err, &already)
}

// isUnknownUpdate reports the Go SDK's rejection of an Update the workflow has no
// handler for ("unknown update open. KnownUpdates=[...]", internal_update.go):
// the workflow runs on a worker from before the open Update. The SDK gives the
// rejection no type of its own, so its text is all there is to match.
func isUnknownUpdate(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	if _, ours := workflows.AsCaseError(appErr); ours {
		return false
	}
	return strings.HasPrefix(appErr.Message(), "unknown update "+workflows.UpdateOpen+".")
}

// existing answers a repeated open of cmd.CaseID from the workflow's memo (the
// fingerprint of the request that opened it) and its query.
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
	// The API answers 202 without the case: the receipt is not even read.
	handle, err := t.client.UpdateWorkflow(ctx, opts)
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if err != nil {
		return caseError(caseID, err)
	}
	return nil
}

// AnswerSurvey sends the survey response as an Update and waits for its outcome.
func (t *temporalCases) AnswerSurvey(ctx context.Context, caseID string, r tierflow.SurveyResponse) (tierflow.CaseView, error) {
	return t.update(ctx, caseID, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(caseID), UpdateName: workflows.UpdateSurvey,
		Args: []any{r}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
}

// update sends an Update and answers the case after it (caseAfter).
func (t *temporalCases) update(ctx context.Context, caseID string, opts client.UpdateWorkflowOptions) (tierflow.CaseView, error) {
	var answer tierflow.CaseAnswer
	handle, err := t.client.UpdateWorkflow(ctx, opts)
	if err != nil {
		return tierflow.CaseView{}, caseError(caseID, err)
	}
	if err := handle.Get(ctx, &answer); err != nil {
		return tierflow.CaseView{}, caseError(caseID, err)
	}
	return t.caseAfter(ctx, caseID, answer)
}

// caseAfter is the case an Update's answer stands for. A worker from before
// receipts answered the whole case. A receipt is read from the record, which
// holds the Update's transition when the Update answers; only when the record is
// behind the receipt (its write deferred by a database outage; the workflow
// retries it every minute) or cannot be read is the workflow's query asked,
// which is always current.
func (t *temporalCases) caseAfter(ctx context.Context, caseID string, a tierflow.CaseAnswer) (tierflow.CaseView, error) {
	if a.View != nil {
		return *a.View, nil
	}
	view, err := t.records.GetCase(ctx, caseID)
	if err == nil && view.Seq >= a.Receipt.Seq {
		return view, nil
	}
	attrs := []any{slog.String("case_id", caseID), slog.Int64("receipt_seq", a.Receipt.Seq)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int64("record_seq", view.Seq))
	}
	t.logger.Warn("the case's record is behind its workflow (record deferred); answering from the case query", attrs...)
	return t.Get(ctx, caseID)
}

// Ping checks that the Temporal frontend answers.
func (t *temporalCases) Ping(ctx context.Context) error {
	_, err := t.client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// startOptions are the options of a case workflow's start: a deterministic ID
// whose running workflow receives the open Update instead of a second start, and
// whose closed workflow is never started again; the request's fingerprint in the
// memo; the operator-facing static summary and details; the initial search
// attributes.
func startOptions(cmd OpenCommand) client.StartWorkflowOptions {
	opts := workflows.StartOptions(cmd.CaseID, cmd.Request, cmd.Policy)
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	if opts.Memo == nil {
		opts.Memo = map[string]any{}
	}
	opts.Memo[memoRequestSHA256] = cmd.Fingerprint
	return opts
}
