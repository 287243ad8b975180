// Package workflows holds the case workflow: one long-lived Temporal workflow per
// escalated customer issue, from its escalation by a CRM to its closure. It owns the
// tier, the clocks, the pending approval and the survey, and decides every automatic
// step; humans act on it only through validated messages. Its code is deterministic
// (checked by workflowcheck and by replaying recorded histories); every side effect
// is an activity of package activities.
//
// # Shape
//
// CaseWorkflow is a thin function over a private caseWorkflow: setup registers every
// handler, run commits the opening and then loops. All state is one CaseState (plain
// data, absolute instants), carried whole through continue-as-new in
// CaseInput.Resume; the policy snapshot pinned at start travels in CaseInput.Policy
// and is never re-read: only a migrate_policy decision, which carries the new
// policy's content, replaces it (migrate.go).
//
// Every change is a transition: its function (decisionTransitions for decisions,
// the due items of clocks.go for deadlines, customer.go for customer events and
// the survey) changes the state, appends the events that describe it with
// increasing Seq and queues its emails, reading top to bottom; a hand-over asks
// the directory for the new owner there (AssignOwner, a local activity) and
// records the assignment. commit then only records what the transition emitted
// (RecordTransition, a local activity: the events and the new CaseView) and starts
// its emails, all of them in one Notify activity. Notification keys are
// "<case>/<seq>/<kind>", so a retried email is sent at most once, batch or not.
// commit also upserts the search attributes that changed and the UI's current
// details. A workflow.Mutex serialises transitions: Update handlers and the main
// loop never interleave inside one. The record is written outside the mutex
// (record.go): one RecordTransition at a time, in order, what queues meanwhile in
// one batch, so a database outage delays the record, never the case's timers or
// messages (a local RecordTransition holds the workflow task for at most 6s, then a timer
// waits a minute with the mutex free). An Update releases the mutex, then returns
// the case once its transition is recorded, normally within the workflow task
// that applied it; one retried with its decision_id answers the case without
// applying anything.
//
// # What a transition costs Temporal
//
// A decision without email is one workflow task: the Update's accepted and
// completed events, a RecordTransition marker and a search attribute upsert. A
// transition with emails adds one activity task (its Notify: scheduled, started,
// completed) and the workflow task its completion wakes; a hand-over adds an
// AssignOwner marker; a deadline adds its timer. A run started with a code level
// (CaseInput.Code) asks no patch: no Version marker and no TemporalChangeVersion
// upsert at its start. The survey costs no wake-up of its own: its email goes
// out of the outbox at its send time (see Clocks), so a resolved case sleeps
// until the answer, the reminder or the expiry. TestTypicalLifecycleHistorySize
// holds the typical case to its budget; see it before adding anything per
// transition.
//
// # Statuses
//
// The status table is tierflow.StatusTransitions (drawn in the root package's
// doc); every change goes through moveTo, which consults it. Each decision
// action is declared in tierflow.ActionSpecs (fields, allowed statuses, who);
// validateDecision checks the declaration, then the action's guard
// (decisionGuards), and decisionTransitions holds its transition.
//
//	open -> in_progress -> awaiting_customer | awaiting_approval -> resolved -> closed
//
// A case enters a tier "open" (the tier must acknowledge; AssignOwner proposes an
// owner), becomes in_progress on acknowledge, pauses in awaiting_customer (we asked
// the customer) and awaiting_approval (a compensation above the proposer's authority
// waits for a higher tier), is resolved (survey scheduled) and closed. Any escalation
// hands the case to a new tier, open again; a pending approval stays pending (its
// recipients, or anyone above with the authority, may decide it), and a case that
// ends while one is pending withdraws it. A customer reply reopens a resolved case
// at its tier (in_progress); a low score or "not resolved" reopens it at tier 3 or
// higher as a hand-over (open: that tier must acknowledge).
//
// # Clocks
//
// Deadlines are computed by the policy's pure functions (business calendars,
// explanations) and kept as absolute instants: acknowledge and resolve per tier
// (75% warning, breach = automatic escalation one tier up; at tier 4 the executives
// are told and the clock starts again with a doubled period, at most a day, its
// warning included, the repeats counted in one breach entry), the customer's answer
// promise (the tier's acknowledge plus resolve time from the hand-over: the ETA of
// every email; none while paused, when emails say how long the answer will take
// once the wait ends; renewed at tier 4 once passed), the customer update cadence, the approval clock (an unanswered request
// climbs a tier), the close target from the CRM's opened_at (never paused: day-25
// warning, day-30 flag and tier 4), reminders and auto-resolution while waiting on
// the customer, and the survey's send, reminder and expiry. Since codeSurveyOutbox
// the survey's send is no wake-up: the resolution writes the survey email into
// the outbox with its send time (a survey_scheduled event names the batch) and
// computes the reminder and expiry from that time; the first transition from
// then on (the answer, the reminder, the expiry, any message) records
// survey_sent, stamped with the send time, before its own events
// (catchUpSurvey), and the case query shows the survey sent from the send time
// on. A reopen, close or expiry cancels a survey not answered and its record
// withdraws the batch (Transition.CancelEmails), also after the send time: the
// mailer may lag, and the store withdraws only what it has not claimed (see
// survey.go for what survey_sent claims). Since codeWarningOutbox the tier
// clocks' warnings are no wake-ups either: each transition writes the warnings its clocks owe
// into the outbox with their instants (warning_scheduled names each batch) and
// withdraws those no longer owed; the first transition from a warning's instant
// on records it, stamped then (warnings.go). Tier clocks stand still
// while awaiting_customer or awaiting_approval and move by the pause on resume
// (Policy.Resume); the customer hears of each pause and resume (the info request
// and the reply's new ETA; an eta_changed email when an approval pauses the case
// and another with the new ETA once it is decided). Every email that tells the
// customer who handles the case or by when restarts the update cadence. The main loop keeps one timer, on the nearest instant (its
// summary names it: "tier 2 acknowledge deadline"), and wakes on it, on a signal or
// when an update moves the nearest instant earlier; it then fires everything due.
// Messages do not restart the timer; a deadline moved later keeps it (it fires
// early and re-arms); only an earlier one cancels it, except in a resolved case
// of a run with the survey outbox, which rests for days: a timer left by a clock
// the resolution stopped is replaced by the survey's (restsPastTimer).
//
// # Messages
//
// Decisions arrive as the Update UpdateDecide (validated before acceptance: the
// rejection is a non-retryable ApplicationError of type "tierflow.<code>", see
// AsCaseError; the worker first refuses any Update the API did not sign, see
// internal/updateauth) or the Signal SignalDecision (an invalid one, or one whose payload
// does not even decode, is recorded as a decision_rejected event). A signal names
// its own actor, so it is applied only once the staff directory confirms that
// actor (an active member with that role and tier, looked up outside the mutex;
// see signals.go), as the directory's member, its events marked via=signal.
// Customer events arrive as SignalCustomerEvent or
// UpdateCustomerEvent, the survey answer as UpdateSurvey, and QueryCase returns the
// CaseView. Both paths share one validation function and one transition function
// per message kind; decision and event IDs are remembered (the last 500) so a
// repeated one is applied once.
//
// # Continue-as-new
//
// When the server suggests it, the main loop stops waiting, applies every buffered
// signal, waits for running handlers and emails (AllHandlersFinished), and continues
// as new with the whole state. Sequence numbers, deadlines and deduplication memory
// carry over, and so do the search attributes (the SDK copies them into the new
// run, TemporalChangeVersion included); the next run keeps this run's code level
// (CaseInput.Code, never raised: see Versioning).
//
// # Email outbox
//
// Since changeEmailOutbox a transition's emails travel with its record: the
// local RecordTransition writes them into the outbox table in the same
// transaction as the events (RecordTransitionInput.Emails, one batch per
// transition, named by its last event), and its summary names them. The Mailer
// workflow (mailer.go, one per shard, started by the workers) delivers the
// batches through Notify, each case's in order and each message at most once,
// outside the case's history; the case does not wait for them. Emails refused or
// of unknown outcome come back as SignalNotificationProblems and are recorded as
// notification_failed or notification_unconfirmed (outbox.go); a case that has
// ended gets them appended to its record by the mailer. A batch may be
// scheduled (TransitionEmails.NotBefore: the survey at its send time), in a
// batch of its own named by the event that scheduled it, and withdrawn by a
// later record of the case before it goes out (Transition.CancelEmails). A record
// refused as invalid input sends its emails with one Notify per transition, as
// before (a scheduled one is not sent: nothing would send it at its time).
//
// # Other workflows
//
// Besides the case workflow the package holds the Mailer (above), the webhook
// dispatcher and deliveries (webhook_*.go), and PolicyMigration
// (policy_migration.go): a bulk migrate_policy over the cases a visibility query
// matched, MigrationFanOut at a time, with a progress Query; each case applies
// the decision once (its decision id derives from the migration's id and its
// target policy).
//
// # Versioning
//
// A case lives for weeks, so the workflow code must replay every history in flight.
// Any change to the commands a run emits (activities, timers, their order, markers)
// goes behind a patch:
//
//	if workflow.GetVersion(ctx, "2026-12-survey-second-reminder", workflow.DefaultVersion, 1) == 1 {
//		// new behaviour
//	}
//
// Change IDs are "<yyyy-mm>-<what-changed>", one per change, never reused, listed
// with what they changed in versions.go; tx.patched asks for one inside a
// transition. The GetVersion call stays until no run older than the change can
// exist (30 days plus the survey, or find them with the TemporalChangeVersion
// search attribute), then goes in a later cleanup. A run pays a marker and a
// search attribute upsert for each patch it meets: keep them off the typical path
// where possible. A run that has changeLeanHistory takes every older change
// without asking (impliedByLeanHistory); a run that has changeEmailOutbox (asked
// once, at its start, first: askVersions) has changeLeanHistory too.
//
// Run-wide changes (those asked once at the start of every run) travel in the
// input instead: CaseInput.Code is the code level the run was started at
// (codelevels.go: codeEmailOutbox, codeSurveyOutbox, codeDeadlineNotWarning;
// CurrentCode is this code's), and a run with a level takes that level's
// changes without asking Temporal, so a new run records no Version marker at
// all. The API opens cases at TIERFLOW_CASE_CODE_LEVEL (CurrentCode unless set
// lower); continue-as-new keeps the run's own level and never raises it. Runs
// without a level (every run started before levels) ask as before.
//
// A level must never reach a worker that cannot honour it. A worker from before
// levels drops the field and runs the case at level 0 (patch markers, the old
// NextDeadline upserts, the survey's timer), and a level-aware worker replaying
// that history at the case's level fails with a non-determinism error. So when
// upgrading from a release without levels, the API runs with
// TIERFLOW_CASE_CODE_LEVEL=0 until every worker is new (deploy/RUNBOOK.md,
// section 5). A level-aware worker that meets a level above its own panics in
// the workflow task, which Temporal retries until a worker that knows the level
// takes it; so later upgrades roll in any order, and a rollback is safe only to
// a release that knows every level in flight (as with patches).
//
// A run without a level lists changeEmailOutbox or changeLeanHistory (or,
// older still, the patches it met) in TemporalChangeVersion; a run with a level
// asks none of its level's changes, so lists at most the path patches it met,
// plus whatever it inherited: continue-as-new carries the search attributes
// over, so a run continued from a pre-level run keeps that run's list whatever
// its own level. Runs continue at their own level, so such a case is a
// pre-level case throughout, except one continued by the first code with
// levels, which continued every run at CurrentCode. So the cases started before
// code levels are among those whose TemporalChangeVersion lists
// changeEmailOutbox, changeLeanHistory or an older change
// (TemporalChangeVersion IN (...) in a visibility query); to tell a run's own
// level, read its input's Code. A new run-wide change adds a level; a change
// met only on some paths stays a patch. The replay tests guard all of this:
// testdata/*.json are
// histories of real runs on a dev server, replayed by TestReplayHistories on every
// `go test`. After a deliberate change, keep the old files (rename them with a date)
// and record new ones with
//
//	TIERFLOW_CAPTURE=1 go test -count=1 -run TestCaptureHistories ./workflows/
//
// (TIERFLOW_CAPTURE_ONLY=<scenario> records just one scenario, e.g. a new one.)
//
// (TestTypicalLifecycleHistorySize then holds the new typical lifecycle to its
// budget of events and bytes.)
// Changing the shape of CaseState is safe when fields are only added (JSON ignores
// the unknown and zeroes the missing).
//
// A new decision action needs no patch: migrate_policy (migrate.go) came with
// no change ID because no recorded history contains one, so no replay reaches
// its transition or its guard, and the decisions that exist keep their
// fingerprints (a decision's policy enters its fingerprint only when set). Its
// transition's commands (the memo upsert, the eta_changed email) exist only in
// runs that received it (testdata/policy_migrated.json records one). Deploy the
// workers before the API offers it: an older worker refuses the unknown action
// in its validator, leaving no trace.
//
// What an Update answers, and what the run returns, are not compared on replay:
// the SDK (1.50) matches an Update's completion to its history event by the
// Update's ID and the run's completion by the event's type, never by payload. So
// the change from the whole CaseView to a tierflow.Receipt in both needed no
// patch, and every history recorded with the old answers replays
// (TestReplayHistories).
// Clients read either shape (tierflow.CaseAnswer): cases on a worker from before
// receipts still answer the whole case during a rolling deploy.
package workflows
