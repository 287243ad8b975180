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

// RequiresDepartments reports whether a principal or staff member of role r must
// name the departments they serve: agents and specialists work a department's
// queue. Supervisors and executives oversee every department unless they name some.
func (r Role) RequiresDepartments() bool {
	return r == RoleAgent || r == RoleSpecialist
}

// Principal is an authenticated caller, or the system. The actor of a decision is
// always the principal that sent it, never a field of a request body.
type Principal struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Role        Role     `json:"role"`
	Tier        Tier     `json:"tier,omitempty"`
	Departments []string `json:"departments,omitempty"`
	// AllowedSources scopes an integration to the CRM sources it may open, read
	// and send customer events for; empty means every source (see AllowsSource).
	// It is the API's authorization setting, not part of the actor a case
	// records, so it is never serialised.
	AllowedSources []string `json:"-"`
}

// SystemActor is the actor of automatic steps (timers, breaches).
var SystemActor = Principal{ID: "tierflow", Name: "Tierflow", Role: RoleSystem}

// InDepartment reports whether the principal serves dept. A case without a
// department is served by everyone at its tier. A principal with no departments
// serves every department only when its role does not require them (supervisors,
// executives); an agent or specialist without departments serves none: a missing
// list is a configuration error, never a grant of everything.
func (p Principal) InDepartment(dept string) bool {
	if dept == "" {
		return true
	}
	if len(p.Departments) == 0 {
		return !p.Role.RequiresDepartments()
	}
	for _, d := range p.Departments {
		if strings.EqualFold(d, dept) {
			return true
		}
	}
	return false
}

// AllowsSource reports whether the principal may open, read and relay customer
// events for cases of the CRM source (compared exactly, as case IDs are). Only
// integrations are scoped by source; an integration without AllowedSources may
// reach every source (the behaviour before scoping, kept for existing token files;
// production operators should scope every integration token).
func (p Principal) AllowsSource(source string) bool {
	if p.Role != RoleIntegration || len(p.AllowedSources) == 0 {
		return true
	}
	for _, s := range p.AllowedSources {
		if s == source {
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

// Validate checks a member of the staff directory: agents and specialists must
// name the departments they serve (see Principal.InDepartment).
func (m StaffMember) Validate() error {
	var v Validation
	v.Check(m.ID != "", "id", "is required")
	v.Check(m.Name != "", "name", "is required")
	v.Check(strings.Contains(m.Email, "@"), "email", "must be an email address, got %q", m.Email)
	v.Check(m.Role.Valid(), "role", "unknown role %q", m.Role)
	v.Check(m.Tier.Valid(), "tier", "must be 1 to 4, got %d", m.Tier)
	v.Check(!m.Role.RequiresDepartments() || hasDepartment(m.Departments), "departments",
		"are required for role %s: agents and specialists serve only the departments listed", m.Role)
	return v.Err("invalid staff member")
}

// hasDepartment reports whether depts names at least one non-blank department.
func hasDepartment(depts []string) bool {
	for _, d := range depts {
		if strings.TrimSpace(d) != "" {
			return true
		}
	}
	return false
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
