package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode"

	"github.com/tierflow/tierflow"
)

// maxBodyBytes bounds every request body (413 above it).
const maxBodyBytes = 1 << 20

// decodeJSON reads exactly one JSON value into dst, strictly: the content type must be
// JSON (415), the body at most 1 MiB (413), no unknown fields, no wrong types and no
// trailing data (400).
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return &tierflow.Error{Code: codeUnsupportedType, Message: "the body must be application/json"}
	}
	return decodeJSONBody(w, r, dst)
}

func decodeJSONBody(w http.ResponseWriter, r *http.Request, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return jsonError(err)
		}
		return tierflow.Errorf(tierflow.CodeMalformed, "the body must hold a single JSON value")
	}
	return nil
}

// jsonError explains a decoding failure without echoing the body.
func jsonError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &tierflow.Error{Code: codeTooLarge, Message: fmt.Sprintf("the body exceeds %d bytes", maxBodyBytes)}
	case errors.As(err, &syntax):
		return &tierflow.Error{Code: tierflow.CodeMalformed, Message: fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)}
	case errors.Is(err, io.EOF):
		return tierflow.Errorf(tierflow.CodeMalformed, "the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tierflow.Errorf(tierflow.CodeMalformed, "malformed JSON: unexpected end of the body")
	case errors.As(err, &typeError):
		field := jsonPath(typeError.Field)
		if field == "" {
			field = "(body)"
		}
		return &tierflow.Error{Code: tierflow.CodeMalformed, Message: "a field has the wrong type",
			Fields: []tierflow.FieldError{{Field: field, Message: "must be " + jsonKind(typeError.Type)}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return unknownField(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	// Other decoding errors (e.g. a time that is not RFC 3339) come from UnmarshalJSON
	// methods; their text names the value's problem, not our internals.
	return &tierflow.Error{Code: tierflow.CodeMalformed, Message: "the body could not be decoded: " + sanitize(err.Error())}
}

// jsonPath is a decoding error's field path in JSON names: the json package names
// an embedded struct by its Go name (decisionRequest's "Decision."), which the
// client never sees; every JSON name of the API is lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && unicode.IsUpper(rune(p[0])) {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, ".")
}

// unknownField is the error for a body naming a field the request does not take.
func unknownField(name string) error {
	return &tierflow.Error{Code: tierflow.CodeMalformed, Message: "the body has an unknown field",
		Fields: []tierflow.FieldError{{Field: name, Message: "is not a known field"}}}
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// sanitize shortens an error text shown to a client.
func sanitize(s string) string {
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
