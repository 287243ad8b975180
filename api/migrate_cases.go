package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// CaseFinder lists the cases in flight that a Temporal visibility query matches.
type CaseFinder interface {
	// FindCases returns the IDs of at most limit running case workflows matching
	// query, or an invalid *tierflow.Error when Temporal refuses the query.
	FindCases(ctx context.Context, query string, limit int) ([]string, error)
}

// FindCases lists running case workflows matching query (visibility is
// eventually consistent: a case opened a moment ago may be missing). Only
// workflows of the case type count, whatever the query says.
func (t *temporalCases) FindCases(ctx context.Context, query string, limit int) ([]string, error) {
	full := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND (%s)", workflows.WorkflowName, query)
	var ids []string
	var token []byte
	for len(ids) < limit {
		resp, err := t.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: full, PageSize: int32(min(limit, 1000)), NextPageToken: token})
		var invalid *serviceerror.InvalidArgument
		if errors.As(err, &invalid) {
			return nil, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid migration", Err: err,
				Fields: []tierflow.FieldError{{Field: "query", Message: "is not a visibility query Temporal accepts"}}}
		}
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", caseError("", err))
		}
		for _, ex := range resp.GetExecutions() {
			if ex.GetType().GetName() != workflows.WorkflowName || ex.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				continue
			}
			if id, ok := strings.CutPrefix(ex.GetExecution().GetWorkflowId(), workflows.WorkflowID("")); ok && caseIDPattern.MatchString(id) {
				ids = append(ids, id)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return ids, nil
}

// migrateCases sends each case its migrate_policy decision, MigrationFanOut at
// a time. A case already under the target is left alone; the decision_id
// "migration:<id>" makes a repeated migration apply once per case (decision
// ids are remembered per case, so the migration id alone tells them apart).
func (s *server) migrateCases(ctx context.Context, views []tierflow.CaseView, target tierflow.Policy, reason, id string,
	actor tierflow.Principal) migrationSummary {
	summary := migrationSummary{Migrated: []string{}, Unchanged: []string{}, Refused: []migrationRefusal{}}
	outcomes := make([]error, len(views))
	sent := make([]bool, len(views))
	slots := make(chan struct{}, MigrationFanOut)
	var wg sync.WaitGroup
	for i, v := range views {
		if v.Policy.Name == target.Name && v.Policy.Version == target.Version {
			continue
		}
		sent[i] = true
		if !acquire(ctx, slots) {
			outcomes[i] = errMigrationOutOfTime
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			snapshot := target
			d := tierflow.Decision{Action: tierflow.ActionMigratePolicy, DecisionID: "migration:" + id, Actor: actor,
				Policy: target.Ref(), PolicySnapshot: &snapshot, Reason: reason}
			cctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
			defer cancel()
			_, err := s.Cases.Decide(cctx, v.ID, d)
			outcomes[i] = err
		}()
	}
	wg.Wait()
	for i, v := range views {
		switch {
		case !sent[i]:
			summary.Unchanged = append(summary.Unchanged, v.ID)
		case outcomes[i] == nil:
			summary.Migrated = append(summary.Migrated, v.ID)
		default:
			p := problemFor(outcomes[i])
			if p.Status >= 500 {
				s.Logger.Error("policy migration of a case failed", "case_id", v.ID, "migration_id", id, "error", outcomes[i])
			}
			summary.Refused = append(summary.Refused, migrationRefusal{CaseID: v.ID, Status: p.Status, Detail: p.Detail})
		}
	}
	return summary
}

// acquire takes a slot of the fan-out, or reports false once ctx is done.
func acquire(ctx context.Context, slots chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// MigrationBudget bounds a real run, well within the server's write timeout: the
// cases not reached by then are reported refused (503), and posting the same
// request again carries on where it stopped.
const MigrationBudget = 40 * time.Second

var errMigrationOutOfTime = tierflow.Errorf(tierflow.CodeUnavailable,
	"not attempted: the migration ran out of time; post the same request again to carry on")

// withPolicySnapshot attaches to a migrate_policy decision the content of the
// loaded policy it names (the workflow cannot read files); a name no loaded
// policy answers is refused. Other decisions pass as they are.
func (s *server) withPolicySnapshot(d tierflow.Decision) (tierflow.Decision, error) {
	if d.Action != tierflow.ActionMigratePolicy {
		return d, nil
	}
	name, err := tierflow.ParsePolicyName(d.Policy)
	if err != nil {
		return d, err
	}
	p, ok := s.Policies.Policy(name.Name)
	if !ok || !name.Matches(p) {
		return d, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid migrate_policy decision",
			Fields: []tierflow.FieldError{{Field: "policy", Message: "no loaded policy has this name and version"}}}
	}
	d.PolicySnapshot = &p
	return d, nil
}
