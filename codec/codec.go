package codec

import (
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of a sealed payload.
const (
	// EncodingEncrypted is the encoding of a sealed payload (metadata "encoding").
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that sealed a payload.
	MetadataKeyID = "encryption-key-id"
)

// Errors of Decode, matched with errors.Is.
var (
	// ErrUnknownKey: the payload was sealed with a key the keyring does not hold
	// (an old key removed too early, or another deployment's key).
	ErrUnknownKey = errors.New("payload sealed with a key this keyring does not hold")
	// ErrUndecryptable: the payload's ciphertext fails authentication (tampered,
	// truncated, or sealed by another key under the same ID).
	ErrUndecryptable = errors.New("payload fails authentication")
)

// Codec is a converter.PayloadCodec that seals payloads with AES-256-GCM.
type Codec struct {
	keys *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of keys.
func New(keys *Keyring) *Codec { return &Codec{keys: keys} }

// Encode seals every payload with the newest key, under a fresh random nonce.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.keys.keys[0]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil {
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(k.id),
			},
			Data: k.aead.Seal(nonce, nonce, plain, []byte(k.id)),
		}
	}
	return out, nil
}

// Decode opens every sealed payload and passes any other through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !IsEncrypted(p) {
			out[i] = p
			continue
		}
		opened, err := c.open(p)
		if err != nil {
			return nil, err
		}
		out[i] = opened
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	k := c.keys.byID[id]
	if k == nil {
		return nil, fmt.Errorf("codec: %w (key ID %q)", ErrUnknownKey, id)
	}
	data := p.GetData()
	if len(data) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, fmt.Errorf("codec: %w (key ID %q): too short", ErrUndecryptable, id)
	}
	nonce, sealed := data[:k.aead.NonceSize()], data[k.aead.NonceSize():]
	plain, err := k.aead.Open(nil, nonce, sealed, []byte(id))
	if err != nil {
		return nil, fmt.Errorf("codec: %w (key ID %q)", ErrUndecryptable, id)
	}
	var inner commonpb.Payload
	if err := proto.Unmarshal(plain, &inner); err != nil {
		return nil, fmt.Errorf("codec: %w (key ID %q): not a payload", ErrUndecryptable, id)
	}
	return &inner, nil
}

// IsEncrypted reports whether p was sealed by this codec (by its encoding).
func IsEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}

// DataConverter is the SDK's default data converter with every payload sealed by
// the codec of keys.
func DataConverter(keys *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(keys))
}

// FailureConverter converts failures with the codec's data converter and moves
// their message and stack trace into an encrypted payload (the history then shows
// "Encoded failure" instead of, say, an error that quotes a customer's address).
func FailureConverter(keys *Keyring) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(keys), EncodeCommonAttributes: true,
	})
}

// ConfigureClient sets the codec's data and failure converters on opts, for every
// Temporal client and worker of Tierflow. A nil keyring leaves opts unchanged: the
// client then stores plaintext (development only; production refuses it).
func ConfigureClient(opts *client.Options, keys *Keyring) {
	if keys == nil {
		return
	}
	opts.DataConverter = DataConverter(keys)
	opts.FailureConverter = FailureConverter(keys)
}
