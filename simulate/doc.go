// Package simulate answers "what if these past cases had run under another
// policy?" without Temporal: it replays the humans' recorded actions of each case,
// at their recorded instants, against a candidate policy's clocks and calendars,
// and counts what the policy would have done (breaches, automatic escalations,
// warnings, staff and customer emails, cases past the close target) next to what
// the recorded run did.
//
// # One copy of every rule
//
// Every deadline comes from the domain's pure functions, the ones the case
// workflow's timers use (tierflow.Policy.TierDeadline, RepeatDeadline,
// CustomerUpdateDeadline, CloseTargetDeadline, AnswerDeadline, ResumeAfterPause). The engine (engine.go) mirrors the
// workflow's order of due instants and what each one emits, and emits the same
// event types the workflow records; both sides are then counted by the one
// function CountEvents, so the actual and simulated counters share their names
// and their arithmetic.
//
// # What a recorded action means when the simulated case differs
//
// The humans' actions keep their recorded instants; automatic events of the
// recorded run (breaches, warnings, automatic escalations, reminders, survey
// sends, auto-resolutions) are dropped and re-derived. When the simulated case is
// no longer where the recorded one was:
//   - acknowledge acknowledges the simulated case at its current tier when it is
//     open and not acknowledged (the work was done when it was done, whoever the
//     tier); otherwise it is ignored;
//   - a manual escalation (functional or hierarchical) names its target tier: the
//     simulated case moves there when it is below it, and the escalation is
//     absorbed when the case already is at or above it;
//   - a customer's request for a supervisor or external complaint raises the
//     case to tier 3 or 4 as the workflow does (reopening a resolved case);
//   - request-info, a customer reply, resolve, reopen, close, update-customer,
//     reassign and the survey answer apply when the simulated status allows them
//     (the workflow's own rules: a reply resumes only a waiting case, a reopen
//     needs a resolved one, nothing applies to a closed one) and are ignored
//     otherwise;
//   - a case the candidate auto-resolves or closes earlier ignores every later
//     action.
//
// # Limits (said, not hidden)
//
// The start tier is the recorded one (the request's explicit start tier is not
// in the record). Approvals pause the tier clocks as recorded, but a candidate's
// different authority limits and approval climbs are not simulated, and approval
// emails are not counted. The tier-4 "new ETA" email and the staff email of a
// customer's request at a tier the case already has carry no event of their
// own, so neither side counts them.
package simulate
