package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/tierflow/tierflow/internal/secrets"
)

// customer is the kind of value the history must never show in clear.
type customer struct {
	Name, Email, Description string
}

var ada = customer{Name: "Ada Lovelace", Email: "ada@example.com", Description: "Paid twice for order 7731."}

func newKey(t *testing.T) string {
	t.Helper()
	key, err := secrets.RandomKey(KeySize)
	require.NoError(t, err)
	return key
}

func keyring(t *testing.T, spec string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(spec)
	require.NoError(t, err)
	return k
}

func toPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

// rawBytes is everything a payload stores: what a history scan would see.
func rawBytes(t *testing.T, p *commonpb.Payload) []byte {
	t.Helper()
	b, err := proto.Marshal(p)
	require.NoError(t, err)
	return b
}

func TestRoundTripSealsEveryPayload(t *testing.T) {
	c := New(keyring(t, "k1:"+newKey(t)))
	in := []*commonpb.Payload{toPayload(t, ada), toPayload(t, "ada@example.com"), nil}

	sealed, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, sealed, 3)
	for _, p := range sealed[:2] {
		assert.Equal(t, EncodingEncrypted, string(p.GetMetadata()["encoding"]))
		assert.Equal(t, "k1", string(p.GetMetadata()[MetadataKeyID]))
		assert.False(t, bytes.Contains(rawBytes(t, p), []byte("ada@example.com")), "the email is not in clear")
		assert.False(t, bytes.Contains(rawBytes(t, p), []byte("json/plain")), "nor is the inner encoding")
	}
	assert.Nil(t, sealed[2], "a nil payload stays nil")

	opened, err := c.Decode(sealed)
	require.NoError(t, err)
	for i := range in[:2] {
		assert.True(t, proto.Equal(in[i], opened[i]), "payload %d comes back unchanged", i)
	}
	var back customer
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[0], &back))
	assert.Equal(t, ada, back)
}

func TestEachEncodingUsesAFreshNonce(t *testing.T) {
	c := New(keyring(t, "k1:"+newKey(t)))
	p := toPayload(t, ada)
	a, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	b, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	assert.NotEqual(t, a[0].GetData(), b[0].GetData(), "the same value sealed twice differs")
	assert.NotEqual(t, a[0].GetData()[:12], b[0].GetData()[:12], "the nonces differ")
}

func TestDataConverterEncryptsAndDecrypts(t *testing.T) {
	dc := DataConverter(keyring(t, "k1:"+newKey(t)))
	p, err := dc.ToPayload(ada)
	require.NoError(t, err)
	assert.True(t, IsEncrypted(p))
	assert.False(t, bytes.Contains(rawBytes(t, p), []byte("Ada Lovelace")))
	var back customer
	require.NoError(t, dc.FromPayload(p, &back))
	assert.Equal(t, ada, back)
}

// Rotation: the new key goes first and encrypts; payloads sealed with the old key
// still open as long as the old key stays in the list.
func TestRotationOldKeyStillDecryptsNewestEncrypts(t *testing.T) {
	oldKey, newKey := newKey(t), newKey(t)
	before := New(keyring(t, "2026-01:"+oldKey))
	sealedBefore, err := before.Encode([]*commonpb.Payload{toPayload(t, ada)})
	require.NoError(t, err)

	after := New(keyring(t, "2026-07:"+newKey+", 2026-01:"+oldKey))
	opened, err := after.Decode(sealedBefore)
	require.NoError(t, err, "the old key still decrypts")
	var back customer
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[0], &back))
	assert.Equal(t, ada, back)

	sealedAfter, err := after.Encode([]*commonpb.Payload{toPayload(t, ada)})
	require.NoError(t, err)
	assert.Equal(t, "2026-07", string(sealedAfter[0].GetMetadata()[MetadataKeyID]), "the newest key encrypts")
	assert.Equal(t, "2026-07", after.keys.EncryptingKeyID())
	assert.Equal(t, []string{"2026-07", "2026-01"}, after.keys.KeyIDs())

	_, err = before.Decode(sealedAfter)
	assert.ErrorIs(t, err, ErrUnknownKey, "a keyring without the new key cannot open it")
}

func TestUnknownKeyIDIsAnError(t *testing.T) {
	sealed, err := New(keyring(t, "a:"+newKey(t))).Encode([]*commonpb.Payload{toPayload(t, ada)})
	require.NoError(t, err)
	_, err = New(keyring(t, "b:"+newKey(t))).Decode(sealed)
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.Contains(t, err.Error(), `"a"`, "the error names the missing key")

	// The same ID with different key material fails authentication.
	_, err = New(keyring(t, "a:"+newKey(t))).Decode(sealed)
	assert.ErrorIs(t, err, ErrUndecryptable)
}

func TestTamperedPayloadFailsAuthentication(t *testing.T) {
	keys := keyring(t, "k1:"+newKey(t)+",k0:"+newKey(t))
	c := New(keys)
	seal := func() *commonpb.Payload {
		sealed, err := c.Encode([]*commonpb.Payload{toPayload(t, ada)})
		require.NoError(t, err)
		return sealed[0]
	}
	flipped := seal()
	flipped.Data[len(flipped.Data)-20] ^= 0x01
	truncated := seal()
	truncated.Data = truncated.Data[:10]
	relabelled := seal() // claims the other key: the key ID is authenticated
	relabelled.Metadata[MetadataKeyID] = []byte("k0")

	for name, p := range map[string]*commonpb.Payload{"flipped bit": flipped, "truncated": truncated, "relabelled": relabelled} {
		_, err := c.Decode([]*commonpb.Payload{p})
		assert.ErrorIs(t, err, ErrUndecryptable, name)
	}
}

// Histories written before encryption (cases in flight, the replay fixtures) hold
// plaintext payloads: Decode passes them through.
func TestPlaintextPassesThrough(t *testing.T) {
	c := New(keyring(t, "k1:"+newKey(t)))
	plain := []*commonpb.Payload{toPayload(t, ada), toPayload(t, nil), toPayload(t, []byte{1, 2}), {}}
	out, err := c.Decode(plain)
	require.NoError(t, err)
	for i := range plain {
		assert.Same(t, plain[i], out[i])
	}
	var back customer
	require.NoError(t, DataConverter(keyring(t, "k1:"+newKey(t))).FromPayload(plain[0], &back))
	assert.Equal(t, ada, back)
}

func TestFailureConverterEncryptsMessageAndStack(t *testing.T) {
	keys := keyring(t, "k1:"+newKey(t))
	fc := FailureConverter(keys)
	cause := errors.New("mail to ada@example.com bounced")
	appErr := temporal.NewApplicationErrorWithCause("cannot reach Ada Lovelace", "tierflow.mail", cause, ada)

	f := fc.ErrorToFailure(appErr)
	raw, err := proto.Marshal(f)
	require.NoError(t, err)
	for _, secret := range []string{"ada@example.com", "Ada Lovelace", "order 7731"} {
		assert.False(t, bytes.Contains(raw, []byte(secret)), "the failure holds %q in clear", secret)
	}
	assert.Equal(t, "Encoded failure", f.GetMessage())
	assert.True(t, IsEncrypted(f.GetEncodedAttributes()))
	assert.Equal(t, "tierflow.mail", f.GetApplicationFailureInfo().GetType(), "the type stays readable (errors are matched by it)")

	back := fc.FailureToError(f)
	var decoded *temporal.ApplicationError
	require.ErrorAs(t, back, &decoded)
	assert.Equal(t, "cannot reach Ada Lovelace", decoded.Message())
	var details customer
	require.NoError(t, decoded.Details(&details))
	assert.Equal(t, ada, details)
	assert.Contains(t, back.Error(), "ada@example.com", "the cause comes back too")
}

func TestParseKeyringRejectsBadKeys(t *testing.T) {
	good := newKey(t)
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for spec, want := range map[string]string{
		"":                                   "no keys",
		" , ":                                "no keys",
		good:                                 "not of the form id:base64key",
		"k1:" + short:                        "16 bytes; AES-256 needs exactly 32",
		"k1:not base64!":                     "not base64",
		"k1:" + good + ",k1:" + newKey(t):    `"k1" appears twice`,
		"bad id:" + good:                     "key ID must be 1 to 32 characters",
		strings.Repeat("x", 33) + ":" + good: "key ID must be 1 to 32 characters",
	} {
		_, err := ParseKeyring(spec)
		if assert.Error(t, err, spec) {
			assert.Contains(t, err.Error(), want, spec)
			assert.Contains(t, err.Error(), EnvKeys, "the error names the setting")
			assert.NotContains(t, err.Error(), good, "the error never shows a key")
		}
	}
	k, err := ParseKeyring(" a.b_c-1 : " + good + " ,2:" + strings.TrimRight(newKey(t), "=") + ",")
	require.NoError(t, err, "spaces, a trailing comma and unpadded base64 are fine")
	assert.Equal(t, []string{"a.b_c-1", "2"}, k.KeyIDs())
}

func TestLoadKeyringUnsetIsNil(t *testing.T) {
	k, err := LoadKeyring(func(string) string { return "" })
	assert.NoError(t, err)
	assert.Nil(t, k)
	k, err = LoadKeyring(func(name string) string { return map[string]string{EnvKeys: "x:" + newKey(t)}[name] })
	require.NoError(t, err)
	assert.Equal(t, "x", k.EncryptingKeyID())
}

func TestDerivedKeysDifferFromTheCodecKeysAndRotate(t *testing.T) {
	raw := newKey(t)
	one := keyring(t, "k1:"+raw)
	two := keyring(t, "k2:"+newKey(t)+",k1:"+raw)
	d1, d2 := one.DeriveKeys("session"), two.DeriveKeys("session")
	require.Len(t, d1, 1)
	require.Len(t, d2, 2)
	assert.Equal(t, d1[0], d2[1], "a key derives the same whatever its place")
	assert.NotEqual(t, d2[0], d2[1])
	assert.NotEqual(t, one.keys[0].raw, d1[0], "never the codec key itself")
	assert.NotEqual(t, d1[0], one.DeriveKeys("other")[0], "each purpose its own key")
}
