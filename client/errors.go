package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
)

// APIError is an error answer of the API, decoded from its application/problem+json
// body (RFC 9457). Status is always the HTTP status, whatever the body says.
type APIError struct {
	Status int
	Type   string
	Title  string
	Detail string
	// Fields lists the invalid fields of a 422 answer.
	Fields []tierflow.FieldError
	// RequestID is the response's X-Request-Id, to quote when reporting a problem.
	RequestID string

	retryAfter time.Duration
}

// Sentinel errors to match an *APIError by status with errors.Is.
var (
	ErrBadRequest   = &APIError{Status: http.StatusBadRequest}
	ErrUnauthorized = &APIError{Status: http.StatusUnauthorized}
	ErrForbidden    = &APIError{Status: http.StatusForbidden}
	ErrNotFound     = &APIError{Status: http.StatusNotFound}
	ErrConflict     = &APIError{Status: http.StatusConflict}
	ErrGone         = &APIError{Status: http.StatusGone}
	ErrInvalid      = &APIError{Status: http.StatusUnprocessableEntity}
	ErrRateLimited  = &APIError{Status: http.StatusTooManyRequests}
	ErrUnavailable  = &APIError{Status: http.StatusServiceUnavailable}
)

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tierflow api: %d %s", e.Status, e.title())
	if e.Detail != "" && e.Detail != e.Title {
		b.WriteString(": " + e.Detail)
	}
	for i, f := range e.Fields {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep + f.Field + " " + f.Message)
	}
	return b.String()
}

func (e *APIError) title() string {
	if e.Title != "" {
		return e.Title
	}
	return http.StatusText(e.Status)
}

// Is makes errors.Is(err, ErrNotFound) and friends match any *APIError of the same
// status.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Type == "" && t.Title == "" && t.Detail == "" && t.Status == e.Status
}

// RetryAfter is how long the server asked the client to wait (zero when it did not
// say); it implements tierflow.RetryAfterError.
func (e *APIError) RetryAfter() time.Duration { return e.retryAfter }

// Code maps the status to the domain's error code.
func (e *APIError) Code() tierflow.Code {
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return tierflow.CodeMalformed
	case http.StatusUnauthorized:
		return tierflow.CodeUnauthorized
	case http.StatusForbidden:
		return tierflow.CodeForbidden
	case http.StatusNotFound:
		return tierflow.CodeNotFound
	case http.StatusConflict:
		return tierflow.CodeConflict
	case http.StatusGone:
		return tierflow.CodeGone
	case http.StatusUnprocessableEntity:
		return tierflow.CodeInvalid
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return tierflow.CodeUnavailable
	}
	return tierflow.CodeInternal
}

// IsNotFound reports whether err is a 404 answer (no such case).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is a 409 answer (the case's state or an earlier
// request with the same identity disagrees).
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether err is a 422 answer; FieldErrors lists the fields.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsUnauthorized reports whether err is a 401 answer (no or bad token).
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsForbidden reports whether err is a 403 answer (role, tier or department).
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsUnavailable reports whether err is a 429 or 503 answer that outlived the retries.
func IsUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRateLimited)
}

// FieldErrors returns the field errors of a 422 answer, or nil.
func FieldErrors(err error) []tierflow.FieldError {
	var e *APIError
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// problem is the RFC 9457 body the API sends with every error.
type problem struct {
	Type      string                `json:"type"`
	Title     string                `json:"title"`
	Status    int                   `json:"status"`
	Detail    string                `json:"detail"`
	Errors    []tierflow.FieldError `json:"errors"`
	RequestID string                `json:"request_id"`
}

// maxErrorBody bounds what the client reads of an error answer.
const maxErrorBody = 64 << 10

// decodeAPIError turns a non-2xx response into an *APIError. A body that is not
// problem+json (a proxy's HTML page, say) becomes the Detail's first line.
func decodeAPIError(resp *http.Response, now time.Time) *APIError {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	e.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p problem
	if strings.HasSuffix(mediaType, "json") && json.Unmarshal(body, &p) == nil {
		e.Type, e.Title, e.Detail, e.Fields = p.Type, p.Title, p.Detail, p.Errors
		if e.RequestID == "" {
			e.RequestID = p.RequestID
		}
		return e
	}
	text, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	e.Detail = text
	return e
}
