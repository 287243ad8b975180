package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
)

// The codec endpoint hands out customer data in clear: each test is an attack on it
// that must fail (and would succeed against an unauthenticated codec server such as
// the SDK's converter.NewPayloadCodecHTTPHandler).

const (
	codecUI       = "http://localhost:8233"
	tokCodecSup   = "codec-test-supervisor"
	tokCodecExec  = "codec-test-executive"
	tokCodecAgent = "codec-test-agent"
	tokCodecView  = "codec-test-viewer"
	tokCodecCRM   = "codec-test-integration"
)

func codecTestKeys(t *testing.T) *codec.Keyring {
	t.Helper()
	key, err := secrets.RandomKey(codec.KeySize)
	require.NoError(t, err)
	keys, err := codec.ParseKeyring("test-1:" + key)
	require.NoError(t, err)
	return keys
}

// newCodecEnv is the API with the codec endpoint and its own operators.
func newCodecEnv(t *testing.T) (*testEnv, *codec.Keyring) {
	t.Helper()
	env := newTestEnv(t)
	entry := func(token, id string, role tierflow.Role) TokenEntry {
		return TokenEntry{TokenSHA256: HashToken(token), ID: id, Name: id, Role: role}
	}
	env.srv.Auth = NewAuthenticator([]TokenEntry{
		entry(tokCodecSup, "sup-7", tierflow.RoleSupervisor), entry(tokCodecExec, "exec-7", tierflow.RoleExecutive),
		entry(tokCodecAgent, "agent-7", tierflow.RoleAgent), entry(tokCodecView, "viewer-7", tierflow.RoleViewer),
		entry(tokCodecCRM, "crm-7", tierflow.RoleIntegration),
	})
	keys := codecTestKeys(t)
	env.srv.Codec = NewCodecEndpoint(keys, []string{codecUI})
	env.handler = env.srv.routes()
	return env, keys
}

// sealedBody is a codec request body holding the customer's email, sealed.
func sealedBody(t *testing.T, keys *codec.Keyring) string {
	t.Helper()
	p, err := codec.DataConverter(keys).ToPayload(map[string]string{"email": "ada@example.com"})
	require.NoError(t, err)
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	return string(b)
}

func payloadsOf(t *testing.T, rec *httptest.ResponseRecorder) []*commonpb.Payload {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(rec.Body.Bytes(), &out))
	return out.GetPayloads()
}

func TestSecurityCodecRefusesCallersWithoutAnOperatorToken(t *testing.T) {
	env, keys := newCodecEnv(t)
	body := sealedBody(t, keys)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "guessed-token", http.StatusUnauthorized},
		{"viewer", tokCodecView, http.StatusForbidden},
		{"agent", tokCodecAgent, http.StatusForbidden},
		{"integration", tokCodecCRM, http.StatusForbidden},
	} {
		for _, op := range []string{"decode", "encode"} {
			rec := env.do(request{method: "POST", path: "/codec/" + op, token: tc.token, body: body})
			problemOf(t, rec, tc.status)
			assert.NotContains(t, rec.Body.String(), "ada@example.com", "%s %s", tc.name, op)
			if tc.status == http.StatusUnauthorized {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer", tc.name)
			}
		}
	}
	// A wrong bearer token is not rescued by a valid session cookie.
	cookie := codecLogin(t, env, tokCodecSup, "")
	problemOf(t, env.do(request{method: "POST", path: "/codec/decode", token: "guessed-token", body: body,
		header: map[string]string{"Cookie": cookie.String()}}), http.StatusUnauthorized)
}

func TestSecurityCodecOperatorsDecodeAndEncode(t *testing.T) {
	env, keys := newCodecEnv(t)
	for _, token := range []string{tokCodecSup, tokCodecExec} {
		rec := env.do(request{method: "POST", path: "/codec/decode", token: token, body: sealedBody(t, keys),
			header: map[string]string{"X-Namespace": "default"}})
		decoded := payloadsOf(t, rec)
		require.Len(t, decoded, 1)
		var v map[string]string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded[0], &v))
		assert.Equal(t, "ada@example.com", v["email"])

		// Encode (the UI's signal and Update inputs), then decode what it answered.
		plain, err := converter.GetDefaultDataConverter().ToPayload("note from the UI")
		require.NoError(t, err)
		b, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
		sealed := payloadsOf(t, env.do(request{method: "POST", path: "/codec/encode", token: token, body: string(b)}))
		require.Len(t, sealed, 1)
		assert.True(t, codec.IsEncrypted(sealed[0]))
		opened, err := codec.New(keys).Decode(sealed)
		require.NoError(t, err)
		var s string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[0], &s))
		assert.Equal(t, "note from the UI", s)
	}
}

// codecLogin signs in through the form and returns the session cookie.
func codecLogin(t *testing.T, env *testEnv, token, ret string) *http.Cookie {
	t.Helper()
	form := url.Values{"token": {token}, "return": {ret}}
	rec := env.do(request{method: "POST", path: "/codec/login", contentType: "application/x-www-form-urlencoded", body: form.Encode()})
	require.Contains(t, []int{http.StatusOK, http.StatusSeeOther}, rec.Code, rec.Body.String())
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	return cookies[0]
}

func TestSecurityCodecBrowserSession(t *testing.T) {
	env, keys := newCodecEnv(t)
	body := sealedBody(t, keys)
	form := request{method: "GET", path: "/codec/login"}
	rec := env.do(form)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `name="token"`)
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "form-action 'self' "+codecUI,
		"the form may redirect back to the UI, nowhere else")

	cookie := codecLogin(t, env, tokCodecSup, "")
	assert.Equal(t, codecSessionCookie, cookie.Name)
	assert.True(t, cookie.HttpOnly, "no script reads the session")
	assert.Equal(t, http.SameSiteStrictMode, cookie.SameSite, "no other site makes the browser send it")
	assert.Equal(t, "/codec", cookie.Path, "sent to the codec endpoint only")
	assert.Equal(t, int(codecSessionTTL.Seconds()), cookie.MaxAge)
	assert.NotContains(t, cookie.Value, tokCodecSup, "the cookie does not hold the token")

	// The UI's call: from its origin, with the cookie, no Authorization header.
	ui := map[string]string{"Origin": codecUI, "Cookie": cookie.String(), "X-Namespace": "default"}
	rec = env.do(request{method: "POST", path: "/codec/decode", body: body, header: ui})
	require.Len(t, payloadsOf(t, rec), 1)
	assert.Contains(t, rec.Body.String(), base64.StdEncoding.EncodeToString([]byte(`{"email":"ada@example.com"}`)))
	assert.Equal(t, codecUI, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))

	forged := *cookie
	forged.Value = strings.Replace(cookie.Value, "v1.", "v1.x", 1)
	for name, c := range map[string]string{
		"tampered":       forged.String(),
		"someone else's": (&http.Cookie{Name: codecSessionCookie, Value: otherSession(t, "sup-7")}).String(),
	} {
		rec := env.do(request{method: "POST", path: "/codec/decode", body: body, header: map[string]string{"Cookie": c}})
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "%s session", name)
	}

	// The session is short-lived.
	env.srv.Now = func() time.Time { return testNow.Add(codecSessionTTL + time.Second) }
	problemOf(t, env.do(request{method: "POST", path: "/codec/decode", body: body, header: ui}), http.StatusUnauthorized)
	env.srv.Now = func() time.Time { return testNow }

	// The cookie is no credential for the rest of the API.
	problemOf(t, env.do(request{method: "GET", path: "/v1/cases", header: map[string]string{"Cookie": cookie.String()}}),
		http.StatusUnauthorized)

	// A viewer cannot sign in; a bad token neither.
	for token, status := range map[string]int{tokCodecView: http.StatusForbidden, "guessed-token": http.StatusUnauthorized} {
		rec := env.do(request{method: "POST", path: "/codec/login", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"token": {token}}.Encode()})
		assert.Equal(t, status, rec.Code)
		assert.Empty(t, rec.Result().Cookies())
	}
	// Another site cannot post the form (login CSRF).
	rec = env.do(request{method: "POST", path: "/codec/login", contentType: "application/x-www-form-urlencoded",
		body: url.Values{"token": {tokCodecSup}}.Encode(), header: map[string]string{"Origin": "https://evil.example"}})
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Empty(t, rec.Result().Cookies())

	// Sign-out clears the cookie.
	rec = env.do(request{method: "POST", path: "/codec/logout"})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, rec.Result().Cookies(), 1)
	assert.Negative(t, rec.Result().Cookies()[0].MaxAge)
}

// otherSession is a session signed with another deployment's keys.
func otherSession(t *testing.T, subject string) string {
	other := NewCodecEndpoint(codecTestKeys(t), nil)
	return other.signSession(codecSession{Subject: subject, Role: tierflow.RoleSupervisor, Expires: testNow.Add(time.Hour).Unix()})
}

func TestSecurityCodecLoginReturnsOnlyToTheUI(t *testing.T) {
	env, _ := newCodecEnv(t)
	back := codecUI + "/namespaces/default/workflows/case-x"
	form := func(ret string) *httptest.ResponseRecorder {
		return env.do(request{method: "POST", path: "/codec/login", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"token": {tokCodecSup}, "return": {ret}}.Encode()})
	}
	rec := form(back)
	assert.Equal(t, http.StatusSeeOther, rec.Code)
	assert.Equal(t, back, rec.Header().Get("Location"))
	rec = form("https://evil.example/phish")
	assert.Equal(t, http.StatusOK, rec.Code, "no open redirect")
	assert.Empty(t, rec.Header().Get("Location"))
}

func TestSecurityCodecCORSOnlyForTheUI(t *testing.T) {
	env, keys := newCodecEnv(t)
	preflight := func(origin string) *httptest.ResponseRecorder {
		return env.do(request{method: "OPTIONS", path: "/codec/decode", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type,x-namespace",
		}})
	}
	rec := preflight(codecUI)
	require.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, codecUI, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "POST", rec.Header().Get("Access-Control-Allow-Methods"))
	for _, h := range []string{"Content-Type", "X-Namespace", "Authorization"} {
		assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), h)
	}

	rec = preflight("https://evil.example")
	problemOf(t, rec, http.StatusForbidden)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	// Even with an operator's token, a page of another origin gets nothing.
	rec = env.do(request{method: "POST", path: "/codec/decode", token: tokCodecSup, body: sealedBody(t, keys),
		header: map[string]string{"Origin": "https://evil.example"}})
	problemOf(t, rec, http.StatusForbidden)
	assert.NotContains(t, rec.Body.String(), "ada@example.com")
}

func TestSecurityCodecBadRequestsAreProblems(t *testing.T) {
	env, _ := newCodecEnv(t)
	sealedElsewhere := sealedBody(t, codecTestKeys(t))
	for _, tc := range []struct {
		name string
		req  request
		want int
	}{
		{"not JSON", request{method: "POST", path: "/codec/decode", token: tokCodecSup, body: "payloads"}, http.StatusBadRequest},
		{"wrong shape", request{method: "POST", path: "/codec/decode", token: tokCodecSup, body: `{"payloads": 3}`}, http.StatusBadRequest},
		{"a form", request{method: "POST", path: "/codec/decode", token: tokCodecSup, body: "a=b",
			contentType: "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"too large", request{method: "POST", path: "/codec/decode", token: tokCodecSup,
			body: `{"payloads": [{"data": "` + strings.Repeat("A", codec.DefaultMaxBodyBytes) + `"}]}`}, http.StatusRequestEntityTooLarge},
		{"another deployment's key", request{method: "POST", path: "/codec/decode", token: tokCodecSup, body: sealedElsewhere},
			http.StatusUnprocessableEntity},
		{"GET", request{method: "GET", path: "/codec/decode", token: tokCodecSup}, http.StatusMethodNotAllowed},
		{"unknown path", request{method: "POST", path: "/codec/decrypt", token: tokCodecSup, body: "{}"}, http.StatusNotFound},
	} {
		rec := env.do(tc.req)
		p := problemOf(t, rec, tc.want)
		assert.NotEmpty(t, p.Detail, tc.name)
	}
	// Without keys there is no codec endpoint at all.
	plain := newTestEnv(t)
	problemOf(t, plain.do(request{method: "POST", path: "/codec/decode", token: "dev-supervisor", body: "{}"}), http.StatusNotFound)
}

func TestLoadConfigCodecSettings(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, codec.KeySize))
	base := map[string]string{"DATABASE_URL": "postgres://localhost/tierflow", "TIERFLOW_SURVEY_KEY": "0123456789abcdef",
		"TIERFLOW_TOKENS": "[]"}
	load := func(change map[string]string) (config, error) {
		return loadConfig(func(k string) string {
			if v, ok := change[k]; ok {
				return v
			}
			return base[k]
		})
	}
	cfg, err := load(map[string]string{"TIERFLOW_CODEC_KEYS": "new:" + key + ",old:" + key,
		"TIERFLOW_CODEC_CORS_ORIGINS": "https://Temporal.example.com, http://localhost:8233/"})
	require.NoError(t, err)
	assert.Equal(t, []string{"new", "old"}, cfg.CodecKeys.KeyIDs())
	assert.Equal(t, []string{"https://temporal.example.com", "http://localhost:8233"}, cfg.CodecOrigins)

	cfg, err = load(nil)
	require.NoError(t, err)
	assert.Nil(t, cfg.CodecKeys, "no keys: plaintext (development; production refuses it)")

	for change, want := range map[string]string{
		"TIERFLOW_CODEC_KEYS=k:c2hvcnQ=":                     "5 bytes; AES-256 needs exactly 32",
		"TIERFLOW_CODEC_CORS_ORIGINS=*":                      "not an origin",
		"TIERFLOW_CODEC_CORS_ORIGINS=https://ui.example/app": "not an origin",
		"TIERFLOW_CODEC_CORS_ORIGINS=https://ui.example":     "TIERFLOW_CODEC_KEYS is not",
	} {
		name, value, _ := strings.Cut(change, "=")
		extra := map[string]string{name: value}
		if name == "TIERFLOW_CODEC_CORS_ORIGINS" && want != "TIERFLOW_CODEC_KEYS is not" {
			extra["TIERFLOW_CODEC_KEYS"] = "k:" + key
		}
		_, err := load(extra)
		if assert.Error(t, err, change) {
			assert.Contains(t, err.Error(), want, change)
		}
	}
}

// Guessing operator tokens at the codec endpoint or its sign-in form spends the same
// per-address failure bucket as the rest of the API: after the burst, the address
// gets 429 even with a valid token, and another address is not affected.
func TestSecurityCodecTokenGuessingIsRateLimited(t *testing.T) {
	env, keys := newCodecEnv(t)
	g := guard(env, RateLimits{AuthFailures: Rate{PerSecond: 0.1, Burst: 2}})
	const attacker, operator = "203.0.113.9:4000", "198.51.100.7:2000"
	decode := func(token, remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/codec/decode", strings.NewReader(sealedBody(t, keys)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		g.handler.ServeHTTP(rec, req)
		return rec
	}
	login := func(token, remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/codec/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		g.handler.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusUnauthorized, decode("guess-1", attacker).Code)
	require.Equal(t, http.StatusUnauthorized, login("guess-2", attacker).Code)
	limited := decode(tokCodecSup, attacker)
	assert.Equal(t, http.StatusTooManyRequests, limited.Code, "a valid token from the guessing address waits")
	assert.Equal(t, "10", limited.Header().Get("Retry-After"))
	assert.NotContains(t, limited.Body.String(), "ada@example.com")
	assert.Equal(t, http.StatusTooManyRequests, login(tokCodecSup, attacker).Code)
	assert.Len(t, payloadsOf(t, decode(tokCodecSup, operator)), 1, "another address decodes")
}
