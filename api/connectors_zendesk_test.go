package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

const testZendeskSecret = "test-zendesk-signing-secret-0123456789"

// connectorEnv is a server over fakes with the connectors configured.
func connectorEnv(t *testing.T) *testEnv {
	t.Helper()
	env := newTestEnv(t)
	env.srv.Connectors = Connectors{ZendeskSecret: []byte(testZendeskSecret),
		ZendeskDepartments: []string{"billing", "technical"}, Generic: genericTestSecrets(t)}
	return env
}

// zendeskDeliveryBody is the trigger template's JSON as Zendesk renders it for
// ticket 48213, changed by mutate.
func zendeskDeliveryBody(event string, mutate func(ticket map[string]any)) string {
	ticket := map[string]any{
		"id": "48213", "url": "acme.zendesk.com/agent/tickets/48213", "subject": "Refund not received",
		"description": "Paid twice for order 7731.", "priority": "High", "tags": "vip refund", "group": "Billing",
		"created_at":     "2026-11-20T09:15:00Z",
		"requester":      map[string]any{"id": "991", "name": "Ada Lovelace", "email": "ada@example.com", "locale": "en-GB"},
		"latest_comment": map[string]any{"author_id": "501", "body": "Customer charged twice; needs a refund over my limit."},
	}
	if mutate != nil {
		mutate(ticket)
	}
	b, _ := json.Marshal(map[string]any{"event": event, "ticket": ticket})
	return string(b)
}

// zendeskSignature signs as Zendesk documents it: base64(HMAC-SHA256(secret, timestamp + body)).
func zendeskSignature(secret, timestamp, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + body))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// zendeskRequest is a delivery signed with secret at the given time.
func zendeskRequest(secret string, at time.Time, body string, extra map[string]string) request {
	stamp := at.UTC().Format(time.RFC3339)
	header := map[string]string{zendeskSignatureHeader: zendeskSignature(secret, stamp, body), zendeskTimestampHeader: stamp}
	for k, v := range extra {
		header[k] = v
	}
	return request{method: "POST", path: "/v1/connectors/zendesk", body: body, header: header}
}

func zendeskAnswerOf(t *testing.T, body []byte) zendeskAnswer {
	t.Helper()
	var a zendeskAnswer
	require.NoError(t, json.Unmarshal(body, &a), "body: %s", body)
	return a
}

func TestZendeskEscalationOpensTheCaseOnce(t *testing.T) {
	env := connectorEnv(t)
	body := zendeskDeliveryBody("escalate", nil)

	rec := env.do(zendeskRequest(testZendeskSecret, testNow, body, nil))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	answer := zendeskAnswerOf(t, rec.Body.Bytes())
	assert.Equal(t, zendeskAnswer{CaseID: "zendesk-48213", Opened: true, Events: []tierflow.CustomerEventKind{}}, answer)
	assert.Equal(t, "/v1/cases/zendesk-48213", rec.Header().Get("Location"))

	require.Len(t, env.cases.opened, 1)
	cmd := env.cases.opened[0]
	assert.Equal(t, tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: "48213",
		Customer: tierflow.Customer{ID: "991", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en-GB"},
		Subject:  "Refund not received", Description: "Paid twice for order 7731.", Priority: tierflow.PriorityHigh,
		OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), Trigger: tierflow.TriggerUnresolved,
		Department: "billing", FrontlineSummary: "Customer charged twice; needs a refund over my limit.",
		CRMURL: "https://acme.zendesk.com/agent/tickets/48213",
	}, cmd.Request)
	assert.Equal(t, "connector:zendesk", cmd.OpenedBy.ID)
	assert.Equal(t, tierflow.RoleIntegration, cmd.OpenedBy.Role)
	assert.Equal(t, []string{"zendesk"}, cmd.OpenedBy.AllowedSources)

	// Zendesk's retry (re-signed a minute later) and a later escalation of the
	// changed ticket open nothing more.
	rec = env.do(zendeskRequest(testZendeskSecret, testNow.Add(time.Minute), body, nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.False(t, zendeskAnswerOf(t, rec.Body.Bytes()).Opened)
	changed := zendeskDeliveryBody("escalate", func(tk map[string]any) { tk["priority"] = "Urgent" })
	rec = env.do(zendeskRequest(testZendeskSecret, testNow, changed, nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Len(t, env.cases.opened, 1, "one case per ticket")
	assert.Empty(t, env.cases.events)
}

func TestZendeskMapping(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(tk map[string]any)
		check  func(t *testing.T, req tierflow.OpenCaseRequest)
	}{
		{"empty priority is normal", func(tk map[string]any) { tk["priority"] = "" },
			func(t *testing.T, req tierflow.OpenCaseRequest) {
				assert.Equal(t, tierflow.PriorityNormal, req.Priority)
			}},
		{"priorities map one to one", func(tk map[string]any) { tk["priority"] = "low" },
			func(t *testing.T, req tierflow.OpenCaseRequest) { assert.Equal(t, tierflow.PriorityLow, req.Priority) }},
		{"a group that names no department", func(tk map[string]any) { tk["group"] = "Level 2 support" },
			func(t *testing.T, req tierflow.OpenCaseRequest) { assert.Empty(t, req.Department) }},
		{"a language name is not a locale", func(tk map[string]any) {
			tk["requester"].(map[string]any)["locale"] = "English"
		}, func(t *testing.T, req tierflow.OpenCaseRequest) { assert.Empty(t, req.Customer.Locale) }},
		{"an over-long subject is cut at a character", func(tk map[string]any) { tk["subject"] = strings.Repeat("é", 150) },
			func(t *testing.T, req tierflow.OpenCaseRequest) {
				assert.Equal(t, strings.Repeat("é", 100), req.Subject)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := connectorEnv(t)
			rec := env.do(zendeskRequest(testZendeskSecret, testNow, zendeskDeliveryBody("escalate", tt.mutate), nil))
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			require.Len(t, env.cases.opened, 1)
			tt.check(t, env.cases.opened[0].Request)
		})
	}
}

func TestZendeskRequesterCommentBecomesAReply(t *testing.T) {
	env := connectorEnv(t)
	require.Equal(t, http.StatusCreated, env.do(zendeskRequest(testZendeskSecret, testNow, zendeskDeliveryBody("escalate", nil), nil)).Code)
	comment := zendeskDeliveryBody("comment", func(tk map[string]any) {
		tk["latest_comment"] = map[string]any{"author_id": "991", "body": "Here is the bank statement."}
	})
	invocation := map[string]string{zendeskInvocationHeader: "8350205582"}

	rec := env.do(zendeskRequest(testZendeskSecret, testNow, comment, invocation))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, []tierflow.CustomerEventKind{tierflow.CustomerReply}, zendeskAnswerOf(t, rec.Body.Bytes()).Events)
	// Zendesk's retry of the invocation, re-signed later, carries the same event_id:
	// the case applies it once.
	rec = env.do(zendeskRequest(testZendeskSecret, testNow.Add(2*time.Minute), comment, invocation))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	// The same words in another invocation are another comment.
	rec = env.do(zendeskRequest(testZendeskSecret, testNow, comment, map[string]string{zendeskInvocationHeader: "8350205999"}))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	require.Len(t, env.cases.events, 3)
	first := env.cases.events[0]
	assert.Equal(t, tierflow.CustomerReply, first.Kind)
	assert.Equal(t, "Here is the bank statement.", first.Message)
	assert.Equal(t, "connector:zendesk", first.Source.ID)
	assert.Equal(t, first.EventID, env.cases.events[1].EventID, "a retry has the same event_id")
	assert.NotEqual(t, first.EventID, env.cases.events[2].EventID, "another invocation has another event_id")
	assert.NoError(t, first.Validate())
	assert.Len(t, env.cases.opened, 1)
}

func TestZendeskAgentCommentIsIgnored(t *testing.T) {
	env := connectorEnv(t)
	rec := env.do(zendeskRequest(testZendeskSecret, testNow, zendeskDeliveryBody("comment", nil), nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.NotEmpty(t, zendeskAnswerOf(t, rec.Body.Bytes()).Ignored)
	assert.Empty(t, env.cases.opened)
	assert.Empty(t, env.cases.events)
}

// A comment for a ticket whose escalation never arrived opens the case, then replies.
func TestZendeskCommentOpensAMissingCase(t *testing.T) {
	env := connectorEnv(t)
	comment := zendeskDeliveryBody("comment", func(tk map[string]any) {
		tk["latest_comment"] = map[string]any{"author_id": "991", "body": "Still waiting."}
	})
	rec := env.do(zendeskRequest(testZendeskSecret, testNow, comment, nil))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Len(t, env.cases.opened, 1)
	assert.Empty(t, env.cases.opened[0].Request.FrontlineSummary, "a requester's comment is not a frontline summary")
	require.Len(t, env.cases.events, 1)
	assert.Equal(t, tierflow.CustomerReply, env.cases.events[0].Kind)
}

func TestZendeskSupervisorTagRequestsASupervisor(t *testing.T) {
	env := connectorEnv(t)
	body := zendeskDeliveryBody("escalate", func(tk map[string]any) { tk["tags"] = "vip escalate_supervisor" })
	rec := env.do(zendeskRequest(testZendeskSecret, testNow, body, nil))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, []tierflow.CustomerEventKind{tierflow.CustomerRequestedSupervisor}, zendeskAnswerOf(t, rec.Body.Bytes()).Events)
	require.Len(t, env.cases.events, 1)
	assert.Equal(t, tierflow.CustomerRequestedSupervisor, env.cases.events[0].Kind)
	assert.Equal(t, "zendesk:48213:escalate_supervisor", env.cases.events[0].EventID, "once per case")
}

func TestZendeskRefusesBadSignatures(t *testing.T) {
	body := zendeskDeliveryBody("escalate", nil)
	tampered := func() request {
		r := zendeskRequest(testZendeskSecret, testNow, body, nil)
		r.body = zendeskDeliveryBody("escalate", func(tk map[string]any) { tk["priority"] = "Urgent" })
		return r
	}
	withoutSignature := zendeskRequest(testZendeskSecret, testNow, body, nil)
	delete(withoutSignature.header, zendeskSignatureHeader)
	badStamp := zendeskRequest(testZendeskSecret, testNow, body, nil)
	badStamp.header[zendeskTimestampHeader] = "1700000000"
	badStamp.header[zendeskSignatureHeader] = zendeskSignature(testZendeskSecret, "1700000000", body)
	tests := map[string]request{
		"tampered body":          tampered(),
		"stale timestamp":        zendeskRequest(testZendeskSecret, testNow.Add(-5*time.Minute-time.Second), body, nil),
		"future timestamp":       zendeskRequest(testZendeskSecret, testNow.Add(5*time.Minute+time.Second), body, nil),
		"wrong secret":           zendeskRequest("another-zendesk-secret-0123456789", testNow, body, nil),
		"no signature":           withoutSignature,
		"timestamp not RFC 3339": badStamp,
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			env := connectorEnv(t)
			p := problemOf(t, env.do(req), http.StatusUnauthorized)
			assert.Equal(t, "https://tierflow.dev/problems/unauthorized", p.Type)
			assert.NotContains(t, p.Detail, "zendesk:", "the reason is logged, not shown")
			_, calls := env.cases.snapshot("zendesk-48213")
			assert.Zero(t, calls, "nothing happened")
		})
	}
}

func TestZendeskRefusesBadBodies(t *testing.T) {
	signed := func(body string) request { return zendeskRequest(testZendeskSecret, testNow, body, nil) }
	wrongType := signed(zendeskDeliveryBody("escalate", nil))
	wrongType.contentType = "text/plain"
	tests := []struct {
		name   string
		req    request
		status int
	}{
		{"malformed JSON", signed(`{"event": "escalate", "ticket": `), http.StatusBadRequest},
		{"unknown field", signed(zendeskDeliveryBody("escalate", func(tk map[string]any) { tk["status"] = "open" })), http.StatusBadRequest},
		{"a number where the template renders a string", signed(`{"event":"escalate","ticket":{"id":48213}}`), http.StatusBadRequest},
		{"not JSON", wrongType, http.StatusUnsupportedMediaType},
		{"unknown event", signed(zendeskDeliveryBody("closed", nil)), http.StatusUnprocessableEntity},
		{"unknown priority", signed(zendeskDeliveryBody("escalate", func(tk map[string]any) { tk["priority"] = "p1" })), http.StatusUnprocessableEntity},
		{"no requester email", signed(zendeskDeliveryBody("escalate", func(tk map[string]any) {
			tk["requester"].(map[string]any)["email"] = ""
		})), http.StatusUnprocessableEntity},
		{"created_at not a time", signed(zendeskDeliveryBody("escalate", func(tk map[string]any) { tk["created_at"] = "yesterday" })), http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := connectorEnv(t)
			problemOf(t, env.do(tt.req), tt.status)
			assert.Empty(t, env.cases.opened)
			assert.Empty(t, env.cases.events)
		})
	}
}

func TestZendeskConnectorIsOffWithoutASecret(t *testing.T) {
	env := newTestEnv(t)
	problemOf(t, env.do(zendeskRequest(testZendeskSecret, testNow, zendeskDeliveryBody("escalate", nil), nil)), http.StatusNotFound)
	assert.Empty(t, env.cases.opened)
}

// Failed signatures spend the client address's failure bucket: once it is empty
// even a well-signed delivery gets 429 until it refills.
func TestConnectorSignatureFailuresAreRateLimited(t *testing.T) {
	env := connectorEnv(t)
	env.srv.limits = newLimiters(RateLimits{AuthFailures: Rate{PerSecond: 0.001, Burst: 2}})
	body := zendeskDeliveryBody("escalate", nil)
	for range 2 {
		problemOf(t, env.do(zendeskRequest("wrong-secret-wrong-secret-wrong", testNow, body, nil)), http.StatusUnauthorized)
	}
	rec := env.do(zendeskRequest(testZendeskSecret, testNow, body, nil))
	problemOf(t, rec, http.StatusTooManyRequests)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.Empty(t, env.cases.opened)
}
