package codec

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// codecServer serves the handler as the API mounts it, with a stand-in authorizer
// (the API's own is tested in api/security_codec_test.go).
func codecServer(t *testing.T, keys *Keyring) *httptest.Server {
	t.Helper()
	errDenied := errors.New("denied")
	h := &HTTPHandler{
		Codec: New(keys), AllowedOrigins: []string{"http://localhost:8233"},
		Authorize: func(_ http.ResponseWriter, r *http.Request) error {
			if r.Header.Get("Authorization") != "Bearer operator" {
				return errDenied
			}
			return nil
		},
		Fail: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, errDenied):
				status = http.StatusUnauthorized
			case errors.Is(err, ErrOriginNotAllowed):
				status = http.StatusForbidden
			case errors.Is(err, ErrNotJSON):
				status = http.StatusUnsupportedMediaType
			}
			http.Error(w, err.Error(), status)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /codec/encode", h.Encode)
	mux.HandleFunc("POST /codec/decode", h.Decode)
	mux.HandleFunc("OPTIONS /codec/decode", h.Preflight)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// The SDK's remote codec client is what `temporal --codec-endpoint --codec-auth`
// uses: it speaks to the handler, which seals and opens with the keyring.
func TestRemoteCodecClientInteroperates(t *testing.T) {
	keys := keyring(t, "k1:"+newKey(t))
	srv := codecServer(t, keys)
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer operator")
			r.Header.Set("X-Namespace", "default")
			return nil
		},
	})
	in := []*commonpb.Payload{toPayload(t, ada), toPayload(t, "x")}

	sealed, err := remote.Encode(in)
	require.NoError(t, err)
	require.Len(t, sealed, 2)
	assert.True(t, IsEncrypted(sealed[0]))
	local, err := New(keys).Decode(sealed)
	require.NoError(t, err, "what the endpoint sealed, the workers open")

	mine, err := New(keys).Encode(in)
	require.NoError(t, err)
	opened, err := remote.Decode(append(mine, toPayload(t, "plaintext passes")))
	require.NoError(t, err, "what the workers sealed, the endpoint opens")
	var back customer
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[0], &back))
	assert.Equal(t, ada, back)
	assert.Equal(t, local[1].GetData(), opened[1].GetData())
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[2], &s))
	assert.Equal(t, "plaintext passes", s)

	anonymous := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: srv.URL + "/codec"})
	_, err = anonymous.Decode(mine)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Unauthorized")
}

func TestHTTPHandlerCORS(t *testing.T) {
	srv := codecServer(t, keyring(t, "k1:"+newKey(t)))
	call := func(method, origin, auth, contentType string) *http.Response {
		req, err := http.NewRequest(method, srv.URL+"/codec/decode", strings.NewReader(`{"payloads": []}`))
		require.NoError(t, err)
		for k, v := range map[string]string{"Origin": origin, "Authorization": auth, "Content-Type": contentType} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := call("OPTIONS", "http://localhost:8233", "", "")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "http://localhost:8233", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	assert.Contains(t, resp.Header.Values("Vary"), "Origin")

	assert.Equal(t, http.StatusForbidden, call("OPTIONS", "http://localhost:9999", "", "").StatusCode, "another port is another origin")
	assert.Equal(t, http.StatusForbidden, call("POST", "https://evil.example", "Bearer operator", "application/json").StatusCode)
	assert.Equal(t, http.StatusOK, call("POST", "http://localhost:8233", "Bearer operator", "application/json").StatusCode)
	assert.Equal(t, http.StatusOK, call("POST", "", "Bearer operator", "application/json; charset=utf-8").StatusCode, "the CLI sends no Origin")
	assert.Equal(t, http.StatusUnsupportedMediaType, call("POST", "", "Bearer operator", "text/plain").StatusCode,
		"a cross-site form's content type is refused")
	assert.Equal(t, http.StatusUnauthorized, call("POST", "http://localhost:8233", "", "application/json").StatusCode)
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" https://Temporal.example.com , http://localhost:8233/ ,")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://temporal.example.com", "http://localhost:8233"}, got)
	for _, bad := range []string{"*", "https://*.example.com", "temporal.example.com", "ftp://x", "https://x/path", "https://u@x"} {
		_, err := ParseOrigins(bad)
		assert.Error(t, err, bad)
	}
	none, err := ParseOrigins("")
	assert.NoError(t, err)
	assert.Empty(t, none)
}
