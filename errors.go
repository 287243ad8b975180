package tierflow

import (
	"errors"
	"fmt"
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
