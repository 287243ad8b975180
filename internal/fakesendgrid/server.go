// Package fakesendgrid is a local stand-in for SendGrid's v3 Mail Send API for
// tests and drills. It speaks POST /v3/mail/send: it checks the bearer key,
// validates every body against SendGrid's own OpenAPI description of the operation
// (plus the service rules the schema cannot express), records what it accepted and
// answers 202 with a unique X-Message-Id. It can be told to fail the next requests
// (429 with Retry-After, 500, 400) or to accept a message and then never answer, as
// when the caller crashes after the provider took the message.
package fakesendgrid

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// FaultMode says how a scripted request misbehaves.
type FaultMode int

// Fault modes.
const (
	// Status answers with Fault.Status and records nothing.
	Status FaultMode = iota
	// AcceptThenDrop validates and records the message as accepted, then closes the
	// connection without an answer: the provider has the message, the caller sees a
	// network error.
	AcceptThenDrop
	// AcceptThenHold validates and records the message as accepted, then holds the
	// answer until the caller goes away (or the server closes): for drills where the
	// caller is killed after the provider took the message.
	AcceptThenHold
	// Hang records nothing and never answers: it holds the request until the
	// caller gives up (its timeout) or the server closes, as a provider that
	// stopped answering. Whether such a message was delivered is unknown to the
	// caller.
	Hang
)

// Fault scripts the answer to one request.
type Fault struct {
	Mode   FaultMode
	Status int // for Status: 429, 500, 400...
	// RetryAfter is the Retry-After header in whole seconds: always sent with a
	// 429, with any other status when positive (a 503 that says when to come back).
	RetryAfter time.Duration
	Message    string // error message in the JSON body
}

// Server is a running fake.
type Server struct {
	URL string // base URL, e.g. http://127.0.0.1:1234 (the Mailer's BaseURL)

	apiKey string
	srv    *httptest.Server
	valid  *validator
	done   chan struct{}

	mu       sync.Mutex
	faults   []Fault
	window   *Fault // FailAll: every request misbehaves until Recover
	accepted []Message
	requests int
	changed  chan struct{} // closed and replaced whenever accepted grows
	seq      int
}

// New starts a fake that accepts apiKey and closes it when the test ends.
func New(t testing.TB, apiKey string) *Server {
	t.Helper()
	s, err := Start(apiKey)
	if err != nil {
		t.Fatalf("start fake sendgrid: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake that accepts apiKey; Close stops it.
func Start(apiKey string) (*Server, error) {
	v, err := newValidator()
	if err != nil {
		return nil, err
	}
	s := &Server{apiKey: apiKey, valid: v, done: make(chan struct{}), changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s, nil
}

// Close releases held requests and stops the server.
func (s *Server) Close() {
	select {
	case <-s.done:
		return
	default:
		close(s.done)
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// FailNext makes the next n requests that pass authentication misbehave as f.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// FailAll makes every request that passes authentication misbehave as f until
// Recover (after any FailNext script is used up): a fault window for drills
// (a minute of 500s, of 429s, of hanging requests).
func (s *Server) FailAll(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window = &f
}

// Recover ends a FailAll window.
func (s *Server) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window = nil
}

// Accepted returns a copy of every message accepted so far, oldest first.
func (s *Server) Accepted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

// Requests is the number of mail send requests received (accepted or not).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// WaitAccepted waits until at least n messages were accepted.
func (s *Server) WaitAccepted(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, ch := len(s.accepted), s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake sendgrid: %d of %d messages accepted: %w", got, n, ctx.Err())
		}
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != sendPath {
		writeErrors(w, http.StatusNotFound, fieldError{Message: "resource not found"})
		return
	}
	if r.Method != http.MethodPost {
		writeErrors(w, http.StatusMethodNotAllowed, fieldError{Message: "method not allowed"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.apiKey {
		writeErrors(w, http.StatusUnauthorized,
			fieldError{Message: "The provided authorization grant is invalid, expired, or revoked"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 30<<20))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, fieldError{Message: "could not read the request body"})
		return
	}
	fault, scripted := s.takeFault()
	if scripted && fault.Mode == Status {
		writeFault(w, fault)
		return
	}
	if scripted && fault.Mode == Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		dropConnection(w)
		return
	}
	if errs := s.valid.validate(r.Context(), r, body); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	var m Mail
	if err := json.Unmarshal(body, &m); err != nil {
		writeErrors(w, http.StatusBadRequest, fieldError{Message: "Bad Request"})
		return
	}
	id := s.record(m, body, r.Header)
	switch {
	case scripted && fault.Mode == AcceptThenDrop:
		dropConnection(w)
	case scripted && fault.Mode == AcceptThenHold:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		dropConnection(w)
	default:
		w.Header().Set("X-Message-Id", id)
		w.WriteHeader(http.StatusAccepted)
	}
}

func (s *Server) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.faults) == 0 {
		if s.window != nil {
			return *s.window, true
		}
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

func (s *Server) record(m Mail, raw []byte, h http.Header) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("fake-%d-%d", time.Now().UnixNano(), s.seq)
	s.accepted = append(s.accepted, Message{ID: id, Mail: m, Raw: raw, Header: h.Clone(), AcceptedAt: time.Now()})
	close(s.changed)
	s.changed = make(chan struct{})
	return id
}

func writeFault(w http.ResponseWriter, f Fault) {
	msg := f.Message
	if f.Status == http.StatusTooManyRequests {
		if msg == "" {
			msg = "too many requests"
		}
		secs := int(f.RetryAfter.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("X-RateLimit-Limit", "600")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(f.RetryAfter).Unix(), 10))
	}
	if f.Status != http.StatusTooManyRequests && f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Round(time.Second)/time.Second)))
	}
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	writeErrors(w, f.Status, fieldError{Message: msg})
}

// writeErrors answers SendGrid's error shape: {"errors":[{"field":..,"message":..}]}.
func writeErrors(w http.ResponseWriter, status int, errs ...fieldError) {
	type entry struct {
		Field   *string `json:"field"`
		Message string  `json:"message"`
		Help    any     `json:"help"`
	}
	out := struct {
		Errors []entry `json:"errors"`
	}{}
	for _, e := range errs {
		var field *string
		if e.Field != "" {
			field = &e.Field
		}
		out.Errors = append(out.Errors, entry{Field: field, Message: e.Message})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

// dropConnection closes the connection without writing an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
