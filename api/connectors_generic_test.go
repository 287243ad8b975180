package main

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

var (
	acmeSecretOnce sync.Once
	acmeSecret     stdwebhook.Secret
)

// genericTestSecrets configures the source "acme" with one random secret.
func genericTestSecrets(t *testing.T) map[string][]stdwebhook.Secret {
	t.Helper()
	acmeSecretOnce.Do(func() {
		var err error
		acmeSecret, err = stdwebhook.NewSecret()
		require.NoError(t, err)
	})
	return map[string][]stdwebhook.Secret{"acme": {acmeSecret}}
}

// referenceSigned is a generic connector request signed by the independent Standard
// Webhooks library with secret.
func referenceSigned(t *testing.T, source string, secret stdwebhook.Secret, msgID string, at time.Time, body string) request {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret.String())
	require.NoError(t, err)
	sig, err := wh.Sign(msgID, at, []byte(body))
	require.NoError(t, err)
	return request{method: "POST", path: "/v1/connectors/generic/" + source, body: body, header: map[string]string{
		"webhook-id": msgID, "webhook-timestamp": strconv.FormatInt(at.Unix(), 10), "webhook-signature": sig}}
}

func acmeOpenBody() string {
	return openBody(func(m map[string]any) { m["source"], m["external_id"] = "acme", "T-77" })
}

func TestGenericConnectorOpensACase(t *testing.T) {
	env := connectorEnv(t)
	body := acmeOpenBody()

	created := caseOf(t, env.do(referenceSigned(t, "acme", acmeSecret, "msg_open_1", testNow, body)), http.StatusCreated)
	assert.Equal(t, "acme-T-77", created.ID)
	require.Len(t, env.cases.opened, 1)
	assert.Equal(t, "connector:acme", env.cases.opened[0].OpenedBy.ID)

	// The same request again (a redelivery) answers the case; nothing more opens.
	again := caseOf(t, env.do(referenceSigned(t, "acme", acmeSecret, "msg_open_1", testNow.Add(time.Minute), body)), http.StatusOK)
	assert.Equal(t, created.ID, again.ID)
	assert.Len(t, env.cases.opened, 1)
}

func TestGenericConnectorRelaysACustomerEvent(t *testing.T) {
	env := connectorEnv(t)
	require.Equal(t, http.StatusCreated, env.do(referenceSigned(t, "acme", acmeSecret, "msg_open", testNow, acmeOpenBody())).Code)

	event := `{"external_id": "T-77", "kind": "reply", "message": "Thanks, here is the receipt."}`
	rec := env.do(referenceSigned(t, "acme", acmeSecret, "msg_reply_1", testNow, event))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"status": "accepted", "case_id": "acme-T-77"}`, rec.Body.String())
	require.Len(t, env.cases.events, 1)
	got := env.cases.events[0]
	assert.Equal(t, tierflow.CustomerReply, got.Kind)
	assert.Equal(t, "msg_reply_1", got.EventID, "the webhook-id is the event_id: a redelivery applies once")
	assert.Equal(t, "connector:acme", got.Source.ID)

	// A customer event for a case the source does not have is 404.
	missing := `{"external_id": "T-78", "kind": "reply"}`
	problemOf(t, env.do(referenceSigned(t, "acme", acmeSecret, "msg_reply_2", testNow, missing)), http.StatusNotFound)
}

func TestGenericConnectorRefuses(t *testing.T) {
	other, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	body := acmeOpenBody()
	tampered := referenceSigned(t, "acme", acmeSecret, "msg_1", testNow, body)
	tampered.body = openBody(func(m map[string]any) { m["source"], m["external_id"] = "acme", "T-78" })
	tests := []struct {
		name   string
		req    request
		status int
	}{
		{"wrong secret", referenceSigned(t, "acme", other, "msg_1", testNow, body), http.StatusUnauthorized},
		{"tampered body", tampered, http.StatusUnauthorized},
		{"stale timestamp", referenceSigned(t, "acme", acmeSecret, "msg_1", testNow.Add(-6*time.Minute), body), http.StatusUnauthorized},
		{"unknown source", referenceSigned(t, "globex", acmeSecret, "msg_1", testNow, body), http.StatusUnauthorized},
		{"no signature", request{method: "POST", path: "/v1/connectors/generic/acme", body: body}, http.StatusUnauthorized},
		{"another source's case", referenceSigned(t, "acme", acmeSecret, "msg_1", testNow, openBody(nil)), http.StatusForbidden},
		{"invalid external_id of an event", referenceSigned(t, "acme", acmeSecret, "msg_1", testNow, `{"external_id": "a b", "kind": "reply"}`), http.StatusUnprocessableEntity},
		{"unknown field of an event", referenceSigned(t, "acme", acmeSecret, "msg_1", testNow, `{"external_id": "T-77", "kind": "reply", "actor": "x"}`), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := connectorEnv(t)
			problemOf(t, env.do(tt.req), tt.status)
			assert.Empty(t, env.cases.opened, "nothing opened")
			assert.Empty(t, env.cases.events, "nothing relayed")
		})
	}
}

func TestWebhookEventID(t *testing.T) {
	assert.Equal(t, "msg_2Lh9", webhookEventID("msg_2Lh9"))
	long := webhookEventID("msg with spaces and / slashes")
	assert.Regexp(t, `^webhook:[0-9a-f]{40}$`, long)
	assert.Equal(t, long, webhookEventID("msg with spaces and / slashes"), "the same on every retry")
}
