package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/egress"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// DeliverWebhookInput is one attempt at one delivery.
type DeliverWebhookInput struct {
	SubscriptionID string `json:"subscription_id"`
	CaseID         string `json:"case_id"`
	Seq            int64  `json:"seq"`
	// RetryIn is when the workflow tries again should this attempt fail (it is
	// recorded as the delivery's next_attempt_at).
	RetryIn time.Duration `json:"retry_in"`
}

// Outcomes of an attempt.
const (
	WebhookDelivered = "delivered" // 2xx
	WebhookFailed    = "failed"    // another answer, no answer, a refused target: retried
	WebhookGone      = "gone"      // 410: the subscription is disabled
	WebhookStopped   = "stopped"   // the subscription was deleted or disabled meanwhile
)

// DeliverWebhookResult says what became of the attempt.
type DeliverWebhookResult struct {
	Outcome    string `json:"outcome"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Error      string `json:"error,omitempty"`
	// FirstAttemptAt starts the retry window.
	FirstAttemptAt time.Time `json:"first_attempt_at"`
}

// DeliverWebhook sends one delivery once (one POST, WebhookTimeout) and records
// the outcome. A failed POST is not an activity error: the workflow owns the
// backoff. The webhook-id is the same on every attempt, so a retried activity
// that POSTs again is a duplicate receivers recognise.
func (a *WebhookActivities) DeliverWebhook(ctx context.Context, in DeliverWebhookInput) (DeliverWebhookResult, error) {
	m, err := a.Outbox.LoadMessage(ctx, in.SubscriptionID, in.CaseID, in.Seq)
	if tierflow.ErrorCode(err) == tierflow.CodeNotFound {
		return DeliverWebhookResult{Outcome: WebhookStopped}, nil
	}
	if err != nil {
		return DeliverWebhookResult{}, activityError("load webhook delivery", err)
	}
	if m.SubscriptionStatus != tierflow.WebhookActive ||
		(m.Delivery.Status != tierflow.DeliveryPending && m.Delivery.Status != tierflow.DeliveryFailing) {
		return DeliverWebhookResult{Outcome: WebhookStopped}, nil
	}
	now := a.now()
	status, sendErr := a.post(ctx, m, now)
	attempt := tierflow.WebhookAttempt{SubscriptionID: in.SubscriptionID, CaseID: in.CaseID, Seq: in.Seq, At: now,
		HTTPStatus: status, Delivered: sendErr == nil && status >= 200 && status < 300, NextAttemptAt: now.Add(in.RetryIn)}
	res := DeliverWebhookResult{Outcome: WebhookFailed, HTTPStatus: status}
	switch {
	case attempt.Delivered:
		res.Outcome = WebhookDelivered
	case sendErr != nil:
		attempt.Error = sendErr.Error()
	default:
		attempt.Error = "the receiver answered " + strconv.Itoa(status) + " " + http.StatusText(status)
	}
	res.Error = attempt.Error
	d, err := a.Outbox.RecordAttempt(ctx, attempt)
	if tierflow.ErrorCode(err) == tierflow.CodeConflict {
		return DeliverWebhookResult{Outcome: WebhookStopped}, nil // queued again or deleted meanwhile
	}
	if err != nil {
		return DeliverWebhookResult{}, activityError("record webhook attempt", err)
	}
	if d.FirstAttemptAt != nil {
		res.FirstAttemptAt = *d.FirstAttemptAt
	}
	metrics := activity.GetMetricsHandler(ctx).WithTags(map[string]string{"subscription": in.SubscriptionID})
	switch {
	case res.Outcome == WebhookDelivered:
		metrics.Timer(MetricWebhookLag).Record(now.Sub(d.CreatedAt))
	case status == http.StatusGone:
		metrics.Counter(MetricWebhookFailures).Inc(1)
		res.Outcome = WebhookGone
		if err := a.Outbox.GiveUp(ctx, in.SubscriptionID, in.CaseID, in.Seq, "the receiver answered 410 Gone"); err != nil {
			return DeliverWebhookResult{}, activityError("disable webhook subscription", err)
		}
	default:
		metrics.Counter(MetricWebhookFailures).Inc(1)
	}
	return res, nil
}

// post sends m signed at now and returns the answer's status.
func (a *WebhookActivities) post(ctx context.Context, m tierflow.WebhookMessage, now time.Time) (int, error) {
	if err := a.Egress.CheckURL(ctx, m.URL, nil); err != nil {
		return 0, a.refused(ctx, m, err)
	}
	body, err := WebhookBody(m)
	if err != nil {
		return 0, err
	}
	headers, err := SignedWebhookHeaders(m.Secrets, m.Delivery.WebhookID, now, body)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build the request: %w", err)
	}
	req.Header = headers
	resp, err := a.client().Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("no answer within %s", WebhookTimeout)
		}
		if errors.Is(err, egress.ErrRefused) { // at dial time: the name resolves elsewhere now
			return 0, a.refused(ctx, m, err)
		}
		return 0, fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// refused logs why the target was refused and returns the refusal alone: the
// attempt's error is shown to the subscriber (its deliveries' last_error), so it
// names the rule, never the address its host resolved to.
func (a *WebhookActivities) refused(ctx context.Context, m tierflow.WebhookMessage, err error) error {
	activity.GetLogger(ctx).Warn("webhook target refused", "subscription_id", m.Delivery.SubscriptionID,
		"detail", egress.Detail(err))
	var r *egress.Refusal
	if errors.As(err, &r) {
		return r
	}
	return err
}

var defaultClients sync.Map // egress mode -> *http.Client

func (a *WebhookActivities) client() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	if c, ok := defaultClients.Load(a.Egress); ok {
		return c.(*http.Client)
	}
	c := &http.Client{
		Timeout: WebhookTimeout,
		Transport: &http.Transport{DialContext: a.Egress.Dialer(WebhookTimeout).DialContext,
			TLSHandshakeTimeout: WebhookTimeout, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute},
		// A redirect would reach a target the guard never judged.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	actual, _ := defaultClients.LoadOrStore(a.Egress, c)
	return actual.(*http.Client)
}

func (a *WebhookActivities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// SignedWebhookHeaders are the Standard Webhooks headers of body sent as msgID at
// ts: one v1 signature per secret, the current one first, space-separated.
func SignedWebhookHeaders(secrets tierflow.WebhookSecrets, msgID string, ts time.Time, body []byte) (http.Header, error) {
	var keys []stdwebhook.Secret
	for _, s := range []string{secrets.Current, secrets.Previous} {
		if s == "" {
			continue
		}
		key, err := stdwebhook.ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("webhook secret: %w", err)
		}
		keys = append(keys, key)
	}
	h := stdwebhook.Headers(keys, msgID, ts, body)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Tierflow-Webhooks/1")
	return h, nil
}

// WebhookPayload is the body of a delivery.
type WebhookPayload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what a delivery says: the event (tier, status, department,
// details are the event's own) and the case's snapshot (source, external_id,
// assignee, deadlines: the projection after the record that wrote the event,
// see tierflow.WebhookCaseSnapshot). No customer name, email or free text.
type WebhookData struct {
	CaseID     string            `json:"case_id"`
	Seq        int64             `json:"seq"`
	Source     string            `json:"source"`
	ExternalID string            `json:"external_id"`
	Tier       tierflow.Tier     `json:"tier"`
	Status     tierflow.Status   `json:"status"`
	Department string            `json:"department"`
	Assignee   *string           `json:"assignee"`
	Deadlines  json.RawMessage   `json:"deadlines"`
	Details    map[string]string `json:"details"`
}

// webhookDetailKeys are the event details a delivery may carry: identifiers,
// amounts, clocks and modes. Free text that may hold personal data (a survey
// comment) is left out, and so is any key added later until it is listed here.
var webhookDetailKeys = map[string]bool{
	tierflow.DetailAction: true, tierflow.DetailAmountCents: true, tierflow.DetailApology: true,
	tierflow.DetailApproval: true, tierflow.DetailApprovalID: true, tierflow.DetailAssignee: true,
	tierflow.DetailClock: true, tierflow.DetailCompensationID: true, tierflow.DetailCurrency: true,
	tierflow.DetailDeadline: true, tierflow.DetailDecisionID: true, tierflow.DetailEventID: true,
	tierflow.DetailKind: true, tierflow.DetailMode: true, tierflow.DetailOwner: true, tierflow.DetailPolicy: true,
	tierflow.DetailPriority: true, tierflow.DetailReminder: true, tierflow.DetailRepeat: true,
	tierflow.DetailRequiredTier: true, tierflow.DetailResolved: true, tierflow.DetailScore: true,
	tierflow.DetailStartTier: true, tierflow.DetailTrigger: true, tierflow.DetailVia: true,
	tierflow.DetailFromPolicy: true, tierflow.DetailDeadlinesBefore: true, tierflow.DetailDeadlinesAfter: true,
	tierflow.DetailSendAt: true,
}

// WebhookBody is the JSON body of m.
func WebhookBody(m tierflow.WebhookMessage) ([]byte, error) {
	details := map[string]string{}
	for k, v := range m.Details {
		if webhookDetailKeys[k] {
			details[k] = v
		}
	}
	deadlines := m.Case.Deadlines
	if len(deadlines) == 0 {
		deadlines = json.RawMessage("{}")
	}
	return json.Marshal(WebhookPayload{Type: m.Delivery.EventType, Timestamp: m.EventAt.UTC(), Data: WebhookData{
		CaseID: m.Delivery.CaseID, Seq: m.Delivery.Seq, Source: m.Case.Source, ExternalID: m.Case.ExternalID,
		Tier: m.Tier, Status: m.Status, Department: m.Department, Assignee: m.Case.Assignee,
		Deadlines: deadlines, Details: details,
	}})
}
