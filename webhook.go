package tierflow

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Outbound webhooks (integrations.md, "Outbound: signed webhooks"): an integration
// subscribes a URL to the audit events of the cases it may see; every matching
// event becomes one delivery per subscription, sent in seq order per case, signed
// with Standard Webhooks headers, retried for at least WebhookRetryWindow.

// WebhookEventPrefix turns an audit event type into a webhook event type:
// "escalated" is delivered as "case.escalated".
const WebhookEventPrefix = "case."

// WebhookAllEvents subscribes to every event type.
const WebhookAllEvents = "case.*"

// WebhookRetryWindow is how long a failing delivery is retried, counted from its
// first attempt, before it is dead and its subscription disabled.
const WebhookRetryWindow = 72 * time.Hour

// WebhookSecretOverlap is how long the previous secret keeps signing after a
// rotation (both signatures are sent meanwhile).
const WebhookSecretOverlap = 24 * time.Hour

// MaxActiveWebhookSubscriptions bounds one owner's active subscriptions: the
// fan-out runs inside every case's record transaction, so each subscription adds
// to the cost of recording every event.
const MaxActiveWebhookSubscriptions = 25

// TooManyWebhookSubscriptions refuses one more active subscription (422).
func TooManyWebhookSubscriptions() error {
	return Errorf(CodeInvalid, "at most %d active webhook subscriptions per integration: delete one you no longer need first",
		MaxActiveWebhookSubscriptions)
}

// WebhookEventType is the webhook type of an audit event type.
func WebhookEventType(t EventType) string { return WebhookEventPrefix + string(t) }

// WebhookStatus is a subscription's state.
type WebhookStatus string

// Subscription states: a disabled subscription gets no new deliveries (a 410
// answer, a dead delivery); redelivery enables it again.
const (
	WebhookActive   WebhookStatus = "active"
	WebhookDisabled WebhookStatus = "disabled"
)

// DeliveryStatus is a delivery's state.
type DeliveryStatus string

// Delivery states: pending (not yet attempted, or queued again), failing (an
// attempt failed; retried with backoff), delivered (a 2xx answer), dead (the
// retry window ran out, or the receiver answered 410).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryFailing   DeliveryStatus = "failing"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryDead      DeliveryStatus = "dead"
)

// DeliveryStatuses lists every delivery state.
var DeliveryStatuses = []DeliveryStatus{DeliveryPending, DeliveryFailing, DeliveryDelivered, DeliveryDead}

// Valid reports whether s is a known delivery state.
func (s DeliveryStatus) Valid() bool { return oneOf(s, DeliveryStatuses) }

// WebhookSubscription is one receiver of case events. Its secret never appears
// here: it is shown once, at creation or rotation, and stored encrypted.
type WebhookSubscription struct {
	ID      string `json:"id"`
	OwnerID string `json:"owner_id"`
	// AllowedSources is the owner's scope when it subscribed (empty: every
	// source): only those sources' cases are delivered.
	AllowedSources []string      `json:"-"`
	URL            string        `json:"url"`
	Events         []string      `json:"events"`
	Description    string        `json:"description"`
	Status         WebhookStatus `json:"status"`
	DisabledReason string        `json:"disabled_reason,omitempty"`
	// PreviousSecretExpiresAt is set during a rotation's overlap.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// NewWebhookSubscription is what a subscriber asks for.
type NewWebhookSubscription struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// Limits of a subscription's fields.
const (
	MaxWebhookURLLen         = 2000
	MaxWebhookDescriptionLen = 200
	MaxWebhookEvents         = 64
)

// Validate checks the request's own fields; the URL's target is judged by the
// egress guard (internal/egress), which knows the mode.
func (n NewWebhookSubscription) Validate() error {
	var v Validation
	v.Check(n.URL != "" && len(n.URL) <= MaxWebhookURLLen, "url", "must be 1 to %d characters", MaxWebhookURLLen)
	v.Check(len(n.Events) > 0 && len(n.Events) <= MaxWebhookEvents, "events", "must list 1 to %d event types", MaxWebhookEvents)
	for _, e := range n.Events {
		if !ValidWebhookEventPattern(e) {
			v.Add("events", "%q is neither %q nor a case event type such as %q", clipText(e, 64), WebhookAllEvents,
				WebhookEventType(EventEscalated))
			break
		}
	}
	v.Check(len([]rune(n.Description)) <= MaxWebhookDescriptionLen, "description", "must be at most %d characters",
		MaxWebhookDescriptionLen)
	return v.Err("invalid webhook subscription")
}

// ValidWebhookEventPattern reports whether p is "case.*" or "case.<event type>".
func ValidWebhookEventPattern(p string) bool {
	if p == WebhookAllEvents {
		return true
	}
	t, ok := strings.CutPrefix(p, WebhookEventPrefix)
	return ok && EventType(t).Valid()
}

// WebhookMatches reports whether a subscription to patterns receives eventType
// (a webhook type, "case.escalated"). The database trigger applies the same rule.
func WebhookMatches(patterns []string, eventType string) bool {
	for _, p := range patterns {
		if p == WebhookAllEvents || p == eventType {
			return true
		}
	}
	return false
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// WebhookDelivery is one event on its way to one subscription. WebhookID is the
// same on every attempt, so receivers deduplicate by it.
type WebhookDelivery struct {
	SubscriptionID string         `json:"subscription_id"`
	CaseID         string         `json:"case_id"`
	Seq            int64          `json:"seq"`
	EventType      string         `json:"event_type"`
	WebhookID      string         `json:"webhook_id"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	// LastStatus is the HTTP status of the last attempt (0: no answer).
	LastStatus     int        `json:"last_status,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	FirstAttemptAt *time.Time `json:"first_attempt_at,omitempty"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
}

// DeliveryFilter selects a subscription's deliveries, oldest first.
type DeliveryFilter struct {
	Status DeliveryStatus // empty: every state
	CaseID string         // empty: every case
	Limit  int
}

// Redelivery queues deliveries again. With CaseID, every event of that case from
// FromSeq on that the subscription matches is queued (events recorded while the
// subscription was disabled included); without, every undelivered (pending,
// failing or dead) delivery from FromSeq on. Either way the subscription is
// enabled again, and enabling a disabled one also queues its other undelivered
// deliveries and the events of every case it may see recorded since it was
// disabled.
type Redelivery struct {
	FromSeq int64  `json:"from_seq"`
	CaseID  string `json:"case_id,omitempty"`
}

// WebhookSecrets are the secrets a delivery is signed with: Current always,
// Previous during a rotation's overlap.
type WebhookSecrets struct {
	Current  string // whsec_...
	Previous string // whsec_... or empty
}

// WebhookStore keeps subscriptions and deliveries (postgres.Webhooks). Every error
// is a *Error: CodeNotFound for an unknown subscription, as for one of another
// owner (callers pass the owner to scope every read and change).
type WebhookStore interface {
	CreateSubscription(ctx context.Context, owner Principal, n NewWebhookSubscription, secret string) (WebhookSubscription, error)
	ListSubscriptions(ctx context.Context, ownerID string) ([]WebhookSubscription, error)
	// GetSubscription with an empty ownerID reads any subscription (operators, workers).
	GetSubscription(ctx context.Context, ownerID, id string) (WebhookSubscription, error)
	DeleteSubscription(ctx context.Context, ownerID, id string) error
	// RotateSecret makes secret the current one; the old one signs too until
	// now+WebhookSecretOverlap.
	RotateSecret(ctx context.Context, ownerID, id, secret string) (WebhookSubscription, error)
	ListDeliveries(ctx context.Context, ownerID, id string, f DeliveryFilter) ([]WebhookDelivery, error)
	// Redeliver queues deliveries again (see Redelivery) and wakes the dispatcher;
	// it returns how many were queued.
	Redeliver(ctx context.Context, ownerID, id string, r Redelivery) (int, error)
}

// The delivery side, used by the worker's webhook activities.

// WebhookPair is a (subscription, case) whose newest deliveries the dispatcher has
// not yet handed to their delivery workflow; MaxSeq is the newest of them.
type WebhookPair struct {
	SubscriptionID string `json:"subscription_id"`
	CaseID         string `json:"case_id"`
	MaxSeq         int64  `json:"max_seq"`
}

// WebhookCaseSnapshot is what a delivery says of the case besides the event:
// the case's projection after the record that wrote the event. When one record
// writes several events (a decision and what it triggers), every one of them
// carries the projection after the last, not the case as that event alone left
// it. It holds no customer data.
type WebhookCaseSnapshot struct {
	Source     string          `json:"source"`
	ExternalID string          `json:"external_id"`
	Assignee   *string         `json:"assignee"`
	Deadlines  json.RawMessage `json:"deadlines"`
}

// WebhookMessage is everything one attempt needs. It holds the secrets: it never
// leaves the activity that sends it (never a workflow's input or result).
type WebhookMessage struct {
	Delivery           WebhookDelivery
	URL                string
	Description        string
	SubscriptionStatus WebhookStatus
	Secrets            WebhookSecrets
	EventAt            time.Time
	Tier               Tier
	Status             Status
	Department         string
	Details            map[string]string
	Case               WebhookCaseSnapshot
}

// WebhookAttempt is the outcome of one attempt.
type WebhookAttempt struct {
	SubscriptionID string
	CaseID         string
	Seq            int64
	At             time.Time
	Delivered      bool
	HTTPStatus     int    // 0: no answer
	Error          string // why it failed, safe to show the subscriber
	// NextAttemptAt is when the workflow tries again (failures only).
	NextAttemptAt time.Time
}

// WebhookWakeListener reports new deliveries (PostgreSQL LISTEN).
type WebhookWakeListener interface {
	// Wait returns when a wake-up arrives or after timeout, whichever is first.
	Wait(ctx context.Context, timeout time.Duration) error
	Close()
}

// WebhookOutbox is the delivery side of the webhook store (postgres.Webhooks).
type WebhookOutbox interface {
	UndispatchedPairs(ctx context.Context, limit int) ([]WebhookPair, error)
	// MarkDispatched records that each pair's workflow was woken for its rows up to MaxSeq.
	MarkDispatched(ctx context.Context, pairs []WebhookPair) error
	// NextDelivery returns the lowest undelivered (pending or failing) delivery of
	// the pair while its subscription is active; found is false otherwise.
	NextDelivery(ctx context.Context, subscriptionID, caseID string) (d WebhookDelivery, found bool, err error)
	LoadMessage(ctx context.Context, subscriptionID, caseID string, seq int64) (WebhookMessage, error)
	RecordAttempt(ctx context.Context, a WebhookAttempt) (WebhookDelivery, error)
	// GiveUp marks a delivery dead (or, with seq 0, none) and disables its subscription with reason.
	GiveUp(ctx context.Context, subscriptionID, caseID string, seq int64, reason string) error
	// PendingCounts returns the undelivered deliveries of each active subscription.
	PendingCounts(ctx context.Context) (map[string]int, error)
	// PurgeSettledDeliveries deletes up to limit deliveries of active
	// subscriptions delivered (or, dead ones, created) more than olderThan ago and
	// returns how many. A disabled subscription's rows are kept for its operators
	// and its redelivery.
	PurgeSettledDeliveries(ctx context.Context, olderThan time.Duration, limit int) (int, error)
	ListenWakes(ctx context.Context) (WebhookWakeListener, error)
}
