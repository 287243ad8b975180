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
	Type   string    `json:"type"` // see EventType constants
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
	// Details holds event-specific values (amount_cents, score, clock, decision_id...).
	Details map[string]string `json:"details,omitempty"`
}

// Event types recorded in the audit log.
const (
	EventOpened             = "opened"
	EventAcknowledged       = "acknowledged"
	EventNote               = "note"
	EventCustomerUpdated    = "customer_updated"
	EventInfoRequested      = "info_requested"
	EventEscalated          = "escalated" // Details["mode"]: functional, hierarchical, automatic
	EventTransferred        = "transferred"
	EventReassigned         = "reassigned"
	EventAssigned           = "assigned"
	EventCompensationOK     = "compensation_recorded"
	EventApprovalRequested  = "approval_requested"
	EventApprovalClimbed    = "approval_climbed"
	EventApprovalWithdrawn  = "approval_withdrawn" // the case ended while the approval was pending
	EventApproved           = "approved"
	EventRejected           = "rejected"
	EventResolved           = "resolved"
	EventReopened           = "reopened"
	EventClosed             = "closed"
	EventWarning            = "deadline_warning"
	EventBreach             = "sla_breach" // Details["clock"]
	EventCloseTargetWarning = "close_target_warning"
	EventCloseTargetBreach  = "close_target_breached"
	EventCustomerReplied    = "customer_replied"
	EventCustomerEvent      = "customer_event" // Details["kind"]
	EventReminderSent       = "reminder_sent"
	EventAutoResolved       = "auto_resolved"
	EventSurveySent         = "survey_sent"
	EventSurveyAnswered     = "survey_answered" // Details: score, resolved, comment
	EventSurveyExpired      = "survey_expired"
	EventDecisionRejected   = "decision_rejected" // an invalid signal, Reason says why
	EventNotificationFailed = "notification_failed"
)

// Transition is what one state change writes: new events and the new projection, in
// one transaction.
type Transition struct {
	CaseID string      `json:"case_id"`
	Events []CaseEvent `json:"events"`
	View   CaseView    `json:"view"`
}

// CaseRecorder writes the durable record of a case.
type CaseRecorder interface {
	// RecordTransition appends the events (ignoring ones already recorded) and moves
	// the projection forward to View if View.Seq is newer, in one transaction.
	RecordTransition(ctx context.Context, t Transition) error
}
