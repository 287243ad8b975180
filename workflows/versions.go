package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// Change IDs of the patches in this package (see "Versioning" in doc.go). Each one
// guards a change to the commands a run emits; remove a patch, keeping only its
// new branch, once no run older than its month can be open (30 days plus the
// survey: look for it with the TemporalChangeVersion search attribute; runs with
// a code level (CaseInput.Code, below) have their level's changes without
// asking, though one continued from a pre-level run keeps that run's list
// there, which continue-as-new carries over: codelevels.go).
const (
	// changeCadenceOnEveryEmail: every email that tells the customer who handles the
	// case and by when (escalation, transfer, new ETA) restarts the update cadence,
	// as a human update does; before, only an update_customer decision did.
	changeCadenceOnEveryEmail = "2026-11-cadence-on-every-customer-email"
	// changeETAOnApprovalPause: the customer is told when the tier clocks pause for
	// an approval (no ETA until it is decided) and gets the new ETA when they resume.
	changeETAOnApprovalPause = "2026-11-eta-on-approval-pause"
	// changeRecordUndecodableSignals: a signal whose payload does not decode is
	// recorded as decision_rejected; before, the SDK dropped it with a log line.
	changeRecordUndecodableSignals = "2026-11-record-undecodable-signals"
	// changeRearmTopTierClock: a missed tier-4 acknowledge or resolve clock starts
	// again, so the executives are told at every period; before, no tier clock ran
	// after it.
	changeRearmTopTierClock = "2026-11-rearm-top-tier-clock"
	// changeSettleApprovalOnClose: a case that closes (close, withdrawn, auto-resolve,
	// survey) while an approval is pending withdraws it (approval_withdrawn event,
	// compensation "withdrawn"); before, the approval stayed pending forever.
	changeSettleApprovalOnClose = "2026-12-settle-approval-on-close"
	// changeTopTierBackoff: a missed tier-4 clock starts again with a doubled period
	// (at most a day) and its 75% warning; repeats count in one breach entry; the
	// customer gets a new ETA once theirs has passed. Supersedes
	// changeRearmTopTierClock for new runs.
	changeTopTierBackoff = "2026-12-top-tier-backoff"
	// changeReopenHigherIsEscalation: a reopen at a higher tier (low survey score,
	// the customer asking for a supervisor) is a hand-over: the new tier must
	// acknowledge (open, acknowledge clock), an owner is proposed and told, and the
	// customer hears who handles the case and by when.
	changeReopenHigherIsEscalation = "2026-12-reopen-higher-is-escalation"
	// changeApprovalByAuthority: a signalled approve or reject is taken from any
	// actor with the authority, even when the case has climbed above their tier;
	// before, it was rejected by the case-tier check.
	changeApprovalByAuthority = "2026-12-approval-by-authority"
	// changeRecordOutsideMutex: RecordTransition runs outside the case's mutex, one
	// at a time in order (record.go), so a database outage no longer blocks the
	// case's timers and messages; Updates still return once their transition is
	// recorded. Asked once at the start of every run.
	changeRecordOutsideMutex = "2026-12-record-outside-mutex"
	// changeRecordUnconfirmedEmail: an email whose outcome is unknown (the provider
	// may have it; it is not resent) is recorded on the case as a
	// notification_unconfirmed event; before, it was only logged.
	changeRecordUnconfirmedEmail = "2026-12-record-unconfirmed-email"
	// changeVerifySignalActor: a signalled decision is applied only if the staff
	// directory knows its actor as an active member with that role and tier (a
	// LookUpStaff activity, outside the mutex), as the directory's member; its
	// events say it came by signal. Before, the payload's actor was taken as is.
	changeVerifySignalActor = "2026-12-verify-signal-actor"
	// changeDepartmentsRequired: an agent or specialist without departments
	// serves no department (tierflow.Principal.InDepartment); before, such an actor
	// served every one. Asked only when such an actor decides on a case with a
	// department (histories from before tokens and staff had to name them).
	changeDepartmentsRequired = "2026-12-departments-required"
	// changeLeanHistory: a run costs Temporal fewer tasks and a shorter history.
	// RecordTransition is a local activity (one marker instead of an activity's
	// three events and the workflow task its completion wakes; its failure path
	// is unchanged: outside the mutex, in order, batched, tried again a minute
	// later); a transition's emails go in one Notify activity (each message still
	// claimed, sent and settled under its own key); search attributes are upserted
	// only where they differ from the run's own (none at all re-sent at the start
	// of a run); the email problems one activity reports are recorded in one
	// transition. Asked once at the start of every run, before any other patch: a
	// run that has it has every change listed above it too, so it asks none of them
	// (impliedByLeanHistory): one marker per run instead of one per patch it meets.
	// Runs from before it keep the regular RecordTransition and one NotifyCustomer
	// or NotifyStaff activity per email.
	changeLeanHistory = "2026-12-lean-history"
	// changeEmailOutbox: a transition's emails go to the record, which writes
	// them into the outbox in the same transaction (RecordTransitionInput.Emails);
	// the Mailer workflow delivers them (Notify, outside the case's history) and
	// signals back the emails no retry can send (SignalNotificationProblems),
	// which the case records as before. A case no longer waits for its emails
	// before it ends. A record refused as invalid sends its emails as before
	// (one Notify per transition). Asked once at the start of every run, before
	// changeLeanHistory, which it implies (and with it every change that
	// implies): a new run meets one marker. Runs from before it keep the Notify
	// activity per transition.
	changeEmailOutbox = "2026-12-email-outbox"
	// changeDepartmentAtEveryTier: an agent or specialist acts (anything but a
	// note, approvals included) only on a case of a department they serve, at
	// every tier; before, the department was checked only when the actor's tier
	// was the case's, and never for approvals. Asked only when the new rule
	// refuses a decision the old one took (validate.go, judgeDecision), so
	// ordinary runs meet no marker; an Update's validator refuses without asking.
	changeDepartmentAtEveryTier = "2026-12-department-at-every-tier"
)

// askVersions sets the run-wide changes once, at the start of a run. A run with a
// code level (CaseInput.Code) takes them from it and asks nothing; a run without
// one asks, the newest first, so it records one marker. A run that has
// changeEmailOutbox has changeLeanHistory without asking (listing
// changeEmailOutbox in the TemporalChangeVersion search attribute means it has
// both). A level this code does not know panics: the SDK fails the workflow task
// and retries it, so the run waits, untouched, for a worker that knows it.
func (w *caseWorkflow) askVersions(ctx workflow.Context) {
	if code := w.in.Code; code > CurrentCode || code < 0 {
		panic(fmt.Sprintf("case input has code level %d, this worker knows levels up to %d: deploy the new worker "+
			"before the API that starts such runs (the workflow task is retried until a worker that knows it takes it)",
			code, CurrentCode))
	}
	if w.in.Code >= codeEmailOutbox {
		w.outbox.enabled, w.lean = true, true
		w.surveyOutbox = w.in.Code >= codeSurveyOutbox
		return
	}
	w.outbox.enabled = workflow.GetVersion(ctx, changeEmailOutbox, workflow.DefaultVersion, 1) == 1
	w.lean = w.outbox.enabled || workflow.GetVersion(ctx, changeLeanHistory, workflow.DefaultVersion, 1) == 1
}

// impliedByLeanHistory are the changes older than changeLeanHistory. A run that
// has changeLeanHistory was started by code that had every one of them, so it
// takes their new branch without asking (no marker, no search attribute upsert).
// When looking for runs that predate one of these changes with the
// TemporalChangeVersion search attribute, a run listing changeLeanHistory has it.
// Changes made after changeLeanHistory are asked as usual and never go here.
var impliedByLeanHistory = map[string]bool{
	changeCadenceOnEveryEmail:      true,
	changeETAOnApprovalPause:       true,
	changeRecordUndecodableSignals: true,
	changeRearmTopTierClock:        true,
	changeSettleApprovalOnClose:    true,
	changeTopTierBackoff:           true,
	changeReopenHigherIsEscalation: true,
	changeApprovalByAuthority:      true,
	changeRecordOutsideMutex:       true,
	changeRecordUnconfirmedEmail:   true,
	changeVerifySignalActor:        true,
	changeDepartmentsRequired:      true,
}
