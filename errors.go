package tierflow

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Code classifies an error for callers: the API maps it to an HTTP status, an
// activity to retryable or not.
type Code string

// Error codes.
const (
	CodeInvalid      Code = "invalid"      // well-formed but invalid input (422)
	CodeMalformed    Code = "malformed"    // cannot be parsed (400)
	CodeNotFound     Code = "not_found"    // no such case (404)
	CodeConflict     Code = "conflict"     // conflicts with the case's state or an earlier request (409)
	CodeForbidden    Code = "forbidden"    // authenticated but not allowed (403)
	CodeUnauthorized Code = "unauthorized" // no or bad credentials (401)
	CodeGone         Code = "gone"         // expired (410)
	CodeUnavailable  Code = "unavailable"  // a dependency is down; retry later (503)
	CodeInternal     Code = "internal"     // a bug; details are logged, never shown
	CodeRejected     Code = "rejected"     // a provider refused permanently (e.g. email 4xx)
)

// FieldError is one invalid field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of the domain: a code, a message safe to show to the
// caller, and optional field errors.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	msg := e.Message
	for i, f := range e.Fields {
		if i == 0 {
			msg += ": "
		} else {
			msg += "; "
		}
		msg += f.Field + " " + f.Message
	}
	if e.Err != nil && msg == "" {
		return e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Validation collects field errors; Err returns nil when there are none.
type Validation struct{ fields []FieldError }

// Add records that field is invalid.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records the message when ok is false.
func (v *Validation) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Err returns an invalid *Error with every collected field, or nil.
func (v *Validation) Err(message string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: message, Fields: v.fields}
}

// The helpers below check request fields into a Validation; the types' Validate
// methods (case.go, decision.go, customer.go) use them.

// Limits of request fields (in characters).
const (
	MaxSubjectLen     = 200
	MaxTextLen        = 5000  // decision texts, frontline summary, customer event messages
	MaxDescriptionLen = 20000 // the case description from the CRM
	MaxCommentLen     = 2000  // survey comment
	MaxIDLen          = 128   // customer id, decision id, event id, assignee
)

var (
	tokenPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

func required(v *Validation, field, s string, limit int) {
	if strings.TrimSpace(s) == "" {
		v.Add(field, "is required")
		return
	}
	maxLen(v, field, s, limit)
}

// nonBlank records a missing value (the length is checked separately).
func nonBlank(v *Validation, field, s string) {
	v.Check(strings.TrimSpace(s) != "", field, "is required")
}

func maxLen(v *Validation, field, s string, limit int) {
	if n := utf8.RuneCountInString(s); n > limit {
		v.Add(field, "must be at most %d characters, got %d", limit, n)
	}
}

func optionalToken(v *Validation, field, s string) {
	v.Check(s == "" || tokenPattern.MatchString(s), field,
		"must be a lower-case token (a-z 0-9 _ -, at most 64), got %q", s)
}

// isAddress reports whether s is exactly one RFC 5322 address without a display
// name.
func isAddress(s string) bool {
	// workflowcheck flags ParseAddress for a debug log that is compiled out; the
	// parse itself is pure.
	//workflowcheck:ignore
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func oneOf[T comparable](v T, all []T) bool {
	for _, a := range all {
		if a == v {
			return true
		}
	}
	return false
}
