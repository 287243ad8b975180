package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tierflow/tierflow"
)

// zendeskSource is the source of every case the Zendesk connector opens.
const zendeskSource = "zendesk"

// zendeskSupervisorTag on a ticket asks for a supervisor (requested_supervisor).
const zendeskSupervisorTag = "escalate_supervisor"

// zendeskTolerance is how far X-Zendesk-Webhook-Signature-Timestamp may be from
// the API's clock, either way.
const zendeskTolerance = 5 * time.Minute

// Headers of a Zendesk webhook request.
const (
	zendeskSignatureHeader  = "X-Zendesk-Webhook-Signature"
	zendeskTimestampHeader  = "X-Zendesk-Webhook-Signature-Timestamp"
	zendeskInvocationHeader = "X-Zendesk-Webhook-Invocation-Id"
)

// Why a Zendesk signature is refused (logged, never shown).
var (
	errZendeskHeaders   = errors.New("zendesk: no signature or timestamp header")
	errZendeskTimestamp = errors.New("zendesk: the signature timestamp is not RFC 3339")
	errZendeskWindow    = errors.New("zendesk: the signature timestamp is more than 5 minutes away")
	errZendeskSignature = errors.New("zendesk: the signature does not match")
)

// verifyZendesk checks Zendesk's webhook signature: base64(HMAC-SHA256(secret,
// timestamp + body)), compared in constant time, the timestamp within 5 minutes
// of now either way (a captured delivery cannot be replayed later).
func verifyZendesk(secret []byte, h http.Header, body []byte, now time.Time) error {
	sig, stamp := h.Get(zendeskSignatureHeader), h.Get(zendeskTimestampHeader)
	if sig == "" || stamp == "" || len(secret) == 0 {
		return errZendeskHeaders
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(stamp))
	mac.Write(body)
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return errZendeskSignature
	}
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return errZendeskTimestamp
	}
	if d := now.Sub(at); d > zendeskTolerance || d < -zendeskTolerance {
		return errZendeskWindow
	}
	return nil
}

// zendeskDelivery is the body of the README's trigger template, exactly: every
// value is a string, because Zendesk renders its placeholders as text.
type zendeskDelivery struct {
	Event  string        `json:"event"` // escalate or comment
	Ticket zendeskTicket `json:"ticket"`
}

type zendeskTicket struct {
	ID            string           `json:"id"`
	URL           string           `json:"url"`
	Subject       string           `json:"subject"`
	Description   string           `json:"description"`
	Priority      string           `json:"priority"`
	Tags          string           `json:"tags"` // space-separated
	Group         string           `json:"group"`
	CreatedAt     string           `json:"created_at"`
	Requester     zendeskRequester `json:"requester"`
	LatestComment zendeskComment   `json:"latest_comment"`
}

type zendeskRequester struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Locale string `json:"locale"`
}

type zendeskComment struct {
	AuthorID string `json:"author_id"`
	Body     string `json:"body"`
}

// Zendesk events.
const (
	eventEscalate = "escalate"
	eventComment  = "comment"
)

// languageTag is the shape of a locale the connector passes on; Zendesk renders
// {{ticket.requester.language}} as a name ("English") on some accounts, which is
// dropped rather than stored as a locale.
func languageTag(s string) string {
	s = strings.TrimSpace(s)
	lang, region, _ := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-")
	if len(lang) < 2 || len(lang) > 3 || strings.ToLower(lang) != lang || len(region) > 8 {
		return ""
	}
	return s
}

// openRequest maps a delivery to the API's open request (README, "Connect
// Zendesk"). departments are the Tierflow departments a Zendesk group may name.
// Texts longer than the API takes are cut, not refused: Zendesk cannot shorten a
// ticket, and the full text stays in the ticket linked by crm_url.
func (d zendeskDelivery) openRequest(departments []string) (tierflow.OpenCaseRequest, error) {
	var v tierflow.Validation
	v.Check(d.Event == eventEscalate || d.Event == eventComment, "event", "must be escalate or comment")
	t := d.Ticket
	priority := tierflow.Priority(strings.ToLower(strings.TrimSpace(t.Priority)))
	if priority == "" || priority == "-" {
		priority = tierflow.PriorityNormal
	}
	v.Check(priority.Valid(), "ticket.priority", "must be low, normal, high, urgent or empty")
	openedAt, err := time.Parse(time.RFC3339, strings.TrimSpace(t.CreatedAt))
	v.Check(err == nil, "ticket.created_at", "must be an RFC 3339 time ({{ticket.created_at_with_timestamp}})")
	if err := v.Err("the Zendesk delivery is invalid"); err != nil {
		return tierflow.OpenCaseRequest{}, err
	}
	req := tierflow.OpenCaseRequest{
		Source: zendeskSource, ExternalID: strings.TrimSpace(t.ID),
		Customer: tierflow.Customer{ID: strings.TrimSpace(t.Requester.ID), Name: cut(t.Requester.Name, tierflow.MaxSubjectLen),
			Email: strings.TrimSpace(t.Requester.Email), Locale: languageTag(t.Requester.Locale)},
		Subject: cut(t.Subject, tierflow.MaxSubjectLen), Description: cut(t.Description, tierflow.MaxDescriptionLen),
		Priority: priority, OpenedAt: openedAt.UTC(), Trigger: tierflow.TriggerUnresolved,
		Department: zendeskDepartment(t.Group, departments), CRMURL: ticketURL(t.URL),
	}
	if d.Event == eventEscalate {
		// The latest comment of an escalation is the agent's note on why.
		req.FrontlineSummary = cut(t.LatestComment.Body, tierflow.MaxTextLen)
	}
	return req, nil
}

// zendeskDepartment is the department a Zendesk group names, compared without case;
// "" when it names none.
func zendeskDepartment(group string, departments []string) string {
	group = strings.TrimSpace(group)
	for _, d := range departments {
		if strings.EqualFold(d, group) {
			return d
		}
	}
	return ""
}

// ticketURL makes {{ticket.url}} ("acme.zendesk.com/agent/tickets/7", without a
// scheme) an absolute https URL; "" when it is not a URL.
func ticketURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	if u, err := url.Parse(raw); err != nil || u.Host == "" {
		return ""
	}
	return raw
}

// hasTag reports whether the space-separated tags hold tag.
func (t zendeskTicket) hasTag(tag string) bool {
	return slices.Contains(strings.Fields(t.Tags), tag)
}

// byRequester reports whether the latest comment is the requester's own.
func (t zendeskTicket) byRequester() bool {
	return strings.TrimSpace(t.LatestComment.AuthorID) != "" && strings.TrimSpace(t.LatestComment.AuthorID) == strings.TrimSpace(t.Requester.ID)
}

// replyEventID is the event_id of a requester comment: the same for every retry of
// one delivery, so the case applies it once. A retry is an attempt of the same
// invocation (X-Zendesk-Webhook-Invocation-Id) and may be signed at another time,
// so the signature timestamp is left out; the invocation ID tells two identical
// comments ("any news?") apart. Without the header, a comment is identified by its
// author and text. The header is not signed: a replay inside the 5-minute window
// with another invocation ID can add the same reply twice (a second note; a case
// resumes only once), never anything the body does not say.
func replyEventID(ticketID string, c zendeskComment, invocationID string) string {
	h := sha256.New()
	for _, part := range []string{ticketID, c.AuthorID, c.Body, invocationID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "zendesk:" + ticketID + ":comment:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// supervisorEventID is the event_id of the tag's request for a supervisor: once per
// case.
func supervisorEventID(ticketID string) string {
	return "zendesk:" + ticketID + ":" + zendeskSupervisorTag
}

// cut trims s and shortens it to at most n bytes at a rune boundary.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// zendeskAnswer is the connector's answer to Zendesk (shown in its webhook log).
type zendeskAnswer struct {
	CaseID string `json:"case_id"`
	// Opened is true when this delivery opened the case.
	Opened bool `json:"opened"`
	// Events are the customer events this delivery relayed (reply,
	// requested_supervisor); a retried delivery lists them again, applied once.
	Events []tierflow.CustomerEventKind `json:"events"`
	// Ignored says why nothing was done (a comment that is not the requester's).
	Ignored string `json:"ignored,omitempty"`
}

// zendeskWebhook: POST /v1/connectors/zendesk. Any delivery opens the ticket's case
// when there is none; a requester comment becomes a reply; the tag
// escalate_supervisor asks for a supervisor. 201 when the delivery opened the
// case, 200 otherwise; an error of the open or customer-event path is answered as
// that path answers it.
func (s *server) zendeskWebhook(w http.ResponseWriter, r *http.Request) {
	if len(s.Connectors.ZendeskSecret) == 0 {
		s.writeError(w, r, tierflow.Errorf(tierflow.CodeNotFound, "the Zendesk connector is not configured"))
		return
	}
	body, ok := s.readSignedBody(w, r)
	if !ok {
		return
	}
	if err := verifyZendesk(s.Connectors.ZendeskSecret, r.Header, body, s.Now()); err != nil {
		s.refuseSignature(w, r, err)
		return
	}
	if r, ok = s.admitConnector(w, r, connectorPrincipal(zendeskSource)); !ok {
		return
	}
	var d zendeskDelivery
	if err := decodeSignedJSON(w, r, body, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := d.openRequest(s.Connectors.ZendeskDepartments)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	caseID := tierflow.CaseID(zendeskSource, req.ExternalID)
	answer := zendeskAnswer{CaseID: caseID, Events: []tierflow.CustomerEventKind{}}
	if d.Event == eventComment && !d.Ticket.byRequester() {
		answer.Ignored = "the latest comment is not the requester's"
		writeJSON(w, http.StatusOK, answer)
		return
	}
	if d.Event == eventEscalate {
		if answer.Opened, ok = s.connectorOpen(w, r, req); !ok {
			return
		}
	}
	if d.Event == eventComment {
		reply := customerEventRequest{Kind: tierflow.CustomerReply, Message: cut(d.Ticket.LatestComment.Body, tierflow.MaxTextLen),
			EventID: replyEventID(req.ExternalID, d.Ticket.LatestComment, r.Header.Get(zendeskInvocationHeader))}
		if answer.Opened, ok = s.connectorReply(w, r, req, reply); !ok {
			return
		}
		answer.Events = append(answer.Events, tierflow.CustomerReply)
	}
	if d.Ticket.hasTag(zendeskSupervisorTag) {
		ev := customerEventRequest{Kind: tierflow.CustomerRequestedSupervisor, EventID: supervisorEventID(req.ExternalID),
			Message: "Zendesk ticket tagged " + zendeskSupervisorTag}
		if !s.connectorEvent(w, r, caseID, ev) {
			return
		}
		answer.Events = append(answer.Events, tierflow.CustomerRequestedSupervisor)
	}
	status := http.StatusOK
	if answer.Opened {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/cases/"+url.PathEscape(caseID))
	}
	writeJSON(w, status, answer)
}
