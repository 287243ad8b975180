package sendgrid

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
)

// maxRetryAfter caps what a provider may ask us to wait.
const maxRetryAfter = time.Hour

// SendError is a send that failed for now (CodeUnavailable). It unwraps to the
// *tierflow.Error, tells when to retry (tierflow.RetryAfterError) and whether the
// request may have reached the provider.
type SendError struct {
	Err   *tierflow.Error
	After time.Duration
	// Unknown is true when the failure came after the whole request was written
	// (the answer was lost): the provider may have accepted the message.
	Unknown bool
}

var _ tierflow.RetryAfterError = (*SendError)(nil)

func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap returns the *tierflow.Error.
func (e *SendError) Unwrap() error { return e.Err }

// RetryAfter is how long the provider asked us to wait.
func (e *SendError) RetryAfter() time.Duration { return e.After }

// OutcomeUnknown reports whether the message may have been accepted anyway.
func (e *SendError) OutcomeUnknown() bool { return e.Unknown }

// classify maps SendGrid's answer to POST /v3/mail/send to what it tells about the
// message. SendGrid documents 202 for an accepted message, 4xx for a request it
// refused and 5xx for its own failures; a 5xx does not say whether the message was
// queued before the failure, and a gateway's 502 or 504 can hide an accepted one.
//
//	200, 202            accepted; the id is the X-Message-Id header
//	429                 rate limited, refused before any processing: not accepted;
//	                    retry after Retry-After or X-RateLimit-Reset
//	503 + Retry-After   SendGrid refusing work for a while: not accepted; retry after it
//	408                 the server gave up reading the request: not accepted; retry
//	other 5xx (500, 502, 504, a 503 that gives no Retry-After)
//	                    outcome unknown: the message may have been queued; never resent
//	                    blindly (SendError.Unknown)
//	other 4xx (400, 401, 403, 404, 413, ...)
//	                    refused for good: CodeRejected with SendGrid's own messages
//
// "Not accepted" and "unknown" are both CodeUnavailable; only the former may be
// sent again.
func classify(status int, header http.Header, body string, now time.Time) (string, error) {
	switch {
	case status == http.StatusAccepted || status == http.StatusOK:
		return header.Get("X-Message-Id"), nil
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout ||
		status == http.StatusServiceUnavailable && header.Get("Retry-After") != "":
		return "", &SendError{
			Err: &tierflow.Error{Code: tierflow.CodeUnavailable,
				Message: fmt.Sprintf("email provider answered %d: %s", status, providerMessage(body, status))},
			After: retryAfter(header, now),
		}
	case status >= 500:
		return "", &SendError{
			Err: &tierflow.Error{Code: tierflow.CodeUnavailable,
				Message: fmt.Sprintf("email provider answered %d, it may have queued the message: %s", status, providerMessage(body, status))},
			After:   retryAfter(header, now),
			Unknown: true,
		}
	default:
		return "", &tierflow.Error{Code: tierflow.CodeRejected,
			Message: fmt.Sprintf("email provider refused the message (%d): %s", status, providerMessage(body, status))}
	}
}

// retryAfter reads Retry-After (seconds or an HTTP date), else SendGrid's
// X-RateLimit-Reset (a Unix time), else DefaultRetryAfter.
func retryAfter(h http.Header, now time.Time) time.Duration {
	d := DefaultRetryAfter
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			d = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil {
			d = at.Sub(now)
		}
	} else if v := h.Get("X-RateLimit-Reset"); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
			d = time.Unix(unix, 0).Sub(now)
		}
	}
	return min(max(d, time.Second), maxRetryAfter)
}

// providerMessage joins SendGrid's errors[].message (with the field when given).
func providerMessage(body string, status int) string {
	var out struct {
		Errors []struct {
			Field   *string `json:"field"`
			Message string  `json:"message"`
		} `json:"errors"`
	}
	var msgs []string
	if json.Unmarshal([]byte(body), &out) == nil {
		for _, e := range out.Errors {
			m := strings.TrimSpace(e.Message)
			if e.Field != nil && *e.Field != "" && *e.Field != "null" {
				m = *e.Field + ": " + m
			}
			if m != "" {
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) == 0 {
		return http.StatusText(status)
	}
	msg := strings.Join(msgs, "; ")
	if len(msg) > 500 {
		msg = msg[:500] + "..."
	}
	return msg
}
