package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// One API replica dies in the middle of a decision (it read the request, then
// the connection drops without an answer); the client sends the same decision,
// same decision_id, to the other replica, and the caller sees one success.
func TestDecisionMovesToAnotherReplicaWhenOneDies(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	record := func(r *http.Request) {
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(raw, &body))
		mu.Lock()
		ids = append(ids, body["decision_id"].(string))
		mu.Unlock()
	}
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_ = conn.Close() // kill -9 mid-request: no answer at all
	}))
	defer dying.Close()
	alive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tierflow.CaseView{ID: "zendesk-1", Status: tierflow.StatusInProgress, Seq: 3})
	}))
	defer alive.Close()

	c := client.New(dying.URL, "dev-agent", client.WithReplicas(alive.URL), fastRetries)
	view, err := c.Decide(context.Background(), "zendesk-1", tierflow.Decision{Action: tierflow.ActionAcknowledge})
	require.NoError(t, err)
	assert.Equal(t, tierflow.StatusInProgress, view.Status)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, ids, 2, "one attempt on each replica")
	assert.Equal(t, ids[0], ids[1], "the retry carries the same decision_id")
	assert.NotEmpty(t, ids[0])
}

// A replica answering 503 (its dependency down) sends the retry to the next one.
func TestReplicaChoiceFollowsTheFailure(t *testing.T) {
	hits := map[string]int{}
	var mu sync.Mutex
	server := func(name string, status int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[name]++
			mu.Unlock()
			if status != http.StatusOK {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"title":"unavailable","status":503}`)
				return
			}
			_ = json.NewEncoder(w).Encode(tierflow.CaseView{ID: "zendesk-1"})
		}))
	}
	down := server("down", http.StatusServiceUnavailable)
	defer down.Close()
	up := server("up", http.StatusOK)
	defer up.Close()
	c := client.New(down.URL, "dev-viewer", client.WithReplicas(up.URL), fastRetries)
	_, err := c.GetCase(context.Background(), "zendesk-1")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"down": 1, "up": 1}, hits)
}
