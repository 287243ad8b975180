package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// The dev tokens of the API (TIERFLOW_DEV_TOKENS=true).
const (
	tokIntegration = "dev-integration"
	tokAgent       = "dev-agent"
	tokSpecialist  = "dev-specialist"
	tokViewer      = "dev-viewer"
)

// apiClients call the product's HTTP API through its Go client (client/), one per
// dev token the bench acts with, over one connection pool.
type apiClients struct {
	integration, agent, specialist, viewer *client.Client
	// customer answers surveys: it has no token (the survey link is the credential).
	customer *client.Client
}

// newAPIClients keeps conns idle connections to the API. The clients do not retry:
// every call is one request, as the figures count them, and the round trip retries
// its 503s itself, counting them.
func newAPIClients(base string, conns int) *apiClients {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	hc := &http.Client{Timeout: 60 * time.Second, Transport: tr}
	as := func(token string) *client.Client {
		return client.New(base, token, client.WithHTTPClient(hc), client.WithRetries(0),
			client.WithUserAgent("tierflow-bench "+client.DefaultUserAgent))
	}
	return &apiClients{integration: as(tokIntegration), agent: as(tokAgent), specialist: as(tokSpecialist),
		viewer: as(tokViewer), customer: as("")}
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

// openAttempts bounds the attempts of one open: the API answers 503 (or 429) when
// Temporal did not answer in time and asks for a retry with the same request,
// which then answers with the case if the first attempt started it.
const openAttempts = 5

// openCase opens req, retrying a 503 or 429 a second later, up to openAttempts
// times; it returns how many retries it took (the caller counts them: the time
// lost stays in its sample).
func (a *apiClients) openCase(ctx context.Context, req tierflow.OpenCaseRequest) (tierflow.CaseView, int, error) {
	for attempt := 1; ; attempt++ {
		v, _, err := a.integration.OpenCase(ctx, req)
		if err == nil || attempt == openAttempts || !client.IsUnavailable(err) {
			return v, attempt - 1, err
		}
		select {
		case <-ctx.Done():
			return v, attempt - 1, err
		case <-time.After(time.Second):
		}
	}
}
