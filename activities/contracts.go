package activities

import (
	"time"

	"github.com/tierflow/tierflow"
)

// Activities holds the dependencies of all activities. Register a value with the
// worker; the workflow refers to the methods through a nil *Activities.
type Activities struct {
	Store  tierflow.Store
	Mailer tierflow.Mailer
	// Outbox keeps the emails of recorded transitions (nil: the Store, when it
	// is one). Cases tells a case what the mailer could not send (DeliverOutbox).
	Outbox tierflow.Outbox
	Cases  CaseSignaller
	// SurveyKeys are the survey signing keys, newest first: the first signs, the
	// API verifies with all of them (TIERFLOW_SURVEY_KEYS). SurveyBaseURL is the
	// public API base ("https://support.example.com"), the link is
	// SurveyBaseURL+"/v1/surveys/"+token.
	SurveyKeys    [][]byte
	SurveyBaseURL string
	// StaffLinks link staff emails to the CRM ticket and the case's page in the
	// Temporal UI (nil: no such links). Approval requests also carry signed
	// approve and reject links under SurveyBaseURL+"/v1/approvals/".
	StaffLinks StaffLinks
	Now        func() time.Time
	// HeartbeatInterval is how often a notify activity heartbeats while the
	// provider has its message (default DefaultHeartbeatInterval). Keep it well
	// under the HeartbeatTimeout the workflow gives the notify activities.
	HeartbeatInterval time.Duration
	// OutboxRetention is how long DeliverOutbox keeps a delivered batch before
	// it deletes it (TIERFLOW_OUTBOX_RETENTION; 0: DefaultOutboxRetention).
	OutboxRetention time.Duration
	// OutboxBatchBudget is how long DeliverOutbox gives one batch to send
	// (0: DefaultOutboxBatchBudget); it claims no batch later than this before
	// its For ends.
	OutboxBatchBudget time.Duration
}

// DefaultHeartbeatInterval is the notify activities' heartbeat period.
const DefaultHeartbeatInterval = 2 * time.Second

// RecordTransitionInput is one or more state changes of a case: their new events
// and the projection after the last, and (runs with the email outbox) each
// transition's emails, written into the outbox in the same transaction, and the
// earlier batches they withdraw (Transition.CancelEmails: a survey scheduled
// through the outbox and not answered when its case reopened or closed). The
// transition's fields are inline in JSON, as when the input was a
// tierflow.Transition: histories recorded before Emails replay unchanged.
type RecordTransitionInput struct {
	tierflow.Transition
	// Emails are the transitions' email batches, oldest first, one per transition
	// that sends any.
	Emails []TransitionEmails `json:"emails,omitempty"`
}

// TransitionEmails is one outbox batch of a transition: a NotifyInput of the
// transition's case, named by Seq (the transition's last event, or for a
// scheduled batch the event that scheduled it). The mailer delivers them
// through Notify, each message at most once per its key, not before NotBefore
// when it is set (the survey, at its send time).
type TransitionEmails struct {
	Seq       int64           `json:"seq"`
	Messages  []NotifyMessage `json:"messages"`
	NotBefore *time.Time      `json:"not_before,omitempty"`
}

// NotifyCustomerInput asks to email the customer once per Key.
type NotifyCustomerInput struct {
	// Key is "<case id>/<event seq>/<kind>": the same key is sent at most once.
	Key      string               `json:"key"`
	CaseID   string               `json:"case_id"`
	Kind     tierflow.MessageKind `json:"kind"`
	Customer tierflow.Customer    `json:"customer"`
	Data     tierflow.MessageData `json:"data"`
}

// NotifyResult says what happened to a message.
type NotifyResult struct {
	// State is sent, duplicate (an earlier attempt already sent it), failed (no
	// recipients, or refused earlier), or unconfirmed (an earlier attempt may have
	// sent it and died before recording the outcome; not resent, see doc.go).
	State             string `json:"state"`
	ProviderMessageID string `json:"provider_message_id,omitempty"`
	Error             string `json:"error,omitempty"`
}

// Recipient groups for staff messages.
const (
	StaffOwner      = "owner"      // the case's owner (AssigneeID)
	StaffQueue      = "queue"      // the tier's queue address from the policy
	StaffSupervisor = "supervisor" // active staff at tier 3 for the department
	StaffExecutive  = "executive"  // the tier-4 queue and active executives
	StaffTier       = "tier"       // active staff at Tier for Department (approvals)
)

// NotifyStaffInput asks to email staff once per Key; the activity resolves the
// recipient groups through the staff directory and the policy's queue addresses.
type NotifyStaffInput struct {
	Key        string               `json:"key"`
	CaseID     string               `json:"case_id"`
	Kind       tierflow.MessageKind `json:"kind"`
	Groups     []string             `json:"groups"`
	Tier       tierflow.Tier        `json:"tier"`
	Department string               `json:"department,omitempty"`
	AssigneeID string               `json:"assignee_id,omitempty"`
	// Queues maps tier number (1-4) to the queue address of the pinned policy.
	Queues map[tierflow.Tier]string `json:"queues"`
	Data   tierflow.MessageData     `json:"data"`
}

// NotifyInput is one transition's emails, sent by one Notify activity: each
// message at most once per its key, exactly as NotifyCustomer or NotifyStaff
// would send it alone. A message may leave its case ID (and what NotifyCustomer
// and NotifyStaff fill in from the message: the data's case ID, the customer's
// name and locale, a staff message's department) empty: the batch names it once.
type NotifyInput struct {
	CaseID   string          `json:"case_id"`
	Messages []NotifyMessage `json:"messages"`
}

// NotifyMessage is one email of a batch: a customer or a staff message.
type NotifyMessage struct {
	Customer *NotifyCustomerInput `json:"customer,omitempty"`
	Staff    *NotifyStaffInput    `json:"staff,omitempty"`
}

// NotifyBatchResult says what became of every message of a batch, in order.
type NotifyBatchResult struct {
	Outcomes []NotifyOutcome `json:"outcomes"`
}

// NotifyOutcome is one message's fate: State is sent, duplicate, failed (no
// recipients), unconfirmed (see NotifyResult), or refused (StateRefused).
type NotifyOutcome struct {
	Key   string               `json:"key"`
	Kind  tierflow.MessageKind `json:"kind"`
	State string               `json:"state"`
	Error string               `json:"error,omitempty"`
}

// AssignOwnerInput asks who should own the case at a tier and department.
type AssignOwnerInput struct {
	CaseID     string        `json:"case_id"`
	Tier       tierflow.Tier `json:"tier"`
	Department string        `json:"department,omitempty"`
	// QueueAddress is the fallback when nobody in the directory serves it.
	QueueAddress string `json:"queue_address"`
}

// AssignOwnerResult is the proposed owner (a person) or the tier's queue.
type AssignOwnerResult struct {
	AssigneeID   string `json:"assignee_id,omitempty"` // empty: the queue
	AssigneeName string `json:"assignee_name,omitempty"`
	Queue        string `json:"queue,omitempty"`
}

// LookUpStaffInput names the staff member a signalled decision claims as its
// actor, for the workflow to check against the directory.
type LookUpStaffInput struct {
	CaseID  string `json:"case_id"`
	StaffID string `json:"staff_id"`
}

// LookUpStaffResult is the directory's entry for the ID: Found is false when the
// directory does not know it. Member carries the identity only (no email
// address: the result is kept in the case's Temporal history).
type LookUpStaffResult struct {
	Found  bool               `json:"found"`
	Active bool               `json:"active,omitempty"`
	Member tierflow.Principal `json:"member"`
}
