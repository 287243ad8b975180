package client_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// signedByReference signs body as an independent sender would: the Standard
// Webhooks reference library.
func signedByReference(t *testing.T, secret, msgID string, at time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	sig, err := wh.Sign(msgID, at, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

func TestVerifyWebhook(t *testing.T) {
	key, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	secret := key.String()
	other, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	body := []byte(`{"type":"case.escalated","data":{"case_id":"zendesk-7","seq":3}}`)

	assert.NoError(t, client.VerifyWebhook(secret, signedByReference(t, secret, "msg_1", time.Now(), body), body, 0))

	tests := []struct {
		name      string
		secret    string
		headers   http.Header
		body      []byte
		tolerance time.Duration
		want      error
	}{
		{"tampered body", secret, signedByReference(t, secret, "msg_1", time.Now(), body), []byte(`{}`), 0, client.ErrWebhookSignature},
		{"wrong secret", other.String(), signedByReference(t, secret, "msg_1", time.Now(), body), body, 0, client.ErrWebhookSignature},
		{"replayed after 5 minutes (default tolerance)", secret, signedByReference(t, secret, "msg_1", time.Now().Add(-6*time.Minute), body), body, 0, client.ErrWebhookTooOld},
		{"older than a given tolerance", secret, signedByReference(t, secret, "msg_1", time.Now().Add(-time.Minute), body), body, 30 * time.Second, client.ErrWebhookTooOld},
		{"from the future", secret, signedByReference(t, secret, "msg_1", time.Now().Add(6*time.Minute), body), body, 0, client.ErrWebhookTooNew},
		{"no headers", secret, http.Header{}, body, 0, client.ErrWebhookHeaders},
		{"a malformed secret", "whsec_???", signedByReference(t, secret, "msg_1", time.Now(), body), body, 0, client.ErrWebhookSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, client.VerifyWebhook(tt.secret, tt.headers, tt.body, tt.tolerance), tt.want)
		})
	}
}

// A receiver in a dozen lines, as the README shows it.
func ExampleVerifyWebhook() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the subscription's secret, shown once
	http.HandleFunc("POST /tierflow-events", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := client.VerifyWebhook(secret, r.Header, body, 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deduplicate on r.Header.Get("webhook-id"), then handle the event.
		w.WriteHeader(http.StatusNoContent)
	})
}
