package tierflow

import (
	"context"
	"time"
)

// CaseEvent is one entry of a case's append-only audit log. (CaseID, Seq) is unique:
// recording the same event twice is harmless.
type CaseEvent struct {
	CaseID string    `json:"case_id"`
	Seq    int64     `json:"seq"`
	Type   EventType `json:"type"`
	At     time.Time `json:"at"`
	Actor  Principal `json:"actor"`
	Tier   Tier      `json:"tier"`
	// FromTier is set on escalations.
	FromTier   Tier   `json:"from_tier,omitempty"`
	Status     Status `json:"status"`
	Department string `json:"department,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Summary    string `json:"summary,omitempty"`
	// CustomerMessage is what the customer was told, if anything.
	CustomerMessage string `json:"customer_message,omitempty"`
	// Details holds event-specific values under the Detail* keys.
	Details map[string]string `json:"details,omitempty"`
}

// EventType names what happened in a case's audit log.
type EventType string

// Event types recorded in the audit log.
const (
	EventOpened             EventType = "opened"
	EventAcknowledged       EventType = "acknowledged"
	EventNote               EventType = "note"
	EventCustomerUpdated    EventType = "customer_updated"
	EventInfoRequested      EventType = "info_requested"
	EventEscalated          EventType = "escalated" // Details[DetailMode]: functional, hierarchical, automatic, reopen
	EventTransferred        EventType = "transferred"
	EventReassigned         EventType = "reassigned"
	EventAssigned           EventType = "assigned"
	EventCompensationOK     EventType = "compensation_recorded"
	EventApprovalRequested  EventType = "approval_requested"
	EventApprovalClimbed    EventType = "approval_climbed"
	EventApprovalWithdrawn  EventType = "approval_withdrawn" // the case ended while the approval was pending
	EventApproved           EventType = "approved"
	EventRejected           EventType = "rejected"
	EventResolved           EventType = "resolved"
	EventReopened           EventType = "reopened"
	EventClosed             EventType = "closed"
	EventWarning            EventType = "deadline_warning"
	EventBreach             EventType = "sla_breach" // Details[DetailClock]
	EventCloseTargetWarning EventType = "close_target_warning"
	EventCloseTargetBreach  EventType = "close_target_breached"
	EventCustomerReplied    EventType = "customer_replied"
	EventCustomerEvent      EventType = "customer_event" // Details[DetailKind]
	EventReminderSent       EventType = "reminder_sent"
	EventAutoResolved       EventType = "auto_resolved"
	EventSurveySent         EventType = "survey_sent"
	EventSurveyAnswered     EventType = "survey_answered" // Details: DetailScore, DetailResolved, DetailComment
	EventSurveyExpired      EventType = "survey_expired"
	EventSurveyScheduled    EventType = "survey_scheduled" // Details[DetailSendAt]: when the survey email goes out
	// EventWarningScheduled: a tier clock's warning email waits in the outbox
	// until Details[DetailSendAt] (Details[DetailClock], Details[DetailDeadline]:
	// the clock it warns of); deadline_warning, stamped then, follows with the
	// case's next step, unless a later record withdrew it first.
	EventWarningScheduled   EventType = "warning_scheduled"
	EventDecisionRejected   EventType = "decision_rejected" // an invalid signal, Reason says why
	EventNotificationFailed EventType = "notification_failed"
	// EventNotificationUnconfirmed: the provider may or may not have the email
	// (it is not sent again); Details[DetailKey] names it for a person to check.
	EventNotificationUnconfirmed EventType = "notification_unconfirmed"
	// EventPolicyMigrated: a migrate_policy decision moved the case to another
	// policy (Details: DetailFromPolicy, DetailPolicy, DetailDeadlinesBefore,
	// DetailDeadlinesAfter; Reason is the decision's; Summary the explanations).
	EventPolicyMigrated EventType = "policy_migrated"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventOpened, EventAcknowledged, EventNote, EventCustomerUpdated, EventInfoRequested, EventEscalated,
	EventTransferred, EventReassigned, EventAssigned, EventCompensationOK, EventApprovalRequested,
	EventApprovalClimbed, EventApprovalWithdrawn, EventApproved, EventRejected, EventResolved, EventReopened, EventClosed, EventWarning,
	EventBreach, EventCloseTargetWarning, EventCloseTargetBreach, EventCustomerReplied, EventCustomerEvent,
	EventReminderSent, EventAutoResolved, EventSurveySent, EventSurveyAnswered, EventSurveyExpired,
	EventDecisionRejected, EventNotificationFailed, EventNotificationUnconfirmed, EventPolicyMigrated,
	EventSurveyScheduled, EventWarningScheduled,
}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool { return oneOf(t, EventTypes) }

// Keys of CaseEvent.Details. The workflow writes them and postgres/ reads some of
// them (in Go and in SQL), so a key is only ever spelled here.
const (
	DetailAction         = "action"          // decision_rejected: the rejected decision's action
	DetailAmountCents    = "amount_cents"    // compensation: non-negative minor units
	DetailApology        = "apology"         // resolved: "true" when the resolution apologised
	DetailApproval       = "approval"        // escalated: what becomes of a pending approval
	DetailApprovalID     = "approval_id"     // approval_requested, approval_climbed, approved, rejected, approval_withdrawn; escalated while one is pending
	DetailAssignee       = "assignee"        // reassigned, assigned: the new owner
	DetailClock          = "clock"           // warnings, breaches, reminders: a Clock
	DetailComment        = "comment"         // survey_answered
	DetailCompensationID = "compensation_id" // compensation events
	DetailCurrency       = "currency"        // compensation: ISO 4217 code
	DetailDeadline       = "deadline"        // warnings, breaches: the deadline (RFC 3339, UTC)
	DetailDecisionID     = "decision_id"     // any event a decision caused
	DetailEventID        = "event_id"        // customer events: the CRM's event id
	DetailKey            = "key"             // notification_failed: the message key
	DetailKind           = "kind"            // customer events: a CustomerEventKind; notification_failed: a MessageKind
	DetailMessage        = "message"         // decision_rejected: which message was rejected
	DetailMode           = "mode"            // escalated: how
	DetailOwner          = "owner"           // assigned: who owns the case now
	DetailPolicy         = "policy"          // opened, policy_migrated: "<name>@<version>"
	DetailPriority       = "priority"        // opened
	DetailReminder       = "reminder"        // reminder_sent: which reminder (1, 2, ...)
	DetailRepeat         = "repeat"          // sla_breach at tier 4: which repeat of the clock (1, 2, ...)
	DetailRequiredTier   = "required_tier"   // approval events: the tier with the authority
	DetailResolved       = "resolved"        // survey_answered: "true" or "false"
	DetailScore          = "score"           // survey_answered: 1 to 5
	DetailSendAt         = "send_at"         // survey_scheduled, warning_scheduled: when the email goes out (RFC 3339, UTC)
	DetailStartTier      = "start_tier"      // opened
	DetailTrigger        = "trigger"         // opened
	// DetailVia says how a decision reached the case when it did not come through
	// the API: ViaSignal on every event a signalled decision caused and on a
	// rejected signal (decision_rejected).
	DetailVia = "via"
	// The policy_migrated event's: the policy the case left ("<name>@<version>";
	// DetailPolicy is the one it moved to) and its running deadlines before and
	// after, "<clock>[.t<tier>]=<RFC 3339>" joined by "; ".
	DetailFromPolicy      = "from_policy"
	DetailDeadlinesBefore = "deadlines_before"
	DetailDeadlinesAfter  = "deadlines_after"
)

// ViaSignal is DetailVia's value for a message sent as a Temporal Signal (the
// Temporal UI, `temporal workflow signal`): an operator's, not the API's.
const ViaSignal = "signal"

// DetailKeys lists every key of CaseEvent.Details.
var DetailKeys = []string{
	DetailAction, DetailAmountCents, DetailApology, DetailApproval, DetailApprovalID, DetailAssignee, DetailClock, DetailComment,
	DetailCompensationID, DetailCurrency, DetailDeadline, DetailDecisionID, DetailEventID, DetailKey, DetailKind,
	DetailMessage, DetailMode, DetailOwner, DetailPolicy, DetailPriority, DetailReminder, DetailRepeat, DetailRequiredTier,
	DetailResolved, DetailScore, DetailStartTier, DetailTrigger, DetailVia, DetailFromPolicy, DetailDeadlinesBefore,
	DetailDeadlinesAfter, DetailSendAt,
}

// Transition is what one state change writes: new events and the new projection, in
// one transaction.
type Transition struct {
	CaseID string      `json:"case_id"`
	Events []CaseEvent `json:"events"`
	View   CaseView    `json:"view"`
	// CancelEmails are seqs of this case's outbox batches that this record
	// withdraws (the survey scheduled at resolution, when the case reopens,
	// closes or its survey expires unanswered, before or after its send time):
	// each one no mailer holds or left unsettled is settled without being sent;
	// one claimed or delivered is left as it is (it went, or may have). Unknown
	// seqs are ignored; a retried record withdraws nothing twice.
	CancelEmails []int64 `json:"cancel_emails,omitempty"`
}

// CaseRecorder writes the durable record of a case.
type CaseRecorder interface {
	// RecordTransition appends the events (ignoring ones already recorded) and moves
	// the projection forward to View if View.Seq is newer, in one transaction.
	RecordTransition(ctx context.Context, t Transition) error
}
