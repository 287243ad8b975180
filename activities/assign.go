package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"
)

// AssignOwner picks the owner for a tier and department from the staff directory:
// the active member with the fewest open cases, or the tier's queue when nobody
// serves it.
func (a *Activities) AssignOwner(ctx context.Context, in AssignOwnerInput) (AssignOwnerResult, error) {
	if !in.Tier.Valid() {
		return AssignOwnerResult{}, invalidInput("assign owner of case %s: tier %d is not 1-4", in.CaseID, in.Tier)
	}
	m, ok, err := a.Store.PickAssignee(ctx, in.Tier, in.Department)
	if err != nil {
		return AssignOwnerResult{}, activityError(fmt.Sprintf("assign owner of case %s", in.CaseID), err)
	}
	log := activity.GetLogger(ctx)
	if !ok {
		log.Info("nobody serves the tier; the queue owns the case",
			"case_id", in.CaseID, "tier", int(in.Tier), "department", in.Department)
		return AssignOwnerResult{Queue: in.QueueAddress}, nil
	}
	log.Info("owner proposed", "case_id", in.CaseID, "tier", int(in.Tier), "department", in.Department,
		"assignee_id", m.ID)
	return AssignOwnerResult{AssigneeID: m.ID, AssigneeName: m.Name}, nil
}
