package tierflow

import (
	"fmt"
	"strings"
)

// Tier is a rung of the escalation ladder, 1 (frontline) to 4 (executive).
type Tier int

// The four tiers of the ladder.
const (
	TierFrontline  Tier = 1
	TierSpecialist Tier = 2
	TierSupervisor Tier = 3
	TierExecutive  Tier = 4
)

// Valid reports whether t is one of the four tiers.
func (t Tier) Valid() bool { return t >= TierFrontline && t <= TierExecutive }

// String names the tier for people ("tier 2 specialist").
func (t Tier) String() string {
	switch t {
	case TierFrontline:
		return "frontline"
	case TierSpecialist:
		return "specialist"
	case TierSupervisor:
		return "supervisor"
	case TierExecutive:
		return "executive"
	}
	return fmt.Sprintf("tier(%d)", int(t))
}

// Priority is the urgency a CRM gives a case; it selects clocks and calendar.
type Priority string

// Priorities, most urgent first.
const (
	PriorityUrgent Priority = "urgent"
	PriorityHigh   Priority = "high"
	PriorityNormal Priority = "normal"
	PriorityLow    Priority = "low"
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return oneOf(p, Priorities) }

// Status is where a case stands.
type Status string

// Case statuses, in their usual order.
const (
	StatusOpen             Status = "open"
	StatusInProgress       Status = "in_progress"
	StatusAwaitingCustomer Status = "awaiting_customer"
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusResolved         Status = "resolved"
	StatusClosed           Status = "closed"
)

// Statuses lists every status.
var Statuses = []Status{StatusOpen, StatusInProgress, StatusAwaitingCustomer, StatusAwaitingApproval, StatusResolved, StatusClosed}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return oneOf(s, Statuses) }

// TierClocksPaused reports whether the tier clocks stand still in this status.
func (s Status) TierClocksPaused() bool {
	return s == StatusAwaitingCustomer || s == StatusAwaitingApproval
}

// Trigger is why the CRM escalated the issue.
type Trigger string

// Escalation triggers.
const (
	TriggerUnresolved        Trigger = "unresolved"
	TriggerComplexity        Trigger = "complexity"
	TriggerCustomerRequest   Trigger = "customer_request"
	TriggerSLABreach         Trigger = "sla_breach"
	TriggerEmergency         Trigger = "emergency"
	TriggerExternalComplaint Trigger = "external_complaint"
)

// Triggers lists every trigger.
var Triggers = []Trigger{TriggerUnresolved, TriggerComplexity, TriggerCustomerRequest, TriggerSLABreach, TriggerEmergency, TriggerExternalComplaint}

// Valid reports whether t is a known trigger.
func (t Trigger) Valid() bool { return oneOf(t, Triggers) }

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

func oneOf[T comparable](v T, all []T) bool {
	for _, a := range all {
		if a == v {
			return true
		}
	}
	return false
}
