package tierflow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// CustomerEventKind is something the customer did, reported by the CRM.
type CustomerEventKind string

// Customer event kinds.
const (
	CustomerReply               CustomerEventKind = "reply"
	CustomerRequestedSupervisor CustomerEventKind = "requested_supervisor"
	CustomerExternalComplaint   CustomerEventKind = "external_complaint"
	CustomerWithdrawn           CustomerEventKind = "withdrawn"
)

// CustomerEventKinds lists every customer event kind.
var CustomerEventKinds = []CustomerEventKind{CustomerReply, CustomerRequestedSupervisor, CustomerExternalComplaint, CustomerWithdrawn}

// CustomerEvent is a customer event as the CRM integration reports it.
type CustomerEvent struct {
	Kind    CustomerEventKind `json:"kind"`
	EventID string            `json:"event_id,omitempty"`
	Message string            `json:"message,omitempty"`
	At      time.Time         `json:"at,omitempty"`
	// Source is the principal that relayed the event (an integration).
	Source Principal `json:"source,omitempty"`
}

// Validate checks a customer event from the CRM integration.
func (e CustomerEvent) Validate() error {
	var v Validation
	v.Check(oneOf(e.Kind, CustomerEventKinds), "kind",
		"must be one of reply, requested_supervisor, external_complaint, withdrawn")
	v.Check(e.EventID == "" || clientIDPattern.MatchString(e.EventID), "event_id",
		"must be 1-128 characters of A-Z a-z 0-9 . _ : -")
	maxLen(&v, "message", e.Message, MaxTextLen)
	return v.Err("invalid customer event")
}

// SurveyResponse is the customer's answer from the signed survey link.
type SurveyResponse struct {
	Score    int    `json:"score"`
	Resolved bool   `json:"resolved"`
	Comment  string `json:"comment,omitempty"`
}

// Validate checks a survey answer.
func (s SurveyResponse) Validate() error {
	var v Validation
	v.Check(s.Score >= 1 && s.Score <= 5, "score", "must be 1 to 5, got %d", s.Score)
	maxLen(&v, "comment", s.Comment, MaxCommentLen)
	return v.Err("invalid survey response")
}

// SurveyStatus is where a case's satisfaction survey stands.
type SurveyStatus string

// Survey statuses, in their usual order.
const (
	SurveyScheduled SurveyStatus = "scheduled" // waiting for the delay after resolution
	SurveySent      SurveyStatus = "sent"
	SurveyAnswered  SurveyStatus = "answered"
	SurveyExpired   SurveyStatus = "expired"
	SurveyCancelled SurveyStatus = "cancelled" // the case reopened or closed before an answer
)

// SurveyStatuses lists every survey status.
var SurveyStatuses = []SurveyStatus{SurveyScheduled, SurveySent, SurveyAnswered, SurveyExpired, SurveyCancelled}

// Valid reports whether s is a known survey status.
func (s SurveyStatus) Valid() bool { return oneOf(s, SurveyStatuses) }

// SurveyState is the customer satisfaction survey of a resolved case.
type SurveyState struct {
	Status     SurveyStatus `json:"status"`
	SendAt     *time.Time   `json:"send_at,omitempty"`
	SentAt     *time.Time   `json:"sent_at,omitempty"`
	ExpiresAt  *time.Time   `json:"expires_at,omitempty"`
	Score      int          `json:"score,omitempty"`
	Resolved   *bool        `json:"resolved,omitempty"`
	Comment    string       `json:"comment,omitempty"`
	AnsweredAt *time.Time   `json:"answered_at,omitempty"`
}

// SignSurveyToken returns a URL-safe token naming the case and its expiry, signed
// with key (HMAC-SHA256). Same inputs give the same token, so a retried activity
// sends the same link.
func SignSurveyToken(key []byte, caseID string, expires time.Time) string {
	payload := caseID + "." + strconv.FormatInt(expires.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(surveyMAC(key, payload))
}

// VerifySurveyToken checks the signature and returns the case and expiry. A bad or
// forged token is CodeNotFound; an expired one is CodeGone (with the case ID).
func VerifySurveyToken(key []byte, token string, now time.Time) (caseID string, expires time.Time, err error) {
	bad := Errorf(CodeNotFound, "survey link is not valid")
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", time.Time{}, bad
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, surveyMAC(key, string(payload))) {
		return "", time.Time{}, bad
	}
	i := strings.LastIndexByte(string(payload), '.')
	if i <= 0 {
		return "", time.Time{}, bad
	}
	secs, err := strconv.ParseInt(string(payload[i+1:]), 10, 64)
	if err != nil {
		return "", time.Time{}, bad
	}
	caseID, expires = string(payload[:i]), time.Unix(secs, 0).UTC()
	if !now.Before(expires) {
		return caseID, expires, Errorf(CodeGone, "this survey expired on %s", expires.Format("2 January 2006"))
	}
	return caseID, expires, nil
}

func surveyMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tierflow-survey\x00" + payload))
	return m.Sum(nil)
}
