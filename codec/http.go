package codec

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

// Errors the HTTP handler hands to Fail, besides Authorize's own and the codec's
// (ErrUnknownKey, ErrUndecryptable); matched with errors.Is.
var (
	ErrMalformedBody    = errors.New(`the body must be {"payloads": [...]} in protobuf JSON form`)
	ErrBodyTooLarge     = errors.New("the body is too large")
	ErrNotJSON          = errors.New("the body must be application/json")
	ErrOriginNotAllowed = errors.New("this origin may not call the codec endpoint")
)

// DefaultMaxBodyBytes bounds a request's body: Temporal limits one payload to
// 2 MiB, and the UI and the CLI send the payloads of one event or one field.
const DefaultMaxBodyBytes = 8 << 20

// AllowedHeaders are the request headers a browser may send cross-origin: the
// UI sends Content-Type and X-Namespace, and Authorization with passAccessToken.
var AllowedHeaders = []string{"Content-Type", "X-Namespace", "Authorization"}

// HTTPHandler serves Temporal's remote codec protocol: POST <base>/encode and
// POST <base>/decode take and answer {"payloads": [...]} in protobuf JSON form,
// with the namespace in X-Namespace. The Temporal UI calls it from the browser, so
// it answers CORS preflights and sets CORS headers for AllowedOrigins, with
// credentials (the UI's codec option includeCredentials sends cookies).
//
// Who may call it is the caller's decision: Authorize runs on every encode and
// decode before the body is read, and Fail writes every error answer (Authorize's
// errors and the Err* of this package).
type HTTPHandler struct {
	Codec converter.PayloadCodec
	// AllowedOrigins are the exact origins (scheme://host[:port]) of the Temporal
	// UI; a browser request from any other origin is refused.
	AllowedOrigins []string
	Authorize      func(w http.ResponseWriter, r *http.Request) error
	Fail           func(w http.ResponseWriter, r *http.Request, err error)
	// MaxBodyBytes bounds the body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// Encode serves POST <base>/encode.
func (h *HTTPHandler) Encode(w http.ResponseWriter, r *http.Request) { h.serve(w, r, h.Codec.Encode) }

// Decode serves POST <base>/decode.
func (h *HTTPHandler) Decode(w http.ResponseWriter, r *http.Request) { h.serve(w, r, h.Codec.Decode) }

// Preflight serves OPTIONS <base>/encode and <base>/decode: the browser asks
// whether the UI's origin may POST with its headers and credentials. Preflights
// carry no credentials, so they are answered without authentication.
func (h *HTTPHandler) Preflight(w http.ResponseWriter, r *http.Request) {
	if !h.allowCORS(w, r) {
		h.Fail(w, r, ErrOriginNotAllowed)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", http.MethodPost)
	w.Header().Set("Access-Control-Allow-Headers", strings.Join(AllowedHeaders, ", "))
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func (h *HTTPHandler) serve(w http.ResponseWriter, r *http.Request, code func([]*commonpb.Payload) ([]*commonpb.Payload, error)) {
	if !h.allowCORS(w, r) {
		h.Fail(w, r, ErrOriginNotAllowed)
		return
	}
	if err := h.Authorize(w, r); err != nil {
		h.Fail(w, r, err)
		return
	}
	// Only application/json: a cross-site form cannot send it without a
	// preflight, which AllowedOrigins answers.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		h.Fail(w, r, ErrNotJSON)
		return
	}
	payloads, err := h.readPayloads(w, r)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	out, err := code(payloads)
	if err != nil {
		h.Fail(w, r, err)
		return
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		h.Fail(w, r, fmt.Errorf("codec: marshal the answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

func (h *HTTPHandler) readPayloads(w http.ResponseWriter, r *http.Request) ([]*commonpb.Payload, error) {
	limit := h.MaxBodyBytes
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, ErrBodyTooLarge
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformedBody, err)
	}
	var payloads commonpb.Payloads
	// Unknown fields are ignored: a newer UI may send more than this protocol needs.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &payloads); err != nil {
		return nil, ErrMalformedBody
	}
	return payloads.GetPayloads(), nil
}

// allowCORS sets the CORS answer headers for an allowed browser origin. A request
// without Origin (the Temporal CLI, curl) needs none; one from another origin is
// refused (false).
func (h *HTTPHandler) allowCORS(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !slices.Contains(h.AllowedOrigins, origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	return true
}

// ParseOrigins reads a comma-separated list of browser origins, each exactly
// scheme://host[:port] (http or https, no path, no wildcard: answers carry
// credentials, which CORS forbids with "*").
func ParseOrigins(spec string) ([]string, error) {
	var origins []string
	var problems []error
	for _, o := range strings.Split(spec, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(strings.TrimSuffix(o, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(o, "*") {
			problems = append(problems, fmt.Errorf("%q is not an origin such as https://temporal.example.com", o))
			continue
		}
		origins = append(origins, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	return origins, errors.Join(problems...)
}
