package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// Creating and deleting a subscription are sent once, even on a transient
// failure: a retry could create a second subscription, or answer 404 for a
// delete that worked.
func TestCreateAndDeleteWebhookAreSentOnce(t *testing.T) {
	var creates, deletes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer dev-integration", r.Header.Get("Authorization"))
		switch r.Method + " " + r.URL.Path {
		case "POST /v1/webhooks":
			body, _ := io.ReadAll(r.Body)
			assert.JSONEq(t, `{"url":"https://crm.example.com/hooks","events":["case.escalated"],"description":"CRM sync"}`,
				string(body))
			if creates.Add(1) == 1 {
				writeProblem(w, http.StatusServiceUnavailable, "the webhook store is unavailable", nil)
				return
			}
			writeJSON(w, http.StatusCreated, map[string]any{"id": "wh_created01", "url": "https://crm.example.com/hooks",
				"events": []string{"case.escalated"}, "status": "active", "secret": "whsec_c2VjcmV0"})
		case "DELETE /v1/webhooks/wh_created01":
			if deletes.Add(1) == 1 {
				writeProblem(w, http.StatusServiceUnavailable, "the webhook store is unavailable", nil)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			writeProblem(w, http.StatusNotFound, "no such webhook subscription", nil)
		}
	}))
	defer srv.Close()
	c := client.New(srv.URL, "dev-integration", client.WithBackoff(time.Millisecond, time.Millisecond, time.Millisecond))
	ctx := context.Background()
	sub := tierflow.NewWebhookSubscription{URL: "https://crm.example.com/hooks", Events: []string{"case.escalated"},
		Description: "CRM sync"}

	_, err := c.CreateWebhook(ctx, sub)
	assert.ErrorIs(t, err, client.ErrUnavailable)
	assert.EqualValues(t, 1, creates.Load(), "a create is not retried")
	created, err := c.CreateWebhook(ctx, sub)
	require.NoError(t, err)
	assert.Equal(t, "wh_created01", created.ID)
	assert.Equal(t, "whsec_c2VjcmV0", created.Secret)
	assert.Equal(t, tierflow.WebhookStatus("active"), created.Status)

	assert.ErrorIs(t, c.DeleteWebhook(ctx, "wh_created01"), client.ErrUnavailable)
	assert.EqualValues(t, 1, deletes.Load(), "a delete is not retried")
	require.NoError(t, c.DeleteWebhook(ctx, "wh_created01"))
	assert.ErrorIs(t, c.DeleteWebhook(ctx, "wh_unknown01"), client.ErrNotFound)
}
