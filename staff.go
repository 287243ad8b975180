package tierflow

import (
	"context"
	"strings"
)

// Role is what an authenticated principal may do.
type Role string

// Roles of principals.
const (
	RoleIntegration Role = "integration"
	RoleAgent       Role = "agent"
	RoleSpecialist  Role = "specialist"
	RoleSupervisor  Role = "supervisor"
	RoleExecutive   Role = "executive"
	RoleViewer      Role = "viewer"
	// RoleSystem is the workflow itself acting on a timer (never a caller).
	RoleSystem Role = "system"
)

// Valid reports whether r is a role a caller can hold.
func (r Role) Valid() bool {
	return oneOf(r, []Role{RoleIntegration, RoleAgent, RoleSpecialist, RoleSupervisor, RoleExecutive, RoleViewer})
}

// DecidingTier is the tier a role decides at, or 0 for roles that cannot decide.
func (r Role) DecidingTier() Tier {
	switch r {
	case RoleAgent:
		return TierFrontline
	case RoleSpecialist:
		return TierSpecialist
	case RoleSupervisor:
		return TierSupervisor
	case RoleExecutive:
		return TierExecutive
	}
	return 0
}

// Principal is an authenticated caller, or the system. The actor of a decision is
// always the principal that sent it, never a field of a request body.
type Principal struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Role        Role     `json:"role"`
	Tier        Tier     `json:"tier,omitempty"`
	Departments []string `json:"departments,omitempty"`
}

// SystemActor is the actor of automatic steps (timers, breaches).
var SystemActor = Principal{ID: "tierflow", Name: "Tierflow", Role: RoleSystem}

// InDepartment reports whether the principal serves dept (a principal with no
// departments serves all of them).
func (p Principal) InDepartment(dept string) bool {
	if len(p.Departments) == 0 || dept == "" {
		return true
	}
	for _, d := range p.Departments {
		if strings.EqualFold(d, dept) {
			return true
		}
	}
	return false
}

// StaffMember is a person or queue in the staff directory.
type StaffMember struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	Role        Role     `json:"role"`
	Tier        Tier     `json:"tier"`
	Departments []string `json:"departments,omitempty"`
	Active      bool     `json:"active"`
}

// Directory answers who serves a tier and department.
type Directory interface {
	// PickAssignee returns the active member of the tier (and department, when given)
	// with the fewest open cases, ties by name; ok is false when nobody serves it.
	PickAssignee(ctx context.Context, tier Tier, department string) (m StaffMember, ok bool, err error)
	// StaffByID returns one member.
	StaffByID(ctx context.Context, id string) (StaffMember, bool, error)
	// Supervisors returns active members of tier or above (for warnings and approvals).
	StaffAtTier(ctx context.Context, tier Tier, department string) ([]StaffMember, error)
}
