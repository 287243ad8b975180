package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/secrets"
)

// zendeskDelivery is what Zendesk sends for the README's trigger template, signed
// as Zendesk signs (base64 HMAC-SHA256 of the timestamp and the body) with the
// documented dev secret, as `make dev` configures it.
type zendeskDelivery struct {
	event      string
	ticket     map[string]any
	invocation string
}

func (d zendeskDelivery) post(ctx context.Context, t *testing.T, apiURL string, at time.Time) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"event": d.event, "ticket": d.ticket})
	require.NoError(t, err)
	stamp := at.UTC().Format(time.RFC3339)
	mac := hmac.New(sha256.New, []byte(secrets.DevZendeskSecret))
	mac.Write([]byte(stamp))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/v1/connectors/zendesk", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", stamp)
	req.Header.Set("X-Zendesk-Webhook-Invocation-Id", d.invocation)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// One Zendesk escalation opens a case on the real stack; after an agent asks the
// customer for information, the requester's Zendesk comment is the reply that
// resumes the case, once, visible on the case's timeline.
func TestZendeskConnectorEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := startStackWithEnv(t, map[string]string{
		"TIERFLOW_ZENDESK_SECRET": secrets.DevZendeskSecret, "TIERFLOW_ZENDESK_DEPARTMENTS": "billing,technical,shipping",
	})
	a := newAPI(s.APIURL)

	ticketID := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	ticket := map[string]any{
		"id": ticketID, "url": "acme.zendesk.com/agent/tickets/" + ticketID, "subject": "Refund not received",
		"description": "Paid twice for order 7731.", "priority": "High", "tags": "vip refund", "group": "Billing",
		"created_at":     time.Now().UTC().Add(-10 * time.Minute).Format(time.RFC3339),
		"requester":      map[string]any{"id": "991", "name": "Ada Lovelace", "email": "ada@example.com", "locale": "en"},
		"latest_comment": map[string]any{"author_id": "501", "body": "Charged twice; the refund is over my limit."},
	}
	opened := zendeskDelivery{event: "escalate", ticket: ticket, invocation: "inv-1"}.post(ctx, t, s.APIURL, time.Now()).
		expect(t, http.StatusCreated, "the Zendesk escalation")
	var answer struct {
		CaseID string `json:"case_id"`
		Opened bool   `json:"opened"`
	}
	opened.decode(t, &answer)
	caseID := tierflow.CaseID("zendesk", ticketID)
	assert.Equal(t, caseID, answer.CaseID)
	assert.True(t, answer.Opened)

	v := a.getCase(ctx, t, tokViewer, caseID)
	assert.Equal(t, tierflow.StatusOpen, v.Status)
	assert.Equal(t, "billing", v.Department, "the Zendesk group names the department")
	assert.Equal(t, tierflow.PriorityHigh, v.Priority)
	// Zendesk's retry opens nothing more.
	zendeskDelivery{event: "escalate", ticket: ticket, invocation: "inv-1"}.post(ctx, t, s.APIURL, time.Now().Add(time.Second)).
		expect(t, http.StatusOK, "the retried escalation")

	a.mustDecide(ctx, t, tokAgent, caseID, map[string]any{"action": "acknowledge", "decision_id": "zd-ack"})
	v = a.mustDecide(ctx, t, tokAgent, caseID, map[string]any{"action": "request_info", "decision_id": "zd-ask",
		"message": "Please send the bank statement showing both charges."})
	require.Equal(t, tierflow.StatusAwaitingCustomer, v.Status)

	ticket["latest_comment"] = map[string]any{"author_id": "991", "body": "Here is the bank statement."}
	comment := zendeskDelivery{event: "comment", ticket: ticket, invocation: "inv-2"}
	comment.post(ctx, t, s.APIURL, time.Now()).expect(t, http.StatusOK, "the requester's comment")
	comment.post(ctx, t, s.APIURL, time.Now().Add(time.Second)).expect(t, http.StatusOK, "Zendesk's retry of the comment")

	v = a.getCase(ctx, t, tokViewer, caseID)
	assert.Equal(t, tierflow.StatusInProgress, v.Status, "the reply resumes the case")
	var replies []tierflow.CaseEvent
	for _, ev := range a.events(ctx, t, tokViewer, caseID) {
		if ev.Type == tierflow.EventCustomerReplied {
			replies = append(replies, ev)
		}
	}
	require.Len(t, replies, 1, "the retried comment is applied once")
	assert.Equal(t, "Here is the bank statement.", replies[0].Summary)
	assert.Equal(t, "connector:zendesk", replies[0].Actor.ID)
}
