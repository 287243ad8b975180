// Package webhooksig is an interim copy of internal/stdwebhook's contract (branch
// connectors: Standard Webhooks signing and whsec_ secrets), so that the webhooks
// branch builds before that package lands. DELETE AT MERGE: replace its imports
// with internal/stdwebhook (same function names and behaviour) and
// client.VerifyWebhook.
package webhooksig

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// secretPrefix marks a Standard Webhooks secret; the rest is base64 of the key.
const secretPrefix = "whsec_"

// secretBytes is the size of a new secret's key (the spec asks 24 to 64).
const secretBytes = 32

// NewSecret returns a fresh random secret, "whsec_<base64>".
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret returns the key bytes of a "whsec_<base64>" secret.
func ParseSecret(secret string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("a webhook secret starts with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(key) < 16 {
		return nil, errors.New("a webhook secret is whsec_ and the base64 of at least 16 bytes")
	}
	return key, nil
}

// Sign returns the "v1,<base64>" signature of body sent as msgID at ts.
func Sign(secret []byte, msgID string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("webhook-id, webhook-timestamp or webhook-signature is missing")
	ErrStale          = errors.New("the webhook timestamp is outside the tolerance")
	ErrNoMatch        = errors.New("no webhook signature matches")
)

// Verify checks the Standard Webhooks headers of a delivery against secret: one of
// the space-separated v1 signatures must match and the timestamp must be within
// tolerance of now.
func Verify(secret []byte, id, timestamp, signatures string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || signatures == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := Sign(secret, id, ts, body)
	for _, sig := range strings.Fields(signatures) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return ErrNoMatch
}
