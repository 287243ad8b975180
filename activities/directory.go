package activities

import (
	"context"
	"fmt"

	"github.com/tierflow/tierflow"
)

// LookUpStaff reads one member of the staff directory, active or not, so that the
// workflow can check the actor a signalled decision names (a Signal carries its
// actor in its payload; an Update from the API carries the authenticated
// principal). An unknown ID is a result (Found false), not an error; a directory
// that cannot answer fails the attempt, and the workflow retries it briefly.
func (a *Activities) LookUpStaff(ctx context.Context, in LookUpStaffInput) (LookUpStaffResult, error) {
	if in.StaffID == "" || len(in.StaffID) > tierflow.MaxIDLen {
		return LookUpStaffResult{}, invalidInput("look up staff for case %s: staff_id must be 1-%d characters", in.CaseID, tierflow.MaxIDLen)
	}
	m, ok, err := a.Store.StaffByID(ctx, in.StaffID)
	if err != nil {
		return LookUpStaffResult{}, activityError(fmt.Sprintf("look up staff %s for case %s", in.StaffID, in.CaseID), err)
	}
	if !ok {
		return LookUpStaffResult{}, nil
	}
	return LookUpStaffResult{Found: true, Active: m.Active, Member: tierflow.Principal{ID: m.ID, Name: m.Name, Role: m.Role,
		Tier: m.Tier, Departments: m.Departments}}, nil
}
