package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// migrationProgress is GET /v1/policies/migrations/{id}: where a migration
// stands (status running, completed or failed); once completed, what became of
// each matched case.
type migrationProgress struct {
	MigrationID string             `json:"migration_id"`
	Policy      string             `json:"policy"`
	Status      string             `json:"status"`
	ProgressURL string             `json:"progress_url"`
	Total       int                `json:"total"`
	Done        int                `json:"done"`
	Pending     int                `json:"pending"`
	Migrated    []string           `json:"migrated"`
	Unchanged   []string           `json:"unchanged"` // already under the target policy
	Refused     []migrationRefusal `json:"refused"`
}

// migrationRefusal is a case that refused its decision, with the problem the
// decide endpoint would have answered (503: the case could not be reached).
type migrationRefusal struct {
	CaseID string `json:"case_id"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

var errNoMigrations = tierflow.Errorf(tierflow.CodeUnavailable, "bulk migration is not available on this server")

// progressURL is where a migration's progress is read.
func progressURL(migrationID string) string { return "/v1/policies/migrations/" + migrationID }

// newMigrationProgress is the workflow's progress as the API answers it: each
// refusal through problemFor, as the decide endpoint would have answered it.
func newMigrationProgress(p workflows.MigrationProgress) migrationProgress {
	out := migrationProgress{MigrationID: p.MigrationID, Policy: p.Policy, Status: p.Status,
		ProgressURL: progressURL(p.MigrationID), Total: p.Total, Done: p.Done, Pending: p.Pending,
		Migrated: orEmpty(p.Migrated), Unchanged: orEmpty(p.Unchanged), Refused: make([]migrationRefusal, len(p.Refused))}
	for i, r := range p.Refused {
		pr := problemFor(&tierflow.Error{Code: r.Code, Message: r.Message})
		out.Refused[i] = migrationRefusal{CaseID: r.CaseID, Status: pr.Status, Detail: pr.Detail}
	}
	return out
}

func orEmpty(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// getMigration: GET /v1/policies/migrations/{id} (supervisor, executive).
func (s *server) getMigration(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.Migrations == nil {
		s.writeError(w, r, errNoMigrations)
		return
	}
	if !migrationIDPattern.MatchString(id) {
		s.writeError(w, r, tierflow.Errorf(tierflow.CodeNotFound, "no migration %s", id))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
	defer cancel()
	progress, err := s.Migrations.MigrationProgress(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newMigrationProgress(progress))
}

// PolicyMigrations runs bulk policy migrations as PolicyMigration workflows.
type PolicyMigrations interface {
	// StartMigration starts the migration's workflow, or finds the one with its
	// id (running, or completed: then it is not started again), and answers the
	// target policy ("name@version") of the migration under the id, as its
	// workflow recorded it at its start: in.Policy.Ref() once started or found,
	// another (or "" when unknown) when the id is taken by a migration to
	// another target, whatever its state; then nothing is started.
	StartMigration(ctx context.Context, in workflows.PolicyMigrationInput) (target string, err error)
	// MigrationProgress answers where the migration stands: the workflow's query
	// while it runs, its result once completed; CodeNotFound when there is none.
	MigrationProgress(ctx context.Context, migrationID string) (workflows.MigrationProgress, error)
}

// startQueryWait bounds the query of a migration just started: until a worker
// has run its first task it cannot answer, and it stands at its start anyway.
const startQueryWait = 2 * time.Second

// StartMigration starts the migration (workflows.PolicyMigrationStartOptions:
// a running or completed workflow with its id is used instead; the SDK then
// answers that one's run), unless the latest workflow with its id, in any
// state, recorded another target in its memo: a failed or terminated one would
// otherwise be started again to the new target under the same id.
func (t *temporalCases) StartMigration(ctx context.Context, in workflows.PolicyMigrationInput) (string, error) {
	id := workflows.PolicyMigrationID(in.MigrationID)
	target, err := t.migrationTarget(ctx, in.MigrationID, id, "")
	switch {
	case err == nil && target != in.Policy.Ref():
		return target, nil
	case err != nil && tierflow.ErrorCode(err) != tierflow.CodeNotFound:
		return "", err
	}
	run, err := t.client.ExecuteWorkflow(ctx, workflows.PolicyMigrationStartOptions(in), workflows.PolicyMigrationWorkflowName, in)
	if err != nil {
		return "", migrationError(in.MigrationID, err)
	}
	// The run may be one another request started meanwhile, to another target.
	return t.migrationTarget(ctx, in.MigrationID, id, run.GetRunID())
}

// migrationTarget is the target a migration's workflow recorded in its memo
// at its start ("" for one started before it did); CodeNotFound when none runs
// or ran under its id.
func (t *temporalCases) migrationTarget(ctx context.Context, migrationID, workflowID, runID string) (string, error) {
	desc, err := t.client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return "", migrationError(migrationID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != workflows.PolicyMigrationWorkflowName {
		return "", tierflow.Errorf(tierflow.CodeNotFound, "no migration %s", migrationID)
	}
	var target string
	if p := info.GetMemo().GetFields()[workflows.MemoMigrationPolicy]; p != nil {
		if err := t.payloads.FromPayload(p, &target); err != nil {
			return "", fmt.Errorf("decode memo of migration %s: %w", migrationID, err)
		}
	}
	return target, nil
}

// MigrationProgress reads the migration's latest run: a running one answers its
// query, a completed one its result; one that ended otherwise (terminated,
// failed) is "failed", with the progress its query still answers, if any.
func (t *temporalCases) MigrationProgress(ctx context.Context, migrationID string) (workflows.MigrationProgress, error) {
	id := workflows.PolicyMigrationID(migrationID)
	desc, err := t.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return workflows.MigrationProgress{}, migrationError(migrationID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != workflows.PolicyMigrationWorkflowName {
		return workflows.MigrationProgress{}, tierflow.Errorf(tierflow.CodeNotFound, "no migration %s", migrationID)
	}
	runID := info.GetExecution().GetRunId()
	var progress workflows.MigrationProgress
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		err = t.client.GetWorkflow(ctx, id, runID).Get(ctx, &progress)
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		progress, err = t.queryMigration(ctx, id, runID)
	default:
		if progress, err = t.queryMigration(ctx, id, runID); err != nil {
			progress, err = workflows.MigrationProgress{MigrationID: migrationID}, nil
		}
		progress.Status = workflows.MigrationFailed
	}
	if err != nil {
		return workflows.MigrationProgress{}, migrationError(migrationID, err)
	}
	return progress, nil
}

func (t *temporalCases) queryMigration(ctx context.Context, id, runID string) (workflows.MigrationProgress, error) {
	var progress workflows.MigrationProgress
	val, err := t.client.QueryWorkflow(ctx, id, runID, workflows.QueryMigrationProgress)
	if err == nil {
		err = val.Get(&progress)
	}
	return progress, err
}

// migrationError is caseError's reading of a Temporal error, about a migration.
func migrationError(migrationID string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return &tierflow.Error{Code: tierflow.CodeNotFound, Message: "no migration " + migrationID, Err: err}
	}
	return caseError("", err)
}
