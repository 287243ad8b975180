package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/stdwebhook"
)

// genericEventRequest is a customer event sent to the generic connector. The case
// is the one of the path's source with this external_id; event_id defaults to the
// request's webhook-id, which the sender keeps on every retry.
type genericEventRequest struct {
	ExternalID string                     `json:"external_id"`
	Kind       tierflow.CustomerEventKind `json:"kind"`
	EventID    string                     `json:"event_id,omitempty"`
	Message    string                     `json:"message,omitempty"`
}

// genericWebhook: POST /v1/connectors/generic/{source}, signed with Standard
// Webhooks under the source's secret (TIERFLOW_CONNECTOR_SECRETS). The body is
// told apart by its "kind" member: with one it is a customer event
// (genericEventRequest), without one it is the open request of POST /v1/cases
// (whose source must be the path's: another is 403, the principal's scope). The answer
// is the one of POST /v1/cases or POST /v1/cases/{id}/customer-events. An unknown
// source is answered like a wrong signature (401): no secret verifies it.
func (s *server) genericWebhook(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	body, ok := s.readSignedBody(w, r)
	if !ok {
		return
	}
	if err := stdwebhook.Verify(s.Connectors.Generic[source], r.Header, body, 0, s.Now()); err != nil {
		s.refuseSignature(w, r, err)
		return
	}
	if r, ok = s.admitConnector(w, r, connectorPrincipal(source)); !ok {
		return
	}
	// A body that is not a JSON object is left to the open request's decoding,
	// which explains what is wrong with it.
	var members map[string]json.RawMessage
	_ = json.Unmarshal(body, &members)
	_, isEvent := members["kind"]
	var (
		resp *capturedResponse
		err  error
	)
	if isEvent {
		var req genericEventRequest
		if err := decodeSignedJSON(w, r, body, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if !tierflow.ValidSource(req.ExternalID) {
			s.writeError(w, r, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid customer event",
				Fields: []tierflow.FieldError{{Field: "external_id", Message: "must be 1-64 characters of A-Z a-z 0-9 . _ -"}}})
			return
		}
		eventID := req.EventID
		if eventID == "" {
			eventID = webhookEventID(r.Header.Get(stdwebhook.HeaderID))
		}
		resp, err = s.delegate(r, s.customerEvent, tierflow.CaseID(source, req.ExternalID),
			customerEventRequest{Kind: req.Kind, EventID: eventID, Message: req.Message})
	} else {
		var req tierflow.OpenCaseRequest
		if err := decodeSignedJSON(w, r, body, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		resp, err = s.delegate(r, s.openCase, "", req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp.replay(w)
}

// webhookEventID makes a webhook-id an event_id: as it is when it has an event_id's
// shape, else a digest of it (the same on every retry either way).
func webhookEventID(msgID string) string {
	if (tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: msgID}).Validate() == nil {
		return msgID
	}
	sum := sha256.Sum256([]byte(msgID))
	return "webhook:" + hex.EncodeToString(sum[:20])
}
