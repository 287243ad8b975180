package tierflow

import (
	"context"
	"time"
)

// MessageKind names a message template.
type MessageKind string

// Customer and staff messages.
const (
	MsgEscalated        MessageKind = "escalated"          // who handles it now, ETA
	MsgProgressUpdate   MessageKind = "progress_update"    // cadence or human update
	MsgInfoRequest      MessageKind = "info_request"       // we need something from you
	MsgWaitingReminder  MessageKind = "waiting_reminder"   // still waiting on you
	MsgETAChanged       MessageKind = "eta_changed"        // new ETA (breach, pause, resume)
	MsgResolution       MessageKind = "resolution"         // apology+explanation at tier 3+
	MsgSurvey           MessageKind = "survey"             // signed link
	MsgSurveyReminder   MessageKind = "survey_reminder"    // one reminder
	MsgReopened         MessageKind = "reopened"           // we reopened your case
	MsgAutoResolved     MessageKind = "auto_resolved"      // closed for lack of reply
	MsgStaffAssignment  MessageKind = "staff_assignment"   // a case for your tier/queue
	MsgStaffWarning     MessageKind = "staff_warning"      // pre-breach (75%)
	MsgStaffBreach      MessageKind = "staff_breach"       // breach
	MsgStaffApproval    MessageKind = "staff_approval"     // approval request
	MsgStaffCloseTarget MessageKind = "staff_close_target" // day-25 warning or day-30 breach
)

// MessageKinds lists every message kind, customer messages first.
var MessageKinds = []MessageKind{
	MsgEscalated, MsgProgressUpdate, MsgInfoRequest, MsgWaitingReminder, MsgETAChanged, MsgResolution,
	MsgSurvey, MsgSurveyReminder, MsgReopened, MsgAutoResolved,
	MsgStaffAssignment, MsgStaffWarning, MsgStaffBreach, MsgStaffApproval, MsgStaffCloseTarget,
}

// Valid reports whether k is a known message kind.
func (k MessageKind) Valid() bool { return oneOf(k, MessageKinds) }

// Audience is who a message of kind k is for: staff for the MsgStaff* kinds, the
// customer for the others.
func (k MessageKind) Audience() Audience {
	switch k {
	case MsgStaffAssignment, MsgStaffWarning, MsgStaffBreach, MsgStaffApproval, MsgStaffCloseTarget:
		return AudienceStaff
	}
	return AudienceCustomer
}

// Audience is who a message is for.
type Audience string

// Audiences.
const (
	AudienceCustomer Audience = "customer"
	AudienceStaff    Audience = "staff"
)

// Address is one email recipient.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// MessageData is everything a template may show. Only what the kind needs is set.
type MessageData struct {
	CaseID       string     `json:"case_id"`
	Reference    string     `json:"reference"` // the CRM's own id, for the customer
	Subject      string     `json:"subject"`
	CustomerName string     `json:"customer_name,omitempty"`
	Locale       string     `json:"locale,omitempty"`
	Tier         Tier       `json:"tier"`
	TierName     string     `json:"tier_name,omitempty"`
	Team         string     `json:"team,omitempty"`
	Department   string     `json:"department,omitempty"`
	ETA          *time.Time `json:"eta,omitempty"`
	// AnswerWithin is how long the answer takes once a paused case stops waiting
	// ("32 hours", "6 business hours"); WaitingFor says on what: "customer" or
	// "approval". ETA is never set while paused.
	AnswerWithin string         `json:"answer_within,omitempty"`
	WaitingFor   string         `json:"waiting_for,omitempty"`
	Text         string         `json:"text,omitempty"` // the human's message to the customer
	Resolution   string         `json:"resolution,omitempty"`
	Explanation  string         `json:"explanation,omitempty"`
	Apology      bool           `json:"apology,omitempty"`
	Compensation []Compensation `json:"compensation,omitempty"`
	SurveyURL    string         `json:"survey_url,omitempty"`   // filled by the activity
	SurveyRound  int            `json:"survey_round,omitempty"` // the round SurveyURL is signed for (SurveyLink)
	ExpiresAt    *time.Time     `json:"expires_at,omitempty"`
	Clock        Clock          `json:"clock,omitempty"`
	Deadline     *time.Time     `json:"deadline,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	Approval     *Approval      `json:"approval,omitempty"`
	CaseURL      string         `json:"case_url,omitempty"` // staff: link to the case
	// Staff links, filled by the notify activity at send time (never by the
	// workflow, so emails change without a workflow change): the CRM ticket of the
	// case's open request, the case's page in the Temporal UI and, on an approval
	// request, the signed single-use approve and reject links (ApprovalLink).
	CRMURL      string `json:"crm_url,omitempty"`
	WorkflowURL string `json:"workflow_url,omitempty"`
	ApproveURL  string `json:"approve_url,omitempty"`
	RejectURL   string `json:"reject_url,omitempty"`
}

// Email is one message ready for a Mailer: the mailer renders Kind's template with
// Data (or uses a provider template) and sends it.
type Email struct {
	Key      string      `json:"key"`
	CaseID   string      `json:"case_id"`
	Kind     MessageKind `json:"kind"`
	Audience Audience    `json:"audience"`
	To       []Address   `json:"to"`
	Data     MessageData `json:"data"`
}

// Mailer sends an email. Errors are *Error: CodeUnavailable (retryable; RetryAfter
// may say when) or CodeRejected (permanent).
type Mailer interface {
	Send(ctx context.Context, e Email) (providerMessageID string, err error)
}

// RetryAfterError is implemented by errors that know when to retry.
type RetryAfterError interface {
	RetryAfter() time.Duration
}

// NotificationState is where a message stands in the ledger.
type NotificationState string

// Ledger states.
const (
	NotificationNew     NotificationState = "new"     // never claimed before: send it
	NotificationSending NotificationState = "sending" // claimed, outcome unknown
	NotificationSent    NotificationState = "sent"
	NotificationFailed  NotificationState = "failed"
	// NotificationUnconfirmed: the provider may have the message (an attempt died
	// after handing it over, the answer was lost, a 5xx). Not resent; for a person
	// to check.
	NotificationUnconfirmed NotificationState = "unconfirmed"
)

// NotificationClaim asks to own the sending of one message.
type NotificationClaim struct {
	Key      string      `json:"key"`
	CaseID   string      `json:"case_id"`
	Kind     MessageKind `json:"kind"`
	Audience Audience    `json:"audience"`
	// Recipients is a count only; addresses are not logged in the ledger.
	Recipients int `json:"recipients"`
}

// NotificationRecord is a ledger row.
type NotificationRecord struct {
	Key               string            `json:"key"`
	CaseID            string            `json:"case_id"`
	Kind              MessageKind       `json:"kind"`
	State             NotificationState `json:"state"`
	ProviderMessageID string            `json:"provider_message_id,omitempty"`
	Error             string            `json:"error,omitempty"`
	// Attempts counts the claims of the key; the current one's number is the
	// fencing token of every update (see NotificationLedger).
	Attempts  int       `json:"attempts"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NotificationLedger makes every message go out at most once.
//
// Every update after a claim is fenced on the claim it settles: claim is the
// Attempts of the record ClaimNotification returned (to the attempt that owns the
// key, or to a later attempt that found it still "sending"). An update whose claim
// no longer matches the key's state changes nothing and returns CodeConflict: the
// caller is a stale attempt (a zombie past its timeout, still running) and must not
// undo what a later attempt decided. Repeating the update that already applied is
// harmless (nil).
type NotificationLedger interface {
	// ClaimNotification inserts the key in state sending and returns the state it was
	// in before: NotificationNew when this call claimed it.
	ClaimNotification(ctx context.Context, c NotificationClaim) (NotificationRecord, error)
	MarkNotificationSent(ctx context.Context, key string, claim int, providerMessageID string) error
	MarkNotificationFailed(ctx context.Context, key string, claim int, reason string) error
	// MarkNotificationUnconfirmed settles a claim whose outcome nobody can know. The
	// same claim may still turn it into sent or failed when it learns the outcome.
	MarkNotificationUnconfirmed(ctx context.Context, key string, claim int, reason string) error
	// ReleaseNotification returns a claimed key to new after a failure that certainly
	// sent nothing (e.g. a 429), so a retry may send it.
	ReleaseNotification(ctx context.Context, key string, claim int, reason string) error
}

// MailboxMessage is one email kept by the dev mailbox instead of being sent.
type MailboxMessage struct {
	ID        int64       `json:"id"`
	Key       string      `json:"key"`
	CaseID    string      `json:"case_id"`
	Kind      MessageKind `json:"kind"`
	To        []string    `json:"to"`
	Subject   string      `json:"subject"`
	Text      string      `json:"text"`
	HTML      string      `json:"html"`
	CreatedAt time.Time   `json:"created_at"`
}

// Mailbox keeps dev emails (persisted, listable, viewable).
type Mailbox interface {
	SaveMail(ctx context.Context, m MailboxMessage) (id int64, err error) // idempotent by Key
	ListMail(ctx context.Context, caseID string, limit int) ([]MailboxMessage, error)
	GetMail(ctx context.Context, id int64) (MailboxMessage, error)
}
