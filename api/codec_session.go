package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
)

// The codec session: what lets the Temporal UI, which cannot send a bearer token,
// call the codec endpoint for a signed-in operator.
const (
	codecSessionCookie = "tierflow_codec_session"
	// codecSessionTTL keeps a stolen cookie short-lived; the operator signs in again.
	codecSessionTTL = time.Hour
	// codecSessionPath scopes the cookie to the codec endpoint: the rest of the API
	// never accepts it (bearer tokens only, so no CSRF there).
	codecSessionPath = "/codec"
	// codecSessionPurpose separates the cookie's HMAC keys from the codec's keys.
	codecSessionPurpose = "codec session cookie v1"
	codecLoginMaxBytes  = 8 << 10
)

// NewCodecEndpoint configures the codec endpoint with its keys and the Temporal UI
// origins that may call it from a browser.
func NewCodecEndpoint(keys *codec.Keyring, origins []string) *CodecEndpoint {
	return &CodecEndpoint{Keys: keys, Origins: origins, sessionKeys: keys.DeriveKeys(codecSessionPurpose)}
}

// codecSession is the signed content of the cookie. The principal is looked up
// again on every use, so a token removed from the configuration ends its sessions.
type codecSession struct {
	Subject string        `json:"sub"`
	Role    tierflow.Role `json:"role"`
	Expires int64         `json:"exp"` // Unix seconds
}

// signSession returns the cookie value: v1.<base64url JSON>.<base64url HMAC-SHA256>,
// signed with the key derived from the newest codec key.
func (e *CodecEndpoint) signSession(sess codecSession) string {
	body, _ := json.Marshal(sess)
	signed := "v1." + base64.RawURLEncoding.EncodeToString(body)
	return signed + "." + base64.RawURLEncoding.EncodeToString(sessionMAC(e.sessionKeys[0], signed))
}

// verifySession checks the signature under every derived key (so sessions survive
// a key rotation) and the expiry.
func (e *CodecEndpoint) verifySession(value string, now time.Time) (codecSession, bool) {
	var sess codecSession
	i := strings.LastIndexByte(value, '.')
	if i < 0 || !strings.HasPrefix(value, "v1.") {
		return sess, false
	}
	signed, mac := value[:i], value[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return sess, false
	}
	valid := false
	for _, k := range e.sessionKeys {
		valid = valid || hmac.Equal(got, sessionMAC(k, signed))
	}
	if !valid {
		return sess, false
	}
	body, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(signed, "v1."))
	if err != nil || json.Unmarshal(body, &sess) != nil || now.Unix() >= sess.Expires {
		return codecSession{}, false
	}
	return sess, true
}

func sessionMAC(key []byte, signed string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// codecSessionPrincipal is the operator of the request's session cookie.
func (s *server) codecSessionPrincipal(r *http.Request) (tierflow.Principal, error) {
	c, err := r.Cookie(codecSessionCookie)
	if err != nil {
		return tierflow.Principal{}, errCodecUnauthenticated()
	}
	sess, ok := s.Codec.verifySession(c.Value, s.Now())
	if !ok {
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeUnauthorized,
			"the codec session is invalid or expired; sign in again at /codec/login")
	}
	p, ok := s.Auth.principalByID(sess.Subject, sess.Role)
	if !ok {
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeUnauthorized,
			"the codec session's principal is no longer configured; sign in again at /codec/login")
	}
	return p, nil
}

// principalByID finds a configured principal by its ID and role.
func (a *Authenticator) principalByID(id string, role tierflow.Role) (tierflow.Principal, bool) {
	for _, c := range a.creds {
		if c.principal.ID == id && c.principal.Role == role {
			return c.principal, true
		}
	}
	return tierflow.Principal{}, false
}

// codecLoginPage fills the sign-in pages.
type codecLoginPage struct {
	Return  string
	Error   string
	Name    string
	Role    tierflow.Role
	Until   string
	UIs     []string
	Message string
}

// codecLoginForm: GET /codec/login, the operator's sign-in form.
func (s *server) codecLoginForm(w http.ResponseWriter, r *http.Request) {
	s.renderCodecPage(w, http.StatusOK, codecLoginTemplate, codecLoginPage{Return: r.URL.Query().Get("return")})
}

// codecLogin: POST /codec/login with the form's token. An operator gets the session
// cookie and, when the form names an allowed UI page to return to, goes back there.
func (s *server) codecLogin(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && !sameHost(origin, r.Host) {
		s.renderCodecPage(w, http.StatusForbidden, codecLoginTemplate, codecLoginPage{Error: "Sign in from this page only."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, codecLoginMaxBytes)
	if err := r.ParseForm(); err != nil {
		s.renderCodecPage(w, http.StatusBadRequest, codecLoginTemplate, codecLoginPage{Error: "The form could not be read."})
		return
	}
	page := codecLoginPage{Return: r.PostForm.Get("return")}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	p, err := s.credential(w, r, token, token != "")
	switch code := tierflow.ErrorCode(err); {
	case code == tierflow.CodeUnauthorized:
		page.Error = "This token is not valid."
		s.renderCodecPage(w, http.StatusUnauthorized, codecLoginTemplate, page)
		return
	case err != nil:
		page.Error = "Too many attempts; wait and try again."
		s.renderCodecPage(w, http.StatusTooManyRequests, codecLoginTemplate, page)
		return
	}
	if !slices.Contains(codecRoles, p.Role) {
		page.Error = "Only operators (supervisor or executive) may read payloads."
		s.renderCodecPage(w, http.StatusForbidden, codecLoginTemplate, page)
		return
	}
	until := s.Now().Add(codecSessionTTL)
	sess := codecSession{Subject: p.ID, Role: p.Role, Expires: until.Unix()}
	http.SetCookie(w, codecCookie(r, s.Codec.signSession(sess), int(codecSessionTTL.Seconds())))
	if back := page.Return; back != "" && slices.Contains(s.Codec.Origins, originOf(back)) {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	s.renderCodecPage(w, http.StatusOK, codecSignedInTemplate, codecLoginPage{
		Name: p.Name, Role: p.Role, Until: until.UTC().Format(time.RFC1123), UIs: s.Codec.Origins,
	})
}

// codecLogout: POST /codec/logout ends the browser's session.
func (s *server) codecLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, codecCookie(r, "", -1))
	s.renderCodecPage(w, http.StatusOK, codecLoginTemplate, codecLoginPage{Message: "Signed out."})
}

// renderCodecPage is renderHTML with a policy that lets the sign-in form's answer
// redirect to the Temporal UI (form-action applies to the redirect too), and a
// referrer policy under which the browser sends the form's Origin (no-referrer
// makes it "null", which codecLogin refuses).
func (s *server) renderCodecPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	csp := "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + strings.Join(s.Codec.Origins, " ")
	renderHTML(cspWriter{ResponseWriter: w, csp: strings.TrimSpace(csp)}, status, t, data)
}

// cspWriter sets its Content-Security-Policy as the header is written.
type cspWriter struct {
	http.ResponseWriter
	csp string
}

func (c cspWriter) WriteHeader(code int) {
	c.Header().Set("Content-Security-Policy", c.csp)
	c.Header().Set("Referrer-Policy", "same-origin")
	c.ResponseWriter.WriteHeader(code)
}

// codecCookie is HttpOnly (no script reads it), SameSite=Strict (no other site's
// page makes the browser send it) and Secure except on plain-HTTP loopback (dev).
// maxAge < 0 deletes it.
func codecCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	secure := r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" || !isLoopbackHost(r.Host)
	return &http.Cookie{
		Name: codecSessionCookie, Value: value, Path: codecSessionPath, MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	}
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

// originOf is the scheme://host of an absolute URL, "" for anything else.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

var (
	codecLoginTemplate = surveyTemplate("codec-login", `
{{define "title"}}Tierflow: sign in to read Temporal payloads{{end}}
{{define "body"}}<h1>Read encrypted Temporal payloads</h1>
<p>Tierflow encrypts customer data in Temporal. Operators (supervisor or executive)
sign in here with their API token; the Temporal UI then shows the payloads in clear
for one hour.</p>
{{if .Message}}<p role="status">{{.Message}}</p>{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/codec/login">
<p><label for="token">API token</label><br>
<input id="token" name="token" type="password" autocomplete="off" required size="40"></p>
<input type="hidden" name="return" value="{{.Return}}">
<p><button type="submit">Sign in</button></p>
</form>{{end}}`)

	codecSignedInTemplate = surveyTemplate("codec-signed-in", `
{{define "title"}}Tierflow: signed in{{end}}
{{define "body"}}<h1>Signed in</h1>
<p>{{.Name}} ({{.Role}}) may read Temporal payloads until {{.Until}}.
Reload the Temporal UI to see them in clear.</p>
{{range .UIs}}<p><a href="{{.}}">{{.}}</a></p>{{end}}
<form method="post" action="/codec/logout"><p><button type="submit">Sign out</button></p></form>{{end}}`)
)
