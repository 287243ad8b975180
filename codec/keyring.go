package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// EnvKeys is the environment variable that holds the keyring.
const EnvKeys = "TIERFLOW_CODEC_KEYS"

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// validKeyID is the form of a key ID: it travels in every payload's metadata.
var validKeyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)

// key is one AES-256-GCM key.
type key struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

// Keyring holds the codec's keys, newest first: the newest encrypts, all decrypt.
type Keyring struct {
	keys []*key
	byID map[string]*key
}

// ParseKeyring reads a keyring in the TIERFLOW_CODEC_KEYS form, a comma-separated
// list of `id:base64key` entries, newest first. Each ID is 1 to 32 characters of
// [A-Za-z0-9._-] and appears once; each key is exactly 32 bytes (standard or
// URL-safe base64, padded or not: `openssl rand -base64 32`). Every problem is
// reported at once; the error never holds key material.
func ParseKeyring(spec string) (*Keyring, error) {
	k := &Keyring{byID: map[string]*key{}}
	var problems []error
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, encoded, found := strings.Cut(entry, ":")
		id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
		switch {
		case !found:
			problems = append(problems, fmt.Errorf("entry %d is not of the form id:base64key", i+1))
			continue
		case !validKeyID.MatchString(id):
			problems = append(problems, fmt.Errorf("entry %d: the key ID must be 1 to 32 characters of A-Z a-z 0-9 . _ -", i+1))
			continue
		case k.byID[id] != nil:
			problems = append(problems, fmt.Errorf("key %q appears twice", id))
			continue
		}
		raw, ok := decodeBase64(encoded)
		if !ok {
			problems = append(problems, fmt.Errorf("key %q is not base64 (generate one with: openssl rand -base64 32)", id))
			continue
		}
		if len(raw) != KeySize {
			problems = append(problems, fmt.Errorf("key %q is %d bytes; AES-256 needs exactly %d (openssl rand -base64 32)", id, len(raw), KeySize))
			continue
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			problems = append(problems, fmt.Errorf("key %q: %w", id, err))
			continue
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			problems = append(problems, fmt.Errorf("key %q: %w", id, err))
			continue
		}
		kk := &key{id: id, raw: raw, aead: aead}
		k.keys = append(k.keys, kk)
		k.byID[id] = kk
	}
	if len(k.keys) == 0 && len(problems) == 0 {
		problems = append(problems, errors.New("no keys (expected id:base64key[,id:base64key...], newest first)"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvKeys, err)
	}
	return k, nil
}

// LoadKeyring reads EnvKeys through getenv: nil without error when it is unset
// (the caller decides whether running unencrypted is allowed).
func LoadKeyring(getenv func(string) string) (*Keyring, error) {
	spec := strings.TrimSpace(getenv(EnvKeys))
	if spec == "" {
		return nil, nil
	}
	return ParseKeyring(spec)
}

func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// EncryptingKeyID is the ID of the key new payloads are sealed with.
func (k *Keyring) EncryptingKeyID() string { return k.keys[0].id }

// KeyIDs lists the IDs of every key, newest first.
func (k *Keyring) KeyIDs() []string {
	ids := make([]string, len(k.keys))
	for i, kk := range k.keys {
		ids[i] = kk.id
	}
	return ids
}

// DeriveKeys derives one 32-byte key per codec key, newest first, for purpose
// (HKDF-SHA256, the purpose as info), so that another use of the same secrets
// (the API signs codec sessions with them) never uses a codec key itself. A
// derived key rotates with the codec key it comes from.
func (k *Keyring) DeriveKeys(purpose string) [][]byte {
	out := make([][]byte, 0, len(k.keys))
	for _, kk := range k.keys {
		d, err := hkdf.Key(sha256.New, kk.raw, nil, "tierflow codec: "+purpose, KeySize)
		if err != nil {
			panic("codec: hkdf: " + err.Error()) // only for lengths sha256 cannot produce
		}
		out = append(out, d)
	}
	return out
}
