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

// NotificationState is where a message stands in the ledger.
type NotificationState string

// Ledger states.
const (
	NotificationNew     NotificationState = "new"     // never claimed before: send it
	NotificationSending NotificationState = "sending" // claimed, outcome unknown
	NotificationSent    NotificationState = "sent"
	NotificationFailed  NotificationState = "failed"
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
	Attempts          int               `json:"attempts"`
	UpdatedAt         time.Time         `json:"updated_at"`
}

// NotificationLedger makes every message go out at most once.
type NotificationLedger interface {
	// ClaimNotification inserts the key in state sending and returns the state it was
	// in before: NotificationNew when this call claimed it.
	ClaimNotification(ctx context.Context, c NotificationClaim) (NotificationRecord, error)
	MarkNotificationSent(ctx context.Context, key, providerMessageID string) error
	MarkNotificationFailed(ctx context.Context, key, reason string) error
	// ReleaseNotification returns a claimed key to new after a failure that certainly
	// sent nothing (e.g. a 429 or 5xx answer), so a retry may send it.
	ReleaseNotification(ctx context.Context, key, reason string) error
}

// StaffMember is a person or queue in the staff directory.
type StaffMember struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	Role        Role     `json:"role"`
	Tier        Tier     `json:"tier"`
	Departments []string `json:"departments,omitempty"`
	Active      bool     `json:"active"`
}

// Directory answers who serves a tier and department.
type Directory interface {
	// PickAssignee returns the active member of the tier (and department, when given)
	// with the fewest open cases, ties by name; ok is false when nobody serves it.
	PickAssignee(ctx context.Context, tier Tier, department string) (m StaffMember, ok bool, err error)
	// StaffByID returns one member.
	StaffByID(ctx context.Context, id string) (StaffMember, bool, error)
	// Supervisors returns active members of tier or above (for warnings and approvals).
	StaffAtTier(ctx context.Context, tier Tier, department string) ([]StaffMember, error)
}

// CaseFilter selects cases for lists.
type CaseFilter struct {
	Status     Status
	Tier       Tier
	Priority   Priority
	Department string
	Assignee   string
	Source     string
	Breached   *bool
	Limit      int
	Cursor     string
}

// CasePage is one page of a list.
type CasePage struct {
	Cases      []CaseView `json:"cases"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// KPIQuery asks for the KPIs of cases opened in [From, To).
type KPIQuery struct {
	From    time.Time
	To      time.Time
	GroupBy string // "", category, department, tier, priority
}

// KPIs are the seeds' indicators for one group of cases.
type KPIs struct {
	Group                   string           `json:"group,omitempty"`
	CasesOpened             int              `json:"cases_opened"`
	EscalatedCases          int              `json:"escalated_cases"`
	EscalationRate          float64          `json:"escalation_rate"`
	EscalationsToTier       map[string]int   `json:"escalations_to_tier"`
	FirstTierResolutionRate float64          `json:"first_tier_resolution_rate"`
	ResolvedCases           int              `json:"resolved_cases"`
	TimeToResolutionP50     *Duration        `json:"time_to_resolution_p50"`
	TimeToResolutionP90     *Duration        `json:"time_to_resolution_p90"`
	ResolvedWithin30Days    float64          `json:"resolved_within_30_days"`
	SLABreachesByTier       map[string]int   `json:"sla_breaches_by_tier"`
	CSATAverage             *float64         `json:"csat_average"`
	CSATDistribution        map[string]int   `json:"csat_distribution"`
	SurveyResponseRate      float64          `json:"survey_response_rate"`
	ReopenRate              float64          `json:"reopen_rate"`
	CompensationCents       map[string]int64 `json:"compensation_cents"` // by currency
	TopCategories           []CategoryCount  `json:"top_categories"`
}

// CategoryCount is one recurring category and how many escalated cases it caused.
type CategoryCount struct {
	Category string `json:"category"`
	Cases    int    `json:"cases"`
}

// KPIReport is the KPI answer: the total and, with GroupBy, one row per group.
type KPIReport struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	GroupBy string    `json:"group_by,omitempty"`
	Total   KPIs      `json:"total"`
	Groups  []KPIs    `json:"groups,omitempty"`
}

// CaseReader reads the durable record for lists, timelines and reports.
type CaseReader interface {
	GetCase(ctx context.Context, id string) (CaseView, error) // *Error CodeNotFound when absent
	ListCases(ctx context.Context, f CaseFilter) (CasePage, error)
	CaseEvents(ctx context.Context, id string) ([]CaseEvent, error)
	KPIs(ctx context.Context, q KPIQuery) (KPIReport, error)
}

// Store is everything the product keeps in PostgreSQL.
type Store interface {
	CaseRecorder
	NotificationLedger
	Directory
	CaseReader
}

// Audience is who a message is for.
type Audience string

// Audiences.
const (
	AudienceCustomer Audience = "customer"
	AudienceStaff    Audience = "staff"
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

// Address is one email recipient.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// MessageData is everything a template may show. Only what the kind needs is set.
type MessageData struct {
	CaseID       string         `json:"case_id"`
	Reference    string         `json:"reference"` // the CRM's own id, for the customer
	Subject      string         `json:"subject"`
	CustomerName string         `json:"customer_name,omitempty"`
	Locale       string         `json:"locale,omitempty"`
	Tier         Tier           `json:"tier"`
	TierName     string         `json:"tier_name,omitempty"`
	Team         string         `json:"team,omitempty"`
	Department   string         `json:"department,omitempty"`
	ETA          *time.Time     `json:"eta,omitempty"`
	Text         string         `json:"text,omitempty"` // the human's message to the customer
	Resolution   string         `json:"resolution,omitempty"`
	Explanation  string         `json:"explanation,omitempty"`
	Apology      bool           `json:"apology,omitempty"`
	Compensation []Compensation `json:"compensation,omitempty"`
	SurveyURL    string         `json:"survey_url,omitempty"` // filled by the activity
	ExpiresAt    *time.Time     `json:"expires_at,omitempty"`
	Clock        Clock          `json:"clock,omitempty"`
	Deadline     *time.Time     `json:"deadline,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	Approval     *Approval      `json:"approval,omitempty"`
	CaseURL      string         `json:"case_url,omitempty"` // staff: link to the case
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
