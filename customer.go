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
	// Round is the survey round the link was signed for (SurveyLink.Round); the
	// case takes the answer only for the survey of that round. Zero in answers
	// recorded before rounds.
	Round int `json:"round,omitempty"`
}

// Validate checks a survey answer.
func (s SurveyResponse) Validate() error {
	var v Validation
	v.Check(s.Score >= 1 && s.Score <= 5, "score", "must be 1 to 5, got %d", s.Score)
	v.Check(s.Round >= 0, "round", "must not be negative, got %d", s.Round)
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
	Round      int          `json:"round,omitempty"` // 1 for the first resolution, +1 per reopen (SurveyLink); 0 before rounds
	SendAt     *time.Time   `json:"send_at,omitempty"`
	SentAt     *time.Time   `json:"sent_at,omitempty"`
	ExpiresAt  *time.Time   `json:"expires_at,omitempty"`
	Score      int          `json:"score,omitempty"`
	Resolved   *bool        `json:"resolved,omitempty"`
	Comment    string       `json:"comment,omitempty"`
	AnsweredAt *time.Time   `json:"answered_at,omitempty"`
}

// AsOf is the survey as it stands at now: a survey scheduled for SendAt has
// gone out once SendAt has passed (status sent, sent at SendAt). Since the
// survey email waits in the email outbox for its send time, the case records
// that it went out only at its next step (the lazy survey_sent event); a case's
// recorded view can say scheduled after the email left, and whoever shows it
// (the API from the Postgres projection, the case query) shows it as of now.
// Cases from before the outbox send it themselves at SendAt, as soon as their
// timer fires. Pure: s is not changed.
func (s SurveyState) AsOf(now time.Time) SurveyState {
	if s.Status == SurveyScheduled && s.SendAt != nil && !now.Before(*s.SendAt) {
		sent := *s.SendAt
		s.Status, s.SentAt = SurveySent, &sent
	}
	return s
}

// SurveyLink is what a signed survey link names: the case, the survey round it
// was sent for and when it expires. Rounds count the case's resolutions: 1 for the
// first survey, one more after each reopen (a reopen cancels the survey of the
// round before), so a link from an earlier round cannot answer a later survey.
type SurveyLink struct {
	CaseID  string
	Round   int
	Expires time.Time
}

// LegacySurveyRound is the round of a link in the format before rounds (signed
// without one): such links were only sent for surveys already out when rounds
// came, and count as the case's first round. After a reopen they answer nothing.
const LegacySurveyRound = 1

// surveyTokenVersion starts a token that names its round; a legacy token has no
// version part (two dot-separated parts, not three).
const surveyTokenVersion = "v2"

// SignSurveyToken returns a URL-safe token naming the case, its survey round and
// its expiry, signed with key (HMAC-SHA256). Same inputs give the same token, so a
// retried activity sends the same link. The signer uses the newest key of the list
// the verifier holds (see VerifySurveyToken).
func SignSurveyToken(key []byte, link SurveyLink) string {
	payload := strconv.Itoa(link.Round) + "." + strconv.FormatInt(link.Expires.Unix(), 10) + "." + link.CaseID
	enc := base64.RawURLEncoding
	return surveyTokenVersion + "." + enc.EncodeToString([]byte(payload)) + "." +
		enc.EncodeToString(surveyMAC(key, surveyMACv2, payload))
}

// VerifySurveyToken checks the signature against every key of keys (newest first,
// so a key can rotate while links signed with the previous one are still out) and
// returns what the link names. A token in the legacy format (no round) verifies
// too and names LegacySurveyRound. A bad or forged token, or one signed with a key
// no longer in the list, is CodeNotFound; an expired one is CodeGone (with the
// link, so the case is known).
func VerifySurveyToken(keys [][]byte, token string, now time.Time) (SurveyLink, error) {
	bad := Errorf(CodeNotFound, "survey link is not valid")
	link, ok := parseSurveyToken(keys, token)
	if !ok {
		return SurveyLink{}, bad
	}
	if !now.Before(link.Expires) {
		return link, Errorf(CodeGone, "this survey expired on %s", link.Expires.Format("2 January 2006"))
	}
	return link, nil
}

// parseSurveyToken checks the signature and reads the payload of either format.
func parseSurveyToken(keys [][]byte, token string) (SurveyLink, bool) {
	parts := strings.Split(token, ".")
	domain := surveyMACv1
	switch {
	case len(parts) == 3 && parts[0] == surveyTokenVersion:
		domain, parts = surveyMACv2, parts[1:]
	case len(parts) != 2:
		return SurveyLink{}, false
	}
	enc := base64.RawURLEncoding
	raw, err1 := enc.DecodeString(parts[0])
	mac, err2 := enc.DecodeString(parts[1])
	if err1 != nil || err2 != nil || !macMatchesAny(keys, domain, string(raw), mac) {
		return SurveyLink{}, false
	}
	payload := string(raw)
	if domain == surveyMACv1 {
		// "<case id>.<expiry>": the case ID may hold dots, the expiry does not.
		i := strings.LastIndexByte(payload, '.')
		if i <= 0 {
			return SurveyLink{}, false
		}
		secs, err := strconv.ParseInt(payload[i+1:], 10, 64)
		if err != nil {
			return SurveyLink{}, false
		}
		return SurveyLink{CaseID: payload[:i], Round: LegacySurveyRound, Expires: time.Unix(secs, 0).UTC()}, true
	}
	// "<round>.<expiry>.<case id>"
	round, rest, ok1 := strings.Cut(payload, ".")
	expiry, caseID, ok2 := strings.Cut(rest, ".")
	n, err1 := strconv.Atoi(round)
	secs, err2 := strconv.ParseInt(expiry, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || n < 1 || caseID == "" {
		return SurveyLink{}, false
	}
	return SurveyLink{CaseID: caseID, Round: n, Expires: time.Unix(secs, 0).UTC()}, true
}

// MAC domains of the two token formats: a legacy payload can never be read as a
// round-bound one, or the other way round.
const (
	surveyMACv1 = "tierflow-survey\x00"
	surveyMACv2 = "tierflow-survey-v2\x00"
)

// macMatchesAny compares mac with the MAC under every key, in constant time each,
// and without stopping at the first match.
func macMatchesAny(keys [][]byte, domain, payload string, mac []byte) bool {
	ok := false
	for _, key := range keys {
		if len(key) > 0 && hmac.Equal(mac, surveyMAC(key, domain, payload)) {
			ok = true
		}
	}
	return ok
}

func surveyMAC(key []byte, domain, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain + payload))
	return m.Sum(nil)
}
