package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tierflow/tierflow"
)

// The dev tokens of the API (TIERFLOW_DEV_TOKENS=true).
const (
	tokIntegration = "dev-integration"
	tokAgent       = "dev-agent"
	tokSpecialist  = "dev-specialist"
	tokViewer      = "dev-viewer"
)

// apiClient calls the product's HTTP API as its clients do.
type apiClient struct {
	base string
	hc   *http.Client
}

func newAPIClient(base string, conns int) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &apiClient{base: base, hc: &http.Client{Timeout: 60 * time.Second, Transport: tr}}
}

// call sends body as JSON with token and decodes a 2xx answer into out (when not
// nil); any other status is an error carrying the body.
func (a *apiClient) call(ctx context.Context, token, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return fmt.Errorf("request %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &httpError{Status: resp.StatusCode, Msg: fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// httpError is an answer of the API other than 2xx.
type httpError struct {
	Status int
	Msg    string
}

func (e *httpError) Error() string { return e.Msg }

// openCase opens a case and returns it.
func (a *apiClient) openCase(ctx context.Context, req tierflow.OpenCaseRequest) (tierflow.CaseView, error) {
	var v tierflow.CaseView
	err := a.call(ctx, tokIntegration, http.MethodPost, "/v1/cases", req, &v)
	return v, err
}

// decide posts one decision as token and returns the updated case.
func (a *apiClient) decide(ctx context.Context, token, caseID string, d map[string]any) (tierflow.CaseView, error) {
	var v tierflow.CaseView
	err := a.call(ctx, token, http.MethodPost, "/v1/cases/"+url.PathEscape(caseID)+"/decisions", d, &v)
	return v, err
}

// getCase reads the live case.
func (a *apiClient) getCase(ctx context.Context, caseID string) (tierflow.CaseView, error) {
	var v tierflow.CaseView
	err := a.call(ctx, tokViewer, http.MethodGet, "/v1/cases/"+url.PathEscape(caseID), nil, &v)
	return v, err
}

// benchCase is an open request for case i of a run under policy.
func benchCase(run string, i int, policy string) tierflow.OpenCaseRequest {
	ext := fmt.Sprintf("%s-%06d", run, i)
	return tierflow.OpenCaseRequest{
		Source: "bench", ExternalID: ext,
		Customer: tierflow.Customer{ID: "C-" + ext, Name: "Bench Customer", Email: "customer@example.com", Locale: "en"},
		Subject:  "Benchmark case " + ext, Description: "A case opened by the benchmark.",
		Category: "billing", Priority: tierflow.PriorityNormal, Channel: "email",
		OpenedAt: time.Now().UTC().Truncate(time.Second), Trigger: tierflow.TriggerUnresolved,
		Department: "billing", FrontlineSummary: "Opened by the benchmark.", Policy: policy,
	}
}
