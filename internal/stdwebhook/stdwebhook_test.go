package stdwebhook_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/stdwebhook"
)

func newSecret(t *testing.T) stdwebhook.Secret {
	t.Helper()
	s, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	return s
}

// The specification's worked example (standardwebhooks.com, "Signature scheme"):
// a fixed secret, id, timestamp and body give a known signature.
func TestSignMatchesTheSpecificationExample(t *testing.T) {
	secret, err := stdwebhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	body := []byte(`{"test": 2432232314}`)
	sig := stdwebhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig)
}

func TestOurSignatureVerifiesWithTheReferenceLibrary(t *testing.T) {
	secret := newSecret(t)
	body := []byte(`{"type":"case.opened","data":{"case_id":"zendesk-1"}}`)
	now := time.Now()
	headers := stdwebhook.Headers([]stdwebhook.Secret{secret}, "msg_1", now, body)

	theirs, err := standardwebhooks.NewWebhook(secret.String())
	require.NoError(t, err)
	assert.NoError(t, theirs.Verify(body, headers))
	assert.Error(t, theirs.Verify(append(body, ' '), headers), "a changed body must not verify")
}

func TestReferenceLibrarySignatureVerifiesWithOurs(t *testing.T) {
	secret := newSecret(t)
	theirs, err := standardwebhooks.NewWebhook(secret.String())
	require.NoError(t, err)
	body := []byte(`{"source":"acme","external_id":"9"}`)
	now := time.Now()
	sig, err := theirs.Sign("msg_2", now, body)
	require.NoError(t, err)
	headers := http.Header{}
	headers.Set("webhook-id", "msg_2")
	headers.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	headers.Set("webhook-signature", sig)

	assert.NoError(t, stdwebhook.Verify([]stdwebhook.Secret{secret}, headers, body, 0, now))
	assert.ErrorIs(t, stdwebhook.Verify([]stdwebhook.Secret{newSecret(t)}, headers, body, 0, now),
		stdwebhook.ErrNoMatchingSignature)
}

func TestRotationOverlapEitherSecretVerifies(t *testing.T) {
	oldSecret, newSecretValue := newSecret(t), newSecret(t)
	body := []byte(`{}`)
	now := time.Now()
	headers := stdwebhook.Headers([]stdwebhook.Secret{newSecretValue, oldSecret}, "msg_3", now, body)
	require.Len(t, strings.Fields(headers.Get("webhook-signature")), 2)

	for name, secret := range map[string]stdwebhook.Secret{"old": oldSecret, "new": newSecretValue} {
		assert.NoError(t, stdwebhook.Verify([]stdwebhook.Secret{secret}, headers, body, 0, now), name)
		theirs, err := standardwebhooks.NewWebhook(secret.String())
		require.NoError(t, err)
		assert.NoError(t, theirs.Verify(body, headers), name+" (reference library)")
	}
	// A receiver holding both (its own rotation) verifies a message signed with one.
	single := stdwebhook.Headers([]stdwebhook.Secret{oldSecret}, "msg_3", now, body)
	assert.NoError(t, stdwebhook.Verify([]stdwebhook.Secret{newSecretValue, oldSecret}, single, body, 0, now))
}

func TestVerifyRefuses(t *testing.T) {
	secret := newSecret(t)
	body := []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	signed := func(at time.Time) http.Header {
		return stdwebhook.Headers([]stdwebhook.Secret{secret}, "msg_4", at, body)
	}
	without := func(name string) http.Header {
		h := signed(now)
		h.Del(name)
		return h
	}
	with := func(name, value string) http.Header {
		h := signed(now)
		h.Set(name, value)
		return h
	}
	tests := []struct {
		name      string
		headers   http.Header
		body      []byte
		tolerance time.Duration
		want      error
	}{
		{"tampered body", signed(now), []byte(`{"a":2}`), 0, stdwebhook.ErrNoMatchingSignature},
		{"other message id", with("webhook-id", "msg_5"), body, 0, stdwebhook.ErrNoMatchingSignature},
		{"timestamp changed after signing", with("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10)), body, 0, stdwebhook.ErrNoMatchingSignature},
		{"stale beyond the default 5 minutes", signed(now.Add(-5*time.Minute - time.Second)), body, 0, stdwebhook.ErrTimestampTooOld},
		{"future beyond the default 5 minutes", signed(now.Add(5*time.Minute + time.Second)), body, 0, stdwebhook.ErrTimestampTooNew},
		{"stale beyond a 30s tolerance", signed(now.Add(-31 * time.Second)), body, 30 * time.Second, stdwebhook.ErrTimestampTooOld},
		{"timestamp not a number", with("webhook-timestamp", "2026-01-01T00:00:00Z"), body, 0, stdwebhook.ErrInvalidTimestamp},
		{"no id", without("webhook-id"), body, 0, stdwebhook.ErrMissingHeaders},
		{"no timestamp", without("webhook-timestamp"), body, 0, stdwebhook.ErrMissingHeaders},
		{"no signature", without("webhook-signature"), body, 0, stdwebhook.ErrMissingHeaders},
		{"only another version", with("webhook-signature", "v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64))), body, 0, stdwebhook.ErrNoMatchingSignature},
		{"signature not base64", with("webhook-signature", "v1,!!!"), body, 0, stdwebhook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := stdwebhook.Verify([]stdwebhook.Secret{secret}, tt.headers, tt.body, tt.tolerance, now)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	t.Run("within the tolerance both ways", func(t *testing.T) {
		for _, at := range []time.Time{now.Add(-5 * time.Minute), now.Add(5 * time.Minute)} {
			assert.NoError(t, stdwebhook.Verify([]stdwebhook.Secret{secret}, signed(at), body, 0, now))
		}
	})
	t.Run("no secrets verify nothing", func(t *testing.T) {
		assert.ErrorIs(t, stdwebhook.Verify(nil, signed(now), body, 0, now), stdwebhook.ErrNoMatchingSignature)
	})
}

func TestParseSecret(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	encoded := base64.StdEncoding.EncodeToString(key)
	for _, text := range []string{"whsec_" + encoded, encoded, " whsec_" + encoded + " "} {
		s, err := stdwebhook.ParseSecret(text)
		require.NoError(t, err, text)
		assert.Equal(t, key, []byte(s))
		assert.Equal(t, "whsec_"+encoded, s.String())
	}
	for _, text := range []string{"", "whsec_", "whsec_not base64!", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)),
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))} {
		_, err := stdwebhook.ParseSecret(text)
		assert.ErrorIs(t, err, stdwebhook.ErrSecret, text)
	}
}
