package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
)

type requestIDKey struct{}

// validRequestID accepts a client's X-Request-Id only when it is short and plain.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// signedLinkPrefixes start the public paths whose last segment is a signed
// token: a survey or an approval link, a credential never logged.
var signedLinkPrefixes = []string{"/v1/surveys/", "/v1/approvals/"}

// tokenFreePath is path with a signed link's token replaced by {token}; ok
// reports whether it held one.
func tokenFreePath(path string) (clean string, ok bool) {
	for _, prefix := range signedLinkPrefixes {
		if strings.HasPrefix(path, prefix) {
			return prefix + "{token}", true
		}
	}
	return path, false
}

// instrument gives every request an X-Request-Id, recovers panics as 500 problems,
// counts it in the metrics and writes one access-log line. The log holds neither
// Authorization headers nor link tokens nor query strings (which may hold emails).
func (s *server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		slot := &principalSlot{}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		r = r.WithContext(context.WithValue(ctx, principalSlotKey{}, slot))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic in handler", slog.String("request_id", id), slog.Any("panic", v))
				if rec.status == 0 {
					writeProblem(rec, problemFor(nil))
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.Metrics.Observe(r.Method, route, status, elapsed)
			path, _ := tokenFreePath(r.URL.Path)
			s.Logger.Info("http request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", path),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("principal_id", slot.id),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// principalSlot lets authorize report the caller's id to the access log (handlers
// see a derived request, the access log the original one).
type principalSlot struct{ id string }

type principalSlotKey struct{}

func notePrincipal(ctx context.Context, id string) {
	if slot, ok := ctx.Value(principalSlotKey{}).(*principalSlot); ok {
		slot.id = id
	}
}
