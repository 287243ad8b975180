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
// # The case's state machine
//
// StatusTransitions in case.go is the one table of status changes; the workflow
// moves a case only along it, and a test keeps this drawing equal to it:
//
//	open -> in_progress: acknowledge
//	open -> open: escalate, transfer, a missed clock, a customer escalation
//	open -> awaiting_customer: request_info
//	open -> awaiting_approval: propose_compensation above authority
//	open -> resolved: resolve
//	open -> closed: close, withdrawn
//	in_progress -> open: escalate, transfer, a missed clock, a customer escalation
//	in_progress -> awaiting_customer: request_info
//	in_progress -> awaiting_approval: propose_compensation above authority
//	in_progress -> resolved: resolve
//	in_progress -> closed: close, withdrawn
//	awaiting_customer -> in_progress: customer reply (acknowledged case)
//	awaiting_customer -> open: customer reply (unacknowledged case), a hand-over
//	awaiting_customer -> resolved: resolve, auto-resolve
//	awaiting_customer -> closed: close, withdrawn
//	awaiting_approval -> in_progress: approve, reject (acknowledged case)
//	awaiting_approval -> open: approve, reject (unacknowledged case), a hand-over
//	awaiting_approval -> closed: close, withdrawn
//	resolved -> in_progress: reopen, customer reply, low survey score at the same tier
//	resolved -> open: reopen at a higher tier (low survey score, customer escalation)
//	resolved -> closed: survey answered or expired, close, withdrawn, auto-resolve
//
// ActionSpecs in decision.go is the one table of decision actions: the fields
// each takes, the statuses it is allowed in, who may take it and where it leads.
// Validation, the workflow's checks, the decide Update's description, the CLI's
// help and the API's OpenAPI enum come from it; a new action adds its line there,
// its transition in workflows/decide.go and, if it emails, its template.
//
// The package is filed by noun: each file holds one concept with its types, its
// rules and its Validate (case.go, tier.go, decision.go, customer.go, event.go,
// policy.go, calendar.go, deadline.go, notification.go, staff.go, report.go,
// errors.go).
package tierflow
