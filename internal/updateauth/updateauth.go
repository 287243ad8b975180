package updateauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// HeaderKey names the Update header that carries the signature.
const HeaderKey = "tierflow-update-auth"

// Version is the version of the canonical message and of the header.
const Version = "v1"

// keyLabel separates the update key from the survey key it is derived from.
const keyLabel = "tierflow/update-auth/" + Version

// Freshness of a signature, by the worker's clock.
const (
	// MaxAge is how old a signature may be: the API's Update waits far less.
	MaxAge = 10 * time.Minute
	// MaxSkew is how far in the future a signature may be (clock skew between the
	// API and the worker).
	MaxSkew = time.Minute
)

// Why Verify refuses an Update, matched with errors.Is.
var (
	ErrMissing   = errors.New("no " + HeaderKey + " header")
	ErrMalformed = errors.New("the " + HeaderKey + " header is malformed")
	ErrSignature = errors.New("the signature does not match (wrong key, or the update was altered)")
	ErrStale     = errors.New("the signature is too old")
	ErrFuture    = errors.New("the signature is dated in the future")
)

// Message is what a signature covers: one Update to one workflow.
type Message struct {
	UpdateName string
	UpdateID   string
	WorkflowID string
	// Args are the Update's arguments as Go values.
	Args []any
}

// header is the JSON payload under HeaderKey.
type header struct {
	Version  string `json:"v"`
	IssuedAt int64  `json:"iat"` // Unix milliseconds
	MAC      string `json:"mac"` // base64url, no padding
}

// DeriveKey is the update key of a survey signing key.
func DeriveKey(surveyKey []byte) []byte {
	m := hmac.New(sha256.New, surveyKey)
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// deriveKeys derives the update key of every survey key, refusing an empty list
// or an empty key (which would make signatures forgeable).
func deriveKeys(surveyKeys [][]byte) ([][]byte, error) {
	if len(surveyKeys) == 0 {
		return nil, errors.New("updateauth: no survey key to derive the update key from")
	}
	keys := make([][]byte, len(surveyKeys))
	for i, k := range surveyKeys {
		if len(k) == 0 {
			return nil, fmt.Errorf("updateauth: survey key %d of %d is empty", i+1, len(surveyKeys))
		}
		keys[i] = DeriveKey(k)
	}
	return keys, nil
}

// Signer signs Updates with the update key of the first survey key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner signs with the first of surveyKeys (the newest).
func NewSigner(surveyKeys [][]byte) (*Signer, error) {
	keys, err := deriveKeys(surveyKeys)
	if err != nil {
		return nil, err
	}
	return &Signer{key: keys[0], now: time.Now}, nil
}

// Sign returns the header payload that proves m.
func (s *Signer) Sign(m Message) (*commonpb.Payload, error) {
	iat := s.now().UnixMilli()
	msg, err := canonical(m, iat)
	if err != nil {
		return nil, err
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(header{
		Version: Version, IssuedAt: iat, MAC: base64.RawURLEncoding.EncodeToString(mac(s.key, msg))})
	if err != nil {
		return nil, fmt.Errorf("updateauth: encode the header: %w", err)
	}
	return p, nil
}

// Verifier checks Update signatures against the update key of every survey key.
type Verifier struct {
	keys [][]byte
	now  func() time.Time
}

// NewVerifier accepts a signature by any of surveyKeys (rotation).
func NewVerifier(surveyKeys [][]byte) (*Verifier, error) {
	keys, err := deriveKeys(surveyKeys)
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys, now: time.Now}, nil
}

// Verify checks that p, the header under HeaderKey (nil when absent), signs m
// and is fresh. The error wraps one of ErrMissing, ErrMalformed, ErrSignature,
// ErrStale, ErrFuture.
func (v *Verifier) Verify(m Message, p *commonpb.Payload) error {
	if p == nil {
		return ErrMissing
	}
	var h header
	if err := converter.GetDefaultDataConverter().FromPayload(p, &h); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if h.Version != Version {
		return fmt.Errorf("%w: version %q, this worker knows %q", ErrMalformed, h.Version, Version)
	}
	got, err := base64.RawURLEncoding.DecodeString(h.MAC)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: the mac is not %d bytes of base64url", ErrMalformed, sha256.Size)
	}
	msg, err := canonical(m, h.IssuedAt)
	if err != nil {
		return err
	}
	valid := false
	for _, k := range v.keys {
		// Every key is tried, so the time taken does not tell which one matched.
		valid = hmac.Equal(mac(k, msg), got) || valid
	}
	if !valid {
		return ErrSignature
	}
	// Freshness is checked after the MAC, so an unsigned time is never reported.
	age := v.now().Sub(time.UnixMilli(h.IssuedAt))
	switch {
	case age > MaxAge:
		return fmt.Errorf("%w: issued %s ago, the limit is %s", ErrStale, age.Round(time.Second), MaxAge)
	case age < -MaxSkew:
		return fmt.Errorf("%w: issued %s ahead of this worker's clock, the limit is %s", ErrFuture,
			(-age).Round(time.Second), MaxSkew)
	}
	return nil
}

// canonical is the v1 message of m issued at iat (Unix milliseconds): six
// length-prefixed fields, see the package documentation.
func canonical(m Message, iat int64) ([]byte, error) {
	args := m.Args
	if args == nil {
		args = []any{}
	}
	argsJSON, err := canonicalJSON(args)
	if err != nil {
		return nil, fmt.Errorf("updateauth: marshal the arguments of update %q: %w", m.UpdateName, err)
	}
	var b []byte
	for _, field := range [][]byte{[]byte(Version), []byte(m.UpdateName), []byte(m.UpdateID),
		[]byte(m.WorkflowID), []byte(strconv.FormatInt(iat, 10)), argsJSON} {
		b = strconv.AppendInt(b, int64(len(field)), 10)
		b = append(b, ':')
		b = append(b, field...)
		b = append(b, '\n')
	}
	return b, nil
}

// canonicalJSON is the JSON of v (encoding/json), decoded as generic JSON values
// (numbers kept as written) and encoded again: object keys sorted, and the same
// text for strings that encoding/json writes differently before and after a round
// trip (invalid UTF-8, which it writes as an escaped U+FFFD and reads as U+FFFD).
func canonicalJSON(v any) ([]byte, error) {
	first, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
