package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/tierflow/tierflow"
)

// Inbound connectors (integrations.md, "Inbound: connectors") let a CRM that cannot
// send a bearer token open cases and relay customer events: the request's signature
// is its credential. A connector is a front door only: once the signature holds, it
// translates the CRM's body into the API's own open request or customer event and
// hands it to the same handler POST /v1/cases or POST /v1/cases/{id}/customer-events
// runs, as an integration principal of its own scoped to its source. So opening is
// as idempotent (source + external_id), a customer event as deduplicated (its
// event_id), and every error the same problem+json, as through the API itself.
//
// Entrance rules, in order: a client address whose failed signatures emptied its
// bucket gets 429 before anything is read (the auth-failures limit of tokens); the
// body is read whole (413 above 1 MiB) because the signature covers its bytes; a
// bad, stale or future signature is 401 and spends one of the address's failure
// tokens; the connector's principal is then rate-limited like any principal.

// connectorPrincipal is who a connector acts as: an integration that may reach only
// its source's cases. Its ID is what the audit log shows as the opener or relayer.
func connectorPrincipal(source string) tierflow.Principal {
	return tierflow.Principal{ID: "connector:" + source, Name: source + " connector",
		Role: tierflow.RoleIntegration, AllowedSources: []string{source}}
}

// readSignedBody checks the failure limit of the client's address and reads the
// body the signature covers. ok is false when it has answered.
func (s *server) readSignedBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	if wait := s.limits.authFailures.wait(s.clientKey(r), s.Now()); wait > 0 {
		s.writeError(w, r, s.rateLimited(w, s.limits.authFailures, wait))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		s.writeError(w, r, jsonError(err))
		return nil, false
	}
	return body, true
}

// refuseSignature answers a delivery whose signature does not hold: 401, and one
// failure spent from the client address's bucket. The reason is logged, not shown.
func (s *server) refuseSignature(w http.ResponseWriter, r *http.Request, reason error) {
	s.limits.authFailures.take(s.clientKey(r), s.Now())
	s.writeError(w, r, &tierflow.Error{Code: tierflow.CodeUnauthorized,
		Message: "the request's signature is missing, wrong or outside the 5-minute window", Err: reason})
}

// admitConnector lets the connector's principal in once the signature held: the
// per-principal rate limit, and the principal noted for the access log. ok is
// false when it has answered.
func (s *server) admitConnector(w http.ResponseWriter, r *http.Request, p tierflow.Principal) (*http.Request, bool) {
	notePrincipal(r.Context(), p.ID)
	if err := s.throttle(w, s.limits.principal, p.ID); err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), true
}

// capturedResponse is what one of the API's handlers answered a connector.
type capturedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capturedResponse) Header() http.Header { return c.header }
func (c *capturedResponse) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *capturedResponse) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

// replay sends the captured answer to the CRM as it is.
func (c *capturedResponse) replay(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// succeeded reports a 2xx answer.
func (c *capturedResponse) succeeded() bool { return c.status >= 200 && c.status < 300 }

// delegate runs handler h (openCase, customerEvent) for the connector's request r
// (its principal in the context) with body as its JSON body and caseID as its {id},
// and returns what h answered. The request keeps its path, request ID and client
// address, so logs and problems name the connector's request.
func (s *server) delegate(r *http.Request, h http.HandlerFunc, caseID string, body any) (*capturedResponse, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	inner := r.Clone(r.Context())
	inner.Body = io.NopCloser(bytes.NewReader(data))
	inner.ContentLength = int64(len(data))
	inner.Header.Set("Content-Type", "application/json")
	if caseID != "" {
		inner.SetPathValue("id", caseID)
	}
	out := &capturedResponse{header: http.Header{}}
	h(out, inner)
	return out, nil
}

// decodeSignedJSON decodes the verified body as every API body is decoded: JSON
// content type (415), strict fields and types (400).
func decodeSignedJSON(w http.ResponseWriter, r *http.Request, body []byte, dst any) error {
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeJSON(w, r, dst)
}

// connectorOpen opens req's case through the open path. created is true when this
// request opened it; a case that exists with another body (the CRM's record changed
// since it was opened: 409 on the open path) counts as open. ok is false when the
// open path refused and its answer was sent.
func (s *server) connectorOpen(w http.ResponseWriter, r *http.Request, req tierflow.OpenCaseRequest) (created, ok bool) {
	resp, err := s.delegate(r, s.openCase, "", req)
	switch {
	case err != nil:
		s.writeError(w, r, err)
		return false, false
	case resp.succeeded():
		return resp.status == http.StatusCreated, true
	case resp.status == http.StatusConflict:
		return false, true
	}
	resp.replay(w)
	return false, false
}

// connectorReply relays a customer event to req's case, opening the case first when
// it does not exist yet (the delivery that would have opened it was lost or
// refused). opened is true when this request opened it.
func (s *server) connectorReply(w http.ResponseWriter, r *http.Request, req tierflow.OpenCaseRequest, ev customerEventRequest) (opened, ok bool) {
	caseID := tierflow.CaseID(req.Source, req.ExternalID)
	resp, err := s.delegate(r, s.customerEvent, caseID, ev)
	if err == nil && resp.status == http.StatusNotFound {
		if opened, ok = s.connectorOpen(w, r, req); !ok {
			return false, false
		}
		resp, err = s.delegate(r, s.customerEvent, caseID, ev)
	}
	if err != nil {
		s.writeError(w, r, err)
		return false, false
	}
	if !resp.succeeded() {
		resp.replay(w)
		return false, false
	}
	return opened, true
}

// connectorEvent relays a customer event to an existing case through the
// customer-event path; ok is false when that path refused and its answer was sent.
func (s *server) connectorEvent(w http.ResponseWriter, r *http.Request, caseID string, ev customerEventRequest) bool {
	resp, err := s.delegate(r, s.customerEvent, caseID, ev)
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	if !resp.succeeded() {
		resp.replay(w)
		return false
	}
	return true
}
