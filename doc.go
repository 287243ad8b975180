// Package tierflow is the domain of the Tierflow escalation engine: cases, tiers,
// priorities, decisions, customer events, the escalation policy with its calendars
// and deadlines, the error codes, and the ports (Store, Mailer) that adapters
// implement. It depends on the standard library only; every other package points
// inward to it.
//
// One escalated customer issue is one case; one case is one long-lived Temporal
// workflow (package workflows) that owns the tier, the clocks and every automatic
// step. Humans act on it only through validated decisions.
//
// The package is filed by noun: each file holds one concept with its types, its
// rules and its Validate (case.go, tier.go, decision.go, customer.go, event.go,
// policy.go, calendar.go, deadline.go, notification.go, staff.go, report.go,
// errors.go).
package tierflow
