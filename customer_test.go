package tierflow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCustomerEventValidate(t *testing.T) {
	assert.NoError(t, CustomerEvent{Kind: CustomerReply, EventID: "zd-1", Message: "here is the receipt"}.Validate())
	assert.NoError(t, CustomerEvent{Kind: CustomerWithdrawn}.Validate())
	assert.ElementsMatch(t, []string{"kind"}, fieldsOf(t, CustomerEvent{Kind: "tweet"}.Validate()))
	assert.ElementsMatch(t, []string{"event_id", "message"},
		fieldsOf(t, CustomerEvent{Kind: CustomerReply, EventID: "has space", Message: strings.Repeat("m", MaxTextLen+1)}.Validate()))
}

func TestSurveyResponseValidate(t *testing.T) {
	for score := 1; score <= 5; score++ {
		assert.NoError(t, SurveyResponse{Score: score, Resolved: true}.Validate())
	}
	assert.ElementsMatch(t, []string{"score"}, fieldsOf(t, SurveyResponse{Score: 0}.Validate()))
	assert.ElementsMatch(t, []string{"score"}, fieldsOf(t, SurveyResponse{Score: 6}.Validate()))
	assert.ElementsMatch(t, []string{"comment"}, fieldsOf(t, SurveyResponse{Score: 3, Comment: strings.Repeat("c", MaxCommentLen+1)}.Validate()))
	assert.NoError(t, SurveyResponse{Score: 3, Comment: strings.Repeat("ü", MaxCommentLen)}.Validate())
}

func TestSurveyStatuses(t *testing.T) {
	for _, s := range SurveyStatuses {
		assert.True(t, s.Valid(), s)
	}
	assert.False(t, SurveyStatus("pending").Valid())
}

// legacySurveyToken is the token format before survey rounds (case and expiry
// only), as links already in customers' mailboxes were signed.
func legacySurveyToken(key []byte, caseID string, expires time.Time) string {
	payload := caseID + "." + strconv.FormatInt(expires.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tierflow-survey\x00" + payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(m.Sum(nil))
}

var (
	surveyKeyNew = []byte("survey-key-newest-0123456789")
	surveyKeyOld = []byte("survey-key-previous-0123456789")
	surveyNow    = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

func TestSurveyTokenNamesCaseRoundAndExpiry(t *testing.T) {
	link := SurveyLink{CaseID: "zendesk-48.213", Round: 3, Expires: surveyNow.Add(7 * 24 * time.Hour)}
	token := SignSurveyToken(surveyKeyNew, link)
	assert.Equal(t, token, SignSurveyToken(surveyKeyNew, link), "same inputs, same link (a retried activity)")
	assert.True(t, strings.HasPrefix(token, "v2."), token)
	assert.NotContains(t, token, "/", "URL-path safe")

	got, err := VerifySurveyToken([][]byte{surveyKeyNew}, token, surveyNow)
	require.NoError(t, err)
	assert.Equal(t, link, got, "a case ID with dots survives")

	other := link
	other.Round = 4
	assert.NotEqual(t, token, SignSurveyToken(surveyKeyNew, other), "the round is part of the link")

	_, err = VerifySurveyToken([][]byte{surveyKeyNew}, token, link.Expires)
	assert.Equal(t, CodeGone, ErrorCode(err), "expired at its instant")
}

func TestSurveyTokenRoundCannotBeChanged(t *testing.T) {
	link := SurveyLink{CaseID: "zendesk-1", Round: 1, Expires: surveyNow.Add(time.Hour)}
	parts := strings.Split(SignSurveyToken(surveyKeyNew, link), ".")
	require.Len(t, parts, 3)
	enc := base64.RawURLEncoding
	payload, err := enc.DecodeString(parts[1])
	require.NoError(t, err)
	forgedPayload := "2" + strings.TrimPrefix(string(payload), "1")
	forged := parts[0] + "." + enc.EncodeToString([]byte(forgedPayload)) + "." + parts[2]
	_, err = VerifySurveyToken([][]byte{surveyKeyNew}, forged, surveyNow)
	assert.Equal(t, CodeNotFound, ErrorCode(err), "a link moved to another round no longer verifies")

	// The two formats sign under different domains: neither reads as the other.
	legacy := legacySurveyToken(surveyKeyNew, "zendesk-1", link.Expires)
	_, err = VerifySurveyToken([][]byte{surveyKeyNew}, "v2."+legacy, surveyNow)
	assert.Equal(t, CodeNotFound, ErrorCode(err), "a legacy link dressed as a round-bound one")
	_, err = VerifySurveyToken([][]byte{surveyKeyNew}, parts[1]+"."+parts[2], surveyNow)
	assert.Equal(t, CodeNotFound, ErrorCode(err), "a round-bound link stripped of its version")
}

func TestLegacySurveyTokenIsRoundOne(t *testing.T) {
	expires := surveyNow.Add(48 * time.Hour)
	got, err := VerifySurveyToken([][]byte{surveyKeyNew}, legacySurveyToken(surveyKeyNew, "zendesk-7.1", expires), surveyNow)
	require.NoError(t, err, "links sent before rounds still verify")
	assert.Equal(t, SurveyLink{CaseID: "zendesk-7.1", Round: LegacySurveyRound, Expires: expires}, got)
	assert.Equal(t, 1, LegacySurveyRound)
}

func TestSurveyKeysRotate(t *testing.T) {
	link := SurveyLink{CaseID: "zendesk-9", Round: 1, Expires: surveyNow.Add(time.Hour)}
	rotated := [][]byte{surveyKeyNew, surveyKeyOld}
	for name, token := range map[string]string{
		"signed with the previous key":             SignSurveyToken(surveyKeyOld, link),
		"signed with the newest key":               SignSurveyToken(surveyKeyNew, link),
		"legacy link signed with the previous key": legacySurveyToken(surveyKeyOld, link.CaseID, link.Expires),
	} {
		got, err := VerifySurveyToken(rotated, token, surveyNow)
		if assert.NoError(t, err, name) {
			assert.Equal(t, link.CaseID, got.CaseID, name)
		}
	}
	_, err := VerifySurveyToken([][]byte{surveyKeyNew}, SignSurveyToken(surveyKeyOld, link), surveyNow)
	assert.Equal(t, CodeNotFound, ErrorCode(err), "a link signed with a removed key fails")
	_, err = VerifySurveyToken(nil, SignSurveyToken(surveyKeyOld, link), surveyNow)
	assert.Equal(t, CodeNotFound, ErrorCode(err), "no keys verify nothing")
	_, err = VerifySurveyToken([][]byte{{}}, SignSurveyToken(nil, link), surveyNow)
	assert.Equal(t, CodeNotFound, ErrorCode(err), "an empty key verifies nothing")
}

func TestSurveyTokenRejectsMalformedTokens(t *testing.T) {
	keys := [][]byte{surveyKeyNew}
	enc := base64.RawURLEncoding
	signed := func(payload string) string {
		m := hmac.New(sha256.New, surveyKeyNew)
		m.Write([]byte("tierflow-survey-v2\x00" + payload))
		return "v2." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(m.Sum(nil))
	}
	exp := strconv.FormatInt(surveyNow.Add(time.Hour).Unix(), 10)
	for name, token := range map[string]string{
		"empty":         "",
		"one part":      "abc",
		"four parts":    "v2.a.b.c",
		"not base64":    "v2.!!.??",
		"round zero":    signed("0." + exp + ".zendesk-1"),
		"round missing": signed("." + exp + ".zendesk-1"),
		"no case":       signed("1." + exp + "."),
		"bad expiry":    signed("1.soon.zendesk-1"),
	} {
		_, err := VerifySurveyToken(keys, token, surveyNow)
		assert.Equal(t, CodeNotFound, ErrorCode(err), name)
	}
	assert.NoError(t, SurveyResponse{Score: 3, Round: 2}.Validate())
	assert.ElementsMatch(t, []string{"round"}, fieldsOf(t, SurveyResponse{Score: 3, Round: -1}.Validate()))
}

// A scheduled survey is sent once its send time has come (the outbox sends it
// then, and the case records it only at its next step); anything else is as it
// was. AsOf changes nothing in place.
func TestSurveyStateAsOf(t *testing.T) {
	sendAt := time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC)
	expires := sendAt.Add(14 * 24 * time.Hour)
	scheduled := SurveyState{Status: SurveyScheduled, Round: 1, SendAt: &sendAt, ExpiresAt: &expires}

	before := scheduled.AsOf(sendAt.Add(-time.Second))
	assert.Equal(t, scheduled, before)

	for _, now := range []time.Time{sendAt, sendAt.Add(time.Hour)} {
		got := scheduled.AsOf(now)
		assert.Equal(t, SurveySent, got.Status)
		require.NotNil(t, got.SentAt)
		assert.Equal(t, sendAt, *got.SentAt)
		assert.Equal(t, expires, *got.ExpiresAt)
		assert.Equal(t, 1, got.Round)
	}
	assert.Equal(t, SurveyScheduled, scheduled.Status, "the receiver is a copy")
	assert.Nil(t, scheduled.SentAt)

	for _, st := range []SurveyStatus{SurveySent, SurveyAnswered, SurveyExpired, SurveyCancelled} {
		s := scheduled
		s.Status = st
		assert.Equal(t, s, s.AsOf(sendAt.Add(time.Hour)), "%s stays as it is", st)
	}
	assert.Equal(t, SurveyState{Status: SurveyScheduled}, SurveyState{Status: SurveyScheduled}.AsOf(sendAt), "no send time: nothing to derive")
}
