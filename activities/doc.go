// Package activities holds every side effect of a case: the workflow calls these
// methods (through a typed nil *Activities) and never touches PostgreSQL or email
// itself. Each input carries a deterministic key derived from the case and the event
// sequence, so a retried activity is harmless.
//
// # Records
//
// RecordTransition appends a transition's events and moves the case projection
// forward in one transaction. The store ignores events already recorded and never
// moves the projection backwards, so Temporal may retry it freely, as an activity
// or as the local activity new runs use (an attempt cut off by its timeout may
// still commit: the next one then changes nothing); input the store refuses
// (CodeInvalid) fails with the non-retryable type "InvalidInput".
//
// AssignOwner asks the staff directory for the active member of the tier (and
// department) with the fewest open cases; when nobody serves it, the tier's queue
// owns the case.
//
// LookUpStaff reads one member (found or not, active or not, and the identity
// without the email address) for the workflow to check the actor a decision Signal
// names; an unknown ID is an answer, a directory that cannot answer an error.
//
// # Emails, at most once
//
// NotifyCustomer and NotifyStaff send one message per key ("<case>/<seq>/<kind>"),
// however often Temporal runs them. The notification ledger (a PostgreSQL table) is
// the memory across attempts:
//
//  1. ClaimNotification moves the key to "sending" and returns the state it was in.
//     Only an attempt that finds it "new" (never claimed, or released) sends.
//  2. The Mailer hands the message to the provider.
//  3. The outcome is written: "sent" with the provider's message id; "failed" with
//     the reason when the provider refuses it (non-retryable "EmailRejected", which
//     the workflow records on the case); or, when the provider certainly did not
//     accept it (a 429, a 503 with Retry-After, a 408, no connection before the
//     request left), the key is released back to "new" and the activity fails with
//     the retryable "EmailUnavailable" whose NextRetryDelay is the provider's
//     Retry-After. A 500, 502, 504 or a 503 without Retry-After may hide a queued
//     message: that outcome is unknown, handled like the window below (see
//     sendgrid's classify for the table per status).
//
// A later attempt that finds "sent" returns "duplicate" and sends nothing; one that
// finds "failed" returns "failed", one that finds "unconfirmed" returns "unconfirmed".
//
// Notify sends a transition's emails in one activity (one task, one history entry
// and one workflow wake-up instead of one per email), message by message through
// exactly these steps, so each key keeps the ledger as its memory across attempts.
// A message no retry can send (refused by the provider, or invalid) is an outcome
// of the batch, "refused", that never stops the others, read the same from the
// ledger on a later attempt; an error a retry may fix stops the batch and fails the
// activity, and the retry finds the messages settled before it in the ledger.
//
// The window. Between step 2 and step 3 the provider may have accepted the message
// while the worker dies (kill -9, OOM, a lost host) or the answer is lost on the
// wire, or the provider answers a 5xx that may hide a queued message. The key then
// stays "sending" (or the Mailer reports the outcome as unknown), and nobody can tell whether the customer got the email. Tierflow chooses
// at most once over at least once here: a duplicate "your case was escalated" or
// "resolved" email is worse for a customer than one missing progress email, and the
// case record still holds everything that was said. So the next attempt does not
// send again: it marks the key "unconfirmed" with the reason ("outcome unknown after
// a crash; not resent", or the provider's answer) and returns the state
// "unconfirmed" (no error). Such a message is not left in a log line: the activity
// counts it in the metric tierflow_notifications_unconfirmed (tags kind, audience),
// the ledger lists it for a person to check (postgres.Store.UnconfirmedNotifications,
// with claims left "sending"), and the workflow records it on the case as a
// notification_unconfirmed event from the activity's result. Later attempts find the
// key "unconfirmed" and return that state again. The
// window is the few milliseconds between the provider's answer and one UPDATE;
// ledger writes after a send run on a context detached from the activity's, so an
// activity timeout alone does not open it.
//
// Fencing. Each claim has a number (the row's attempts), and every later update
// of this attempt names it: the ledger applies it only while the key is still
// "sending" under that claim. An attempt Temporal gave up on (past its timeout,
// still running: a zombie) can therefore neither release a key that a later attempt
// settled, nor settle one claimed again; its update changes nothing, is refused
// with CodeConflict and logged as a stale claim.
//
// A message with no recipient (a customer without an address, a staff group nobody
// serves) is recorded "failed" with the reason "no recipients", without an error:
// retrying would not change it.
//
// Email addresses are personal data: logs carry keys, kinds, case ids and recipient
// counts, never addresses.
package activities
