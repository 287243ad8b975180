package postgres

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tierflow/tierflow/codec"
)

// webhookSecretPurpose derives the key that seals webhook secrets from each codec
// key (codec.Keyring.DeriveKeys): a codec key itself is never used twice, and the
// sealing key rotates with the codec key it comes from.
const webhookSecretPurpose = "webhook secrets"

// secretSealer seals webhook secrets at rest with AES-256-GCM. The key ID is
// stored next to the sealed bytes, so that a secret sealed under an older codec
// key still opens while that key is in the keyring. Without a keyring (development
// without TIERFLOW_CODEC_KEYS, which production refuses) secrets are kept as they
// are, under the empty key ID.
type secretSealer struct {
	newest string
	keys   map[string]cipher.AEAD
}

func newSecretSealer(k *codec.Keyring) (*secretSealer, error) {
	s := &secretSealer{keys: map[string]cipher.AEAD{}}
	if k == nil {
		return s, nil
	}
	ids, derived := k.KeyIDs(), k.DeriveKeys(webhookSecretPurpose)
	for i, id := range ids {
		block, err := aes.NewCipher(derived[i])
		if err != nil {
			return nil, fmt.Errorf("webhook secret key %s: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("webhook secret key %s: %w", id, err)
		}
		s.keys[id] = aead
	}
	s.newest = ids[0]
	return s, nil
}

// seal returns the key ID and the sealed secret (nonce first). The subscription ID
// is the additional data: a sealed secret copied to another row does not open.
func (s *secretSealer) seal(subscriptionID, secret string) (string, []byte, error) {
	if s.newest == "" {
		return "", []byte(secret), nil
	}
	aead := s.keys[s.newest]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	return s.newest, aead.Seal(nonce, nonce, []byte(secret), []byte(subscriptionID)), nil
}

// errUnknownSecretKey: the secret was sealed with a key no longer in the keyring.
var errUnknownSecretKey = errors.New("the webhook secret was sealed with a codec key that is not configured")

// open returns the secret sealed by seal.
func (s *secretSealer) open(subscriptionID, keyID string, sealed []byte) (string, error) {
	if keyID == "" {
		return string(sealed), nil
	}
	aead, ok := s.keys[keyID]
	if !ok {
		return "", fmt.Errorf("%w (key %q)", errUnknownSecretKey, keyID)
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("open webhook secret: too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(subscriptionID))
	if err != nil {
		return "", fmt.Errorf("open webhook secret: %w", err)
	}
	return string(plain), nil
}
