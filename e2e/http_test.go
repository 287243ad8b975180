package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// api calls the product's HTTP API the way its clients do: raw HTTP with a bearer
// token, so that status codes and content types are asserted exactly.
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string) *api {
	return &api{base: base, hc: &http.Client{Timeout: 30 * time.Second}}
}

// response is one answer of the API.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends body (JSON-encoded when not nil) with token and returns the answer.
func (a *api) do(ctx context.Context, t *testing.T, token, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// expect fails the test unless the answer has status.
func (r response) expect(t *testing.T, status int, what string) response {
	t.Helper()
	require.Equal(t, status, r.Status, "%s: unexpected status; body: %s", what, r.Body)
	return r
}

// decode unmarshals the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "decode %s", r.Body)
}

// caseView decodes the body as a case.
func (r response) caseView(t *testing.T) tierflow.CaseView {
	t.Helper()
	var v tierflow.CaseView
	r.decode(t, &v)
	return v
}

func (a *api) getCase(ctx context.Context, t *testing.T, token, id string) tierflow.CaseView {
	t.Helper()
	return a.do(ctx, t, token, http.MethodGet, "/v1/cases/"+url.PathEscape(id), nil).
		expect(t, http.StatusOK, "get case").caseView(t)
}

// decide posts a decision and returns the raw answer (the caller asserts the status).
func (a *api) decide(ctx context.Context, t *testing.T, token, id string, d map[string]any) response {
	t.Helper()
	return a.do(ctx, t, token, http.MethodPost, "/v1/cases/"+url.PathEscape(id)+"/decisions", d)
}

// mustDecide posts a decision that must be accepted and returns the updated case.
func (a *api) mustDecide(ctx context.Context, t *testing.T, token, id string, d map[string]any) tierflow.CaseView {
	t.Helper()
	return a.decide(ctx, t, token, id, d).expect(t, http.StatusOK, fmt.Sprintf("%s by %s", d["action"], token)).caseView(t)
}

func (a *api) events(ctx context.Context, t *testing.T, token, id string) []tierflow.CaseEvent {
	t.Helper()
	var body struct {
		Events []tierflow.CaseEvent `json:"events"`
	}
	a.do(ctx, t, token, http.MethodGet, "/v1/cases/"+url.PathEscape(id)+"/events", nil).
		expect(t, http.StatusOK, "case events").decode(t, &body)
	return body.Events
}

// poll calls check every interval until it returns true or ctx ends; then it fails
// the test with what, and with the last state check described.
func poll(ctx context.Context, t *testing.T, what string, interval time.Duration, check func() (bool, string)) {
	t.Helper()
	var last string
	for {
		var ok bool
		if ok, last = check(); ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last seen: %s", what, last)
		case <-time.After(interval):
		}
	}
}
