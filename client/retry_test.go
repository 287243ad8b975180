package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// fastRetries makes backoff waits negligible so that only Retry-After takes time.
var fastRetries = client.WithBackoff(time.Millisecond, 5*time.Millisecond, 0)

func TestRetryHonoursRetryAfterOn503(t *testing.T) {
	api := newFakeAPI(t)
	api.failNext("POST /v1/cases", failure{status: http.StatusServiceUnavailable, retryAfter: "1"})
	c := client.New(api.URL, "dev-integration", fastRetries)

	start := time.Now()
	view, created, err := c.OpenCase(context.Background(), testOpenRequest("1"))
	elapsed := time.Since(start)

	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "zendesk-1", view.ID)
	assert.Equal(t, 2, api.attemptsOf("POST /v1/cases"))
	assert.GreaterOrEqual(t, elapsed, time.Second, "Retry-After: 1 is honoured")
	assert.Less(t, elapsed, 3*time.Second)
}

func TestRetryOn429AndNetworkErrorsWithBackoff(t *testing.T) {
	api := newFakeAPI(t)
	api.failNext("GET /v1/cases/zendesk-9",
		failure{status: http.StatusTooManyRequests}, failure{abort: true}, failure{status: http.StatusServiceUnavailable})
	c := client.New(api.URL, "dev-agent", fastRetries)

	_, err := c.GetCase(context.Background(), "zendesk-9")
	assert.True(t, client.IsNotFound(err), "after three transient failures the real answer comes: %v", err)
	assert.Equal(t, 4, api.attemptsOf("GET /v1/cases/zendesk-9"))
}

func TestRetriesRunOut(t *testing.T) {
	api := newFakeAPI(t)
	for range 5 {
		api.failNext("GET /v1/cases/zendesk-9", failure{status: http.StatusServiceUnavailable})
	}
	_, err := client.New(api.URL, "dev-agent", fastRetries, client.WithRetries(2)).GetCase(context.Background(), "zendesk-9")
	assert.True(t, client.IsUnavailable(err), "got %v", err)
	assert.Equal(t, 3, api.attemptsOf("GET /v1/cases/zendesk-9"), "one attempt and two retries")
}

func TestNoRetryOnClientErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			api := newFakeAPI(t)
			api.failNext("POST /v1/cases", failure{status: status})
			_, _, err := client.New(api.URL, "dev-integration", fastRetries).OpenCase(context.Background(), testOpenRequest("1"))
			var apiErr *client.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.Status)
			assert.Equal(t, 1, api.attemptsOf("POST /v1/cases"))
		})
	}
}

func TestDecisionIDStableAcrossRetries(t *testing.T) {
	api := newFakeAPI(t)
	ctx := context.Background()
	_, _, err := client.New(api.URL, "dev-integration").OpenCase(ctx, testOpenRequest("5"))
	require.NoError(t, err)
	key := "POST /v1/cases/zendesk-5/decisions"
	api.failNext(key, failure{status: http.StatusServiceUnavailable}, failure{abort: true})

	_, err = client.New(api.URL, "dev-agent", fastRetries).Decide(ctx, "zendesk-5",
		tierflow.Decision{Action: tierflow.ActionNote, Text: "called the customer"})
	require.NoError(t, err)

	bodies := api.bodiesOf(key)
	require.Len(t, bodies, 3)
	var ids []string
	for _, b := range bodies {
		var d struct {
			DecisionID string `json:"decision_id"`
		}
		require.NoError(t, json.Unmarshal(b, &d))
		ids = append(ids, d.DecisionID)
	}
	assert.NotEmpty(t, ids[0])
	assert.Equal(t, []string{ids[0], ids[0], ids[0]}, ids, "every attempt carries the same generated decision_id")

	_, err = client.New(api.URL, "dev-agent").Decide(ctx, "zendesk-5",
		tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "mine-1", Text: "x"})
	require.NoError(t, err)
	last := api.bodiesOf(key)[3]
	assert.Contains(t, string(last), `"decision_id":"mine-1"`, "a caller's decision_id is kept")
}

func TestCustomerEventRetriedOnlyWithEventID(t *testing.T) {
	api := newFakeAPI(t)
	key := "POST /v1/cases/zendesk-5/customer-events"
	c := client.New(api.URL, "dev-integration", fastRetries)

	api.failNext(key, failure{status: http.StatusServiceUnavailable})
	err := c.SendCustomerEvent(context.Background(), "zendesk-5", tierflow.CustomerEvent{Kind: tierflow.CustomerReply})
	assert.True(t, client.IsUnavailable(err), "without an event_id a retry could apply the event twice: %v", err)
	assert.Equal(t, 1, api.attemptsOf(key))

	api.failNext(key, failure{status: http.StatusServiceUnavailable})
	err = c.SendCustomerEvent(context.Background(), "zendesk-5", tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "c-1"})
	require.NoError(t, err)
	assert.Equal(t, 3, api.attemptsOf(key))
}

func TestContextCancellationStopsRetries(t *testing.T) {
	api := newFakeAPI(t)
	for range 5 {
		api.failNext("GET /v1/cases/zendesk-1", failure{status: http.StatusServiceUnavailable, retryAfter: "20"})
	}
	c := client.New(api.URL, "dev-agent")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.GetCase(ctx, "zendesk-1")
	assert.Less(t, time.Since(start), 2*time.Second, "cancellation interrupts the Retry-After wait")
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, client.IsUnavailable(err), "the last answer stays visible: %v", err)
	assert.Equal(t, 1, api.attemptsOf("GET /v1/cases/zendesk-1"))

	// A deadline shorter than the wait gives up at once instead of sleeping into it.
	ctx, cancelDeadline := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelDeadline()
	start = time.Now()
	_, err = c.GetCase(ctx, "zendesk-1")
	assert.Less(t, time.Since(start), time.Second)
	assert.True(t, client.IsUnavailable(err))
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
	assert.Equal(t, 2, api.attemptsOf("GET /v1/cases/zendesk-1"))
}
