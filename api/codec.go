package main

import (
	"errors"
	"net/http"
	"slices"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
)

// The remote codec endpoint (Temporal's protocol, codec.HTTPHandler) at /codec/:
// the Temporal UI and `temporal --codec-endpoint` send it the encrypted payloads
// of a history and get them back in clear. It hands out customer data, so only
// operators may use it:
//
//   - the Temporal CLI sends an operator's API token: --codec-auth 'Bearer <token>';
//   - the Temporal UI cannot add a header of ours (its passAccessToken sends the
//     UI's own SSO token, and only to an https endpoint), but with
//     includeCredentials it sends cookies. An operator signs in once at
//     GET /codec/login on the API's origin with their token; the API sets a
//     short-lived, HMAC-signed, HttpOnly, SameSite=Strict session cookie scoped
//     to /codec, which the browser then sends with the UI's codec calls (the UI
//     and the API must be same-site: ports differ, the registrable domain not).
//
// Browser calls come from the UI's origin, so the endpoint answers CORS for the
// configured origins only (TIERFLOW_CODEC_CORS_ORIGINS), with credentials.

// codecRoles may read payloads through the codec endpoint: operators.
var codecRoles = []tierflow.Role{tierflow.RoleSupervisor, tierflow.RoleExecutive}

// CodecEndpoint configures the remote codec endpoint (Deps.Codec).
type CodecEndpoint struct {
	Keys *codec.Keyring
	// Origins are the Temporal UI origins allowed to call it from a browser.
	Origins []string
	// sessionKeys sign the session cookies (derived from Keys, newest first).
	sessionKeys [][]byte
}

// codecHTTP is the protocol handler with the API's authentication and errors.
func (s *server) codecHTTP() *codec.HTTPHandler {
	return &codec.HTTPHandler{
		Codec: codec.New(s.Codec.Keys), AllowedOrigins: s.Codec.Origins,
		Authorize: s.codecAuthorize, Fail: s.codecFail,
	}
}

// codecAuthorize admits an operator by bearer token or by codec session cookie.
// A bearer header, when sent, decides alone: a wrong token is not rescued by a
// cookie.
func (s *server) codecAuthorize(w http.ResponseWriter, r *http.Request) error {
	var p tierflow.Principal
	if header := r.Header.Get("Authorization"); header != "" {
		token, found := bearerToken(header)
		principal, err := s.credential(w, r, token, found)
		if tierflow.ErrorCode(err) == tierflow.CodeUnauthorized {
			return errCodecUnauthenticated()
		}
		if err != nil {
			return err
		}
		p = principal
	} else {
		principal, err := s.codecSessionPrincipal(r)
		if err != nil {
			return err
		}
		p = principal
		notePrincipal(r.Context(), p.ID)
	}
	if !slices.Contains(codecRoles, p.Role) {
		return tierflow.Errorf(tierflow.CodeForbidden, "the %s role may not read payloads; operators (supervisor, executive) may", p.Role)
	}
	return nil
}

func errCodecUnauthenticated() error {
	return tierflow.Errorf(tierflow.CodeUnauthorized,
		"an operator's bearer token or codec session is required (sign in at /codec/login)")
}

// codecFail turns the codec endpoint's errors into the API's problems.
func (s *server) codecFail(w http.ResponseWriter, r *http.Request, err error) {
	var te *tierflow.Error
	switch {
	case errors.As(err, &te):
		if te.Code == tierflow.CodeUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tierflow-codec"`)
		}
	case errors.Is(err, codec.ErrOriginNotAllowed):
		err = tierflow.Errorf(tierflow.CodeForbidden, "this origin may not call the codec endpoint (TIERFLOW_CODEC_CORS_ORIGINS)")
	case errors.Is(err, codec.ErrNotJSON):
		err = &tierflow.Error{Code: codeUnsupportedType, Message: "the body must be application/json"}
	case errors.Is(err, codec.ErrBodyTooLarge):
		err = &tierflow.Error{Code: codeTooLarge, Message: "the body is too large"}
	case errors.Is(err, codec.ErrMalformedBody):
		err = tierflow.Errorf(tierflow.CodeMalformed, `the body must be {"payloads": [...]} in protobuf JSON form`)
	case errors.Is(err, codec.ErrUnknownKey):
		err = tierflow.Errorf(tierflow.CodeInvalid, "a payload is sealed with a key this API does not hold (TIERFLOW_CODEC_KEYS)")
	case errors.Is(err, codec.ErrUndecryptable):
		err = tierflow.Errorf(tierflow.CodeInvalid, "a payload fails authentication (tampered or sealed by another key)")
	}
	s.writeError(w, r, err)
}
