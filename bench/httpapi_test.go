package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// Every bench call is one request (the figures count them), and a 503 reaches the
// round trip as client.ErrUnavailable so that it can count and retry it.
func TestAPIClientsSendOneRequestPerCall(t *testing.T) {
	var requests atomic.Int32
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":503,"title":"Service Unavailable"}`))
	}))
	defer srv.Close()
	api := newAPIClients(srv.URL, 2)

	_, err := api.agent.Decide(context.Background(), "bench-1", tierflow.Decision{Action: tierflow.ActionNote, DecisionID: "n-1", Text: "x"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, client.ErrUnavailable), "got %v", err)
	assert.EqualValues(t, 1, requests.Load(), "no retry inside the client")
	assert.Equal(t, "Bearer "+tokAgent, auth.Load())
}

func TestSurveyLinkToken(t *testing.T) {
	text := "Tell us how we did: http://127.0.0.1:41234/v1/surveys/eyJjIjoiYmVuY2gtMSJ9.c2ln-_= \nThanks"
	m := surveyLinkRE.FindStringSubmatch(text)
	require.NotNil(t, m)
	assert.Equal(t, "eyJjIjoiYmVuY2gtMSJ9.c2ln-_=", m[1])
	assert.Nil(t, surveyLinkRE.FindStringSubmatch("no link here"))
}

// An open answered 503 is sent again with the same request (the API then answers
// with the case the first attempt started); the retries are counted; a 4xx is not
// retried.
func TestOpenCaseRetriesUnavailable(t *testing.T) {
	var requests atomic.Int32
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if n <= 2 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":503,"title":"Service Unavailable"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"bench-x-000001"}`))
	}))
	defer srv.Close()
	api := newAPIClients(srv.URL, 2)
	v, retries, err := api.openCase(context.Background(), benchCase("x", 1, policyQuiet))
	require.NoError(t, err)
	assert.Equal(t, "bench-x-000001", v.ID)
	assert.Equal(t, 2, retries)
	require.Len(t, bodies, 3)
	assert.Equal(t, bodies[0], bodies[2], "the same request each time")

	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"status":422,"title":"Unprocessable Entity"}`))
	}))
	defer refused.Close()
	_, retries, err = newAPIClients(refused.URL, 2).openCase(context.Background(), benchCase("x", 1, policyQuiet))
	require.Error(t, err)
	assert.Zero(t, retries)
}
