package tierflow

import (
	"fmt"
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
