// Package stdwebhook signs and verifies webhooks under the Standard Webhooks
// specification (https://www.standardwebhooks.com), symmetric "v1" scheme:
//
//	webhook-id:        the message's ID, the same on every retry of it
//	webhook-timestamp: unix seconds of this attempt
//	webhook-signature: "v1,<base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body))>",
//	                   several space-separated while a secret rotates
//
// Secrets are written "whsec_<base64 of the key bytes>"; the key bytes (not the
// text) are the HMAC key. Outbound deliveries sign with Sign or SignAll; inbound
// connectors and receivers check with Verify, which compares in constant time and
// refuses a timestamp outside the tolerance in either direction (replays and
// clocks far ahead).
package stdwebhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a Standard Webhooks message (http.Header canonicalises them).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret's written form.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a message's timestamp may be from the receiver's
// clock, either way, when the caller gives no tolerance: the specification's
// recommended five minutes.
const DefaultTolerance = 5 * time.Minute

// Key sizes the specification recommends: at least 24 bytes, at most 64.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// Errors of ParseSecret and Verify; match them with errors.Is.
var (
	ErrSecret              = errors.New("stdwebhook: the secret is not whsec_ followed by the base64 of 24 to 64 bytes")
	ErrMissingHeaders      = errors.New("stdwebhook: the webhook-id, webhook-timestamp or webhook-signature header is missing")
	ErrInvalidTimestamp    = errors.New("stdwebhook: the webhook-timestamp header is not unix seconds")
	ErrTimestampTooOld     = errors.New("stdwebhook: the message timestamp is older than the tolerance")
	ErrTimestampTooNew     = errors.New("stdwebhook: the message timestamp is further in the future than the tolerance")
	ErrNoMatchingSignature = errors.New("stdwebhook: no v1 signature of the message matches a secret")
)

// Secret is the key bytes of a webhook secret.
type Secret []byte

// ParseSecret reads a secret's written form, "whsec_<base64>" (the prefix may be
// left out, as the reference libraries allow). The key must be 24 to 64 bytes.
func ParseSecret(text string) (Secret, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(text), SecretPrefix))
	if err != nil || len(raw) < MinSecretBytes || len(raw) > MaxSecretBytes {
		return nil, ErrSecret
	}
	return Secret(raw), nil
}

// String is the secret's written form, "whsec_<base64>".
func (s Secret) String() string { return SecretPrefix + base64.StdEncoding.EncodeToString(s) }

// NewSecret returns a fresh random 32-byte secret.
func NewSecret() (Secret, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate a webhook secret: %w", err)
	}
	return Secret(raw), nil
}

// Sign returns the v1 signature of a message, "v1,<base64 HMAC-SHA256>", for the
// webhook-signature header.
func Sign(secret Secret, msgID string, timestamp time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(secret, msgID, strconv.FormatInt(timestamp.Unix(), 10), body))
}

// SignAll returns the webhook-signature header of a message signed with every
// secret, space-separated: during a rotation the old and the new secret both
// sign, so a receiver holding either verifies.
func SignAll(secrets []Secret, msgID string, timestamp time.Time, body []byte) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sigs = append(sigs, Sign(s, msgID, timestamp, body))
	}
	return strings.Join(sigs, " ")
}

// Headers returns the three headers of a message signed with secrets (SignAll).
func Headers(secrets []Secret, msgID string, timestamp time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(timestamp.Unix(), 10))
	h.Set(HeaderSignature, SignAll(secrets, msgID, timestamp, body))
	return h
}

// Verify checks a received message: the three headers are present, the
// timestamp is within tolerance of now (DefaultTolerance when tolerance is zero
// or negative), and one of the header's v1 signatures is the HMAC of the message
// under one of secrets. Signatures of other versions are ignored. Every
// comparison is constant-time. The error is one of this package's Err values.
func Verify(secrets []Secret, headers http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	msgID, stamp, sigHeader := headers.Get(HeaderID), headers.Get(HeaderTimestamp), headers.Get(HeaderSignature)
	if msgID == "" || stamp == "" || sigHeader == "" {
		return ErrMissingHeaders
	}
	if err := checkTimestamp(stamp, tolerance, now); err != nil {
		return err
	}
	expected := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		expected = append(expected, mac(s, msgID, stamp, body))
	}
	matched := false
	for _, sig := range strings.Fields(sigHeader) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		for _, want := range expected {
			if hmac.Equal(got, want) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrNoMatchingSignature
	}
	return nil
}

// checkTimestamp parses unix seconds and applies the tolerance both ways.
func checkTimestamp(stamp string, tolerance time.Duration, now time.Time) error {
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	at := time.Unix(secs, 0)
	switch {
	case now.Sub(at) > tolerance:
		return ErrTimestampTooOld
	case at.Sub(now) > tolerance:
		return ErrTimestampTooNew
	}
	return nil
}

// mac is HMAC-SHA256(secret, id "." timestamp "." body), stamp written as sent.
func mac(secret Secret, msgID, stamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(stamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
