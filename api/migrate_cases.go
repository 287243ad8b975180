package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
