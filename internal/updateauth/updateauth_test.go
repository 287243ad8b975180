package updateauth

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tierflow/tierflow"
)

var (
	oldSurveyKey = []byte("survey-key-0123456789")
	newSurveyKey = []byte("survey-key-rotated-9876543210")
	issuedAt     = time.Date(2026, 3, 9, 14, 30, 0, 0, time.UTC)
)

// forgedClose is the attack: an unknown executive closes a case.
func forgedClose() tierflow.Decision {
	return tierflow.Decision{Action: tierflow.ActionClose, DecisionID: "d-1", Reason: "settled by phone",
		Actor: tierflow.Principal{ID: "agent-7", Role: tierflow.RoleAgent, Tier: tierflow.TierFrontline,
			Departments: []string{"billing"}}}
}

func decideMessage() Message {
	return Message{UpdateName: "decide", UpdateID: "decision-d-1", WorkflowID: "case-42", Args: []any{forgedClose()}}
}

func signerAt(t *testing.T, keys [][]byte, at time.Time) *Signer {
	t.Helper()
	s, err := NewSigner(keys)
	require.NoError(t, err)
	s.now = func() time.Time { return at }
	return s
}

func verifierAt(t *testing.T, keys [][]byte, at time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier(keys)
	require.NoError(t, err)
	v.now = func() time.Time { return at }
	return v
}

func sign(t *testing.T, s *Signer, m Message) *commonpb.Payload {
	t.Helper()
	p, err := s.Sign(m)
	require.NoError(t, err)
	return p
}

func TestASignedUpdateVerifies(t *testing.T) {
	p := sign(t, signerAt(t, [][]byte{oldSurveyKey}, issuedAt), decideMessage())
	assert.NoError(t, verifierAt(t, [][]byte{oldSurveyKey}, issuedAt.Add(2*time.Second)).Verify(decideMessage(), p))

	var h header
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &h))
	assert.Equal(t, header{Version: "v1", IssuedAt: issuedAt.UnixMilli(), MAC: h.MAC}, h)
	assert.NotContains(t, string(p.GetData()), "agent-7", "the header holds no argument")
}

// The worker verifies the arguments as the SDK decodes them from the payload the
// client encoded: the JSON of the Go values must survive that round trip, a time
// in a named zone and empty or nil lists included.
func TestArgumentsVerifyAfterThePayloadRoundTrip(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	d := forgedClose()
	d.Text, d.Message, d.Mode, d.Department, d.Summary, d.Assignee = "a <note> & more", "msg", tierflow.EscalationMode("standard"), "billing", "s", "agent-9"
	d.AmountCents, d.Currency, d.Description, d.ApprovalID, d.Note = 1250, "EUR", "refund", "apr-1", "ok"
	d.Resolution, d.Explanation = "refunded", "because \u2028 of \xff invalid UTF-8"
	args := []any{
		d,
		tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e-1", Message: "thanks",
			At: time.Date(2026, 3, 9, 15, 30, 0, 123456789, paris), Source: tierflow.Principal{ID: "crm", Role: "integration", Departments: []string{}}},
		tierflow.SurveyResponse{Score: 2, Resolved: false, Comment: "still charged"},
	}
	s := signerAt(t, [][]byte{oldSurveyKey}, issuedAt)
	v := verifierAt(t, [][]byte{oldSurveyKey}, issuedAt)
	for _, arg := range args {
		m := Message{UpdateName: "u", UpdateID: "id", WorkflowID: "case-1", Args: []any{arg}}
		p := sign(t, s, m)
		payload, err := converter.GetDefaultDataConverter().ToPayload(arg)
		require.NoError(t, err)
		decoded := decodeAs(t, arg, payload)
		m.Args = []any{decoded}
		assert.NoError(t, v.Verify(m, p), "%T", arg)
	}
}

func decodeAs(t *testing.T, like any, p *commonpb.Payload) any {
	t.Helper()
	switch like.(type) {
	case tierflow.Decision:
		var out tierflow.Decision
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &out))
		return out
	case tierflow.CustomerEvent:
		var out tierflow.CustomerEvent
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &out))
		return out
	case tierflow.SurveyResponse:
		var out tierflow.SurveyResponse
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &out))
		return out
	}
	t.Fatalf("no decoder for %T", like)
	return nil
}

// Every field of the message is covered: a header signed for one Update does not
// prove another.
func TestATamperedUpdateIsRefused(t *testing.T) {
	p := sign(t, signerAt(t, [][]byte{oldSurveyKey}, issuedAt), decideMessage())
	v := verifierAt(t, [][]byte{oldSurveyKey}, issuedAt)
	promoted := forgedClose()
	promoted.Actor.Role, promoted.Actor.Tier = tierflow.RoleExecutive, tierflow.TierExecutive
	tampered := map[string]func(m *Message){
		"update name":   func(m *Message) { m.UpdateName = "survey-response" },
		"update id":     func(m *Message) { m.UpdateID = "decision-d-2" },
		"workflow id":   func(m *Message) { m.WorkflowID = "case-43" },
		"actor":         func(m *Message) { m.Args = []any{promoted} },
		"extra arg":     func(m *Message) { m.Args = append(m.Args, "more") },
		"no args":       func(m *Message) { m.Args = nil },
		"field shifted": func(m *Message) { m.UpdateName, m.UpdateID = "decide\n12:decision-d-1", "" },
	}
	for name, change := range tampered {
		t.Run(name, func(t *testing.T) {
			m := decideMessage()
			change(&m)
			assert.ErrorIs(t, v.Verify(m, p), ErrSignature)
		})
	}
	t.Run("issued at", func(t *testing.T) {
		assert.ErrorIs(t, v.Verify(decideMessage(), rewriteHeader(t, p, func(h *header) { h.IssuedAt += 1000 })), ErrSignature)
	})
	t.Run("mac", func(t *testing.T) {
		q := rewriteHeader(t, p, func(h *header) {
			b, err := base64.RawURLEncoding.DecodeString(h.MAC)
			require.NoError(t, err)
			b[0] ^= 1
			h.MAC = base64.RawURLEncoding.EncodeToString(b)
		})
		assert.ErrorIs(t, v.Verify(decideMessage(), q), ErrSignature)
	})
	t.Run("version", func(t *testing.T) {
		assert.ErrorIs(t, v.Verify(decideMessage(), rewriteHeader(t, p, func(h *header) { h.Version = "v0" })), ErrMalformed)
	})
}

func rewriteHeader(t *testing.T, p *commonpb.Payload, change func(h *header)) *commonpb.Payload {
	t.Helper()
	var h header
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &h))
	change(&h)
	q, err := converter.GetDefaultDataConverter().ToPayload(h)
	require.NoError(t, err)
	return q
}

func TestAHeaderThatIsMissingOrMalformedIsRefused(t *testing.T) {
	v := verifierAt(t, [][]byte{oldSurveyKey}, issuedAt)
	assert.ErrorIs(t, v.Verify(decideMessage(), nil), ErrMissing)

	notJSON := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("json/plain")}, Data: []byte("{nope")}
	assert.ErrorIs(t, v.Verify(decideMessage(), notJSON), ErrMalformed)
	str, err := converter.GetDefaultDataConverter().ToPayload("an executive, trust me")
	require.NoError(t, err)
	assert.ErrorIs(t, v.Verify(decideMessage(), str), ErrMalformed)
	short, err := converter.GetDefaultDataConverter().ToPayload(header{Version: Version, IssuedAt: issuedAt.UnixMilli(), MAC: "AAAA"})
	require.NoError(t, err)
	assert.ErrorIs(t, v.Verify(decideMessage(), short), ErrMalformed)
}

// The first survey key signs and every configured key verifies, so the keys can
// rotate; a key that is not configured proves nothing.
func TestRotation(t *testing.T) {
	m := decideMessage()
	byOld := sign(t, signerAt(t, [][]byte{oldSurveyKey}, issuedAt), m)
	byNew := sign(t, signerAt(t, [][]byte{newSurveyKey, oldSurveyKey}, issuedAt), m)
	assert.NotEqual(t, byOld.GetData(), byNew.GetData(), "the first key signs")

	both := verifierAt(t, [][]byte{newSurveyKey, oldSurveyKey}, issuedAt)
	assert.NoError(t, both.Verify(m, byOld))
	assert.NoError(t, both.Verify(m, byNew))
	assert.NoError(t, verifierAt(t, [][]byte{oldSurveyKey, newSurveyKey}, issuedAt).Verify(m, byNew))
	assert.ErrorIs(t, verifierAt(t, [][]byte{oldSurveyKey}, issuedAt).Verify(m, byNew), ErrSignature)
	assert.ErrorIs(t, verifierAt(t, [][]byte{newSurveyKey}, issuedAt).Verify(m, byOld), ErrSignature)
}

func TestFreshness(t *testing.T) {
	p := sign(t, signerAt(t, [][]byte{oldSurveyKey}, issuedAt), decideMessage())
	for _, tc := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"just sent", issuedAt, nil},
		{"nine minutes later", issuedAt.Add(9 * time.Minute), nil},
		{"at the limit", issuedAt.Add(MaxAge), nil},
		{"past the limit", issuedAt.Add(MaxAge + time.Second), ErrStale},
		{"a day later", issuedAt.Add(24 * time.Hour), ErrStale},
		{"the worker's clock 30s behind", issuedAt.Add(-30 * time.Second), nil},
		{"two minutes in the future", issuedAt.Add(-2 * time.Minute), ErrFuture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verifierAt(t, [][]byte{oldSurveyKey}, tc.now).Verify(decideMessage(), p)
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

// The canonical form and the key derivation are fixed: another implementation
// (or a later version of this one) can check itself against these vectors.
func TestCanonicalFormAndKeyDerivation(t *testing.T) {
	msg, err := canonical(Message{UpdateName: "decide", UpdateID: "u-1", WorkflowID: "case-42",
		Args: []any{tierflow.SurveyResponse{Score: 5, Resolved: true}}}, 1773066600000)
	require.NoError(t, err)
	assert.Equal(t, "2:v1\n6:decide\n3:u-1\n7:case-42\n13:1773066600000\n29:[{\"resolved\":true,\"score\":5}]\n", string(msg))

	noArgs, err := canonical(Message{UpdateName: "ping"}, 0)
	require.NoError(t, err)
	assert.Equal(t, "2:v1\n4:ping\n0:\n0:\n1:0\n2:[]\n", string(noArgs))

	// openssl: echo -n tierflow/update-auth/v1 | openssl dgst -sha256 -hmac survey-key-0123456789
	assert.Equal(t, "598aface36fd3ebea51fb094631ab5129616b333293718a854e3c4fb7f1365b4", hex.EncodeToString(DeriveKey(oldSurveyKey)))
}

func TestKeysAreRequired(t *testing.T) {
	for _, keys := range [][][]byte{nil, {}, {[]byte{}}, {oldSurveyKey, nil}} {
		_, err := NewSigner(keys)
		assert.Error(t, err, "signer with %q", keys)
		_, err = NewVerifier(keys)
		assert.Error(t, err, "verifier with %q", keys)
	}
}

func TestUnmarshallableArgumentsAreAnError(t *testing.T) {
	s := signerAt(t, [][]byte{oldSurveyKey}, issuedAt)
	_, err := s.Sign(Message{UpdateName: "u", Args: []any{make(chan int)}})
	assert.Error(t, err, "encoding/json refuses a channel")
}
