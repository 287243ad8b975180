package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tierflow/tierflow"
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type     string                `json:"type"`
	Title    string                `json:"title"`
	Status   int                   `json:"status"`
	Detail   string                `json:"detail"`
	Instance string                `json:"instance,omitempty"`
	Errors   []tierflow.FieldError `json:"errors,omitempty"`
	// Checks is set by /readyz only.
	Checks map[string]string `json:"checks,omitempty"`
}

// retryAfterSeconds is what a 503 tells clients to wait.
const retryAfterSeconds = 5

// codeStatus maps every domain error code to its HTTP status.
var codeStatus = map[tierflow.Code]int{
	tierflow.CodeMalformed:    http.StatusBadRequest,
	tierflow.CodeUnauthorized: http.StatusUnauthorized,
	tierflow.CodeForbidden:    http.StatusForbidden,
	tierflow.CodeNotFound:     http.StatusNotFound,
	tierflow.CodeConflict:     http.StatusConflict,
	tierflow.CodeGone:         http.StatusGone,
	tierflow.CodeInvalid:      http.StatusUnprocessableEntity,
	tierflow.CodeUnavailable:  http.StatusServiceUnavailable,
	tierflow.CodeRejected:     http.StatusUnprocessableEntity,
	tierflow.CodeInternal:     http.StatusInternalServerError,
}

// Codes for statuses that have no domain code of their own.
const (
	codeTooLarge        tierflow.Code = "too_large"
	codeUnsupportedType tierflow.Code = "unsupported_media_type"
	codeMethod          tierflow.Code = "method_not_allowed"
)

func init() {
	codeStatus[codeTooLarge] = http.StatusRequestEntityTooLarge
	codeStatus[codeUnsupportedType] = http.StatusUnsupportedMediaType
	codeStatus[codeMethod] = http.StatusMethodNotAllowed
}

// problemFor turns any error into the problem the client sees. Only a *tierflow.Error's
// Message and Fields are shown, and only when its code maps to a status below 500;
// anything else (a foreign error, an unknown code, CodeInternal) gets a fixed text,
// and writeError logs the cause with the request id.
func problemFor(err error) problem {
	var e *tierflow.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			e = tierflow.Errorf(tierflow.CodeUnavailable, "the service did not answer in time; retry later")
		} else {
			e = &tierflow.Error{Code: tierflow.CodeInternal}
		}
	}
	status, ok := codeStatus[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	detail := e.Message
	if detail == "" {
		detail = http.StatusText(status) // api.md: every problem has a detail
	}
	fields := e.Fields
	if status == http.StatusInternalServerError {
		detail = "an internal error occurred; quote the request id when reporting it"
		fields = nil
	}
	return problem{
		Type:   "https://tierflow.dev/problems/" + string(codeOf(status, e.Code)),
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Errors: fields,
	}
}

func codeOf(status int, c tierflow.Code) tierflow.Code {
	if status == http.StatusInternalServerError {
		return tierflow.CodeInternal
	}
	return c
}

// writeError answers with the problem for err and logs it with the request id. This is
// the one place errors become HTTP answers.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	p.Instance = r.URL.Path
	if _, hasToken := tokenFreePath(r.URL.Path); hasToken {
		p.Instance = "" // the path holds a link's token
	}
	level := slog.LevelInfo
	if p.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", requestID(r.Context())),
		slog.Int("status", p.Status),
		slog.String("error", err.Error()),
	}
	// A domain error shows its safe message; its cause (a driver's or Temporal's
	// text) is for this log only.
	var e *tierflow.Error
	if errors.As(err, &e) && e.Err != nil && e.Message != "" {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	s.Logger.LogAttrs(r.Context(), level, "request failed", attrs...)
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problem) {
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
