package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// syncBuffer is a buffer safe to write from the receiver's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `tierflow webhooks listen` subscribes its receiver, prints each verified
// delivery, refuses a forged one and unsubscribes when stopped.
func TestWebhooksListen(t *testing.T) {
	newKey, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	secret := newKey.String()
	subscribed := make(chan string, 1)
	var deleted []string
	var mu sync.Mutex
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer dev-integration", r.Header.Get("Authorization"))
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/webhooks":
			var req struct {
				URL    string   `json:"url"`
				Events []string `json:"events"`
			}
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&req))
			assert.Equal(t, []string{"case.escalated", "case.resolved"}, req.Events)
			subscribed <- req.URL
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "wh_listen0001", "secret": secret})
		case r.Method == http.MethodDelete && r.URL.Path == "/v1/webhooks/wh_listen0001":
			mu.Lock()
			deleted = append(deleted, r.URL.Path)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer fake.Close()

	var stdout, stderr syncBuffer
	e := &env{stdout: &stdout, stderr: &stderr, api: fake.URL, token: "dev-integration", now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- execute(ctx, e, []string{"webhooks", "listen", "--events", "case.escalated,case.resolved"})
	}()

	var hookURL string
	select {
	case hookURL = <-subscribed:
	case err := <-done:
		t.Fatalf("listen stopped: %v; stderr %s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription")
	}
	key, err := stdwebhook.ParseSecret(secret)
	require.NoError(t, err)
	send := func(key stdwebhook.Secret, body string) int {
		now := time.Now()
		req, err := http.NewRequest(http.MethodPost, hookURL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", stdwebhook.Sign(key, "msg_1", now, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	body := `{"type":"case.escalated","timestamp":"2026-11-30T09:00:00Z","data":{"case_id":"zendesk-42","seq":4,"tier":2,"status":"open"}}`
	assert.Equal(t, http.StatusNoContent, send(key, body))
	forged, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, send(forged, body))

	cancel()
	require.NoError(t, <-done)
	out := stdout.String()
	assert.Contains(t, out, "subscription wh_listen0001")
	assert.Regexp(t, `case\.escalated\s+zendesk-42\s+#4\s+tier 2\s+open`, out)
	assert.Contains(t, out, "unsubscribed wh_listen0001")
	assert.Contains(t, stderr.String(), `rejected "msg_1"`)
	assert.Equal(t, []string{"/v1/webhooks/wh_listen0001"}, deleted)
}
