package workflows

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow"
)

// CaseDecider sends a case a decision as the API does: a decide Update whose ID
// derives from the decision id (so a repeat is applied once), waiting for its
// outcome. It is the migration activity's activities.CaseDecider; Client must
// sign its Updates (updateauth.ClientInterceptor), as the case workflow's
// worker refuses any other.
type CaseDecider struct{ Client client.Client }

// DecideCase answers nil once the case applied d, the *tierflow.Error it refused
// d with (CodeNotFound: no case runs with that id), or the error that kept it
// from answering.
func (c CaseDecider) DecideCase(ctx context.Context, caseID string, d tierflow.Decision) error {
	if d.DecisionID == "" {
		return tierflow.Errorf(tierflow.CodeInvalid, "a decision sent for a migration needs its decision_id")
	}
	handle, err := c.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: WorkflowID(caseID), UpdateName: UpdateDecide, UpdateID: "decision-" + d.DecisionID,
		Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if err == nil {
		return nil
	}
	if refused, ok := AsCaseError(err); ok {
		return refused
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return &tierflow.Error{Code: tierflow.CodeNotFound, Message: "no case " + caseID + " in flight", Err: err}
	}
	return fmt.Errorf("decide case %s: %w", caseID, err)
}
