// Package webhookcheck is a webhook receiver for tests and drills: it verifies
// every delivery with the independent Standard Webhooks library
// (github.com/standard-webhooks/standard-webhooks/libraries, not Tierflow's own
// signing code), answers what the test scripts (503 during an outage, a hang, 200),
// and accounts for what arrived: per case, the accepted deliveries in arrival
// order, every webhook-id with its body, and anything that failed verification.
// Never linked into a production binary (internal/archtest).
package webhookcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Delivery is one verified delivery the receiver accepted (answered 2xx).
type Delivery struct {
	WebhookID string
	Type      string
	CaseID    string
	Seq       int64
	Body      []byte
	At        time.Time
}

// Payload is the part of a delivery's body the checks read.
type Payload struct {
	Type string `json:"type"`
	Data struct {
		CaseID string `json:"case_id"`
		Seq    int64  `json:"seq"`
		Tier   int    `json:"tier"`
		Status string `json:"status"`
	} `json:"data"`
}

// Receiver is an HTTP receiver on a loopback port.
type Receiver struct {
	URL string

	mu        sync.Mutex
	verifier  *standardwebhooks.Webhook
	answer    func() int // status of the next answer; 0 hangs until the request gives up
	accepted  []Delivery
	bodies    map[string][]byte // webhook-id -> first body seen
	attempts  int
	refused   int // answered non-2xx
	badSigs   []string
	conflicts []string // same webhook-id, different body
	srv       *http.Server
	hang      chan struct{}
}

// Start listens on 127.0.0.1 and answers 200 until told otherwise; the secret
// is set once the subscription exists (SetSecret); until then every request fails
// verification.
func Start() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + ln.Addr().String() + "/hooks", bodies: map[string][]byte{},
		answer: func() int { return http.StatusOK }, hang: make(chan struct{})}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the receiver (hanging requests are released).
func (r *Receiver) Close() {
	r.mu.Lock()
	select {
	case <-r.hang:
	default:
		close(r.hang)
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// SetSecret sets the whsec_ secret deliveries are verified with.
func (r *Receiver) SetSecret(secret string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.verifier = wh
	r.mu.Unlock()
	return nil
}

// Answer sets the status of the following answers (0: never answer).
func (r *Receiver) Answer(status int) {
	r.mu.Lock()
	r.answer = func() int { return status }
	r.mu.Unlock()
}

// ServeHTTP verifies, records and answers one delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.attempts++
	verifier, status := r.verifier, r.answer()
	id := req.Header.Get("webhook-id")
	if verifier == nil || verifier.Verify(body, req.Header) != nil {
		r.badSigs = append(r.badSigs, id)
		r.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if first, seen := r.bodies[id]; seen && string(first) != string(body) {
		r.conflicts = append(r.conflicts, id)
	} else if !seen {
		r.bodies[id] = body
	}
	if status == 0 {
		r.mu.Unlock()
		select {
		case <-req.Context().Done():
		case <-r.hang:
		}
		return
	}
	if status >= 200 && status < 300 {
		var p Payload
		_ = json.Unmarshal(body, &p)
		r.accepted = append(r.accepted, Delivery{WebhookID: id, Type: p.Type, CaseID: p.Data.CaseID, Seq: p.Data.Seq,
			Body: body, At: time.Now()})
	} else {
		r.refused++
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

// Accepted returns the accepted deliveries of caseID ("" for all) in arrival order.
func (r *Receiver) Accepted(caseID string) []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Delivery
	for _, d := range r.accepted {
		if caseID == "" || d.CaseID == caseID {
			out = append(out, d)
		}
	}
	return out
}

// Counts are the receiver's totals.
type Counts struct {
	Attempts, Refused, BadSignatures, Conflicts int
}

// Counts returns the totals so far.
func (r *Receiver) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Counts{Attempts: r.attempts, Refused: r.refused, BadSignatures: len(r.badSigs), Conflicts: len(r.conflicts)}
}

// Check compares the accepted deliveries of a case with its audit log's seqs
// (wantSeqs, ascending) and returns every problem found: a missing or unexpected
// seq, a seq first accepted out of order, a duplicate under another webhook-id.
// Duplicates with the same webhook-id are allowed (at least once) and counted.
func Check(got []Delivery, wantSeqs []int64) (duplicates int, problems []string) {
	idOf := map[int64]string{}
	var firstOrder []int64
	for _, d := range got {
		if id, seen := idOf[d.Seq]; seen {
			duplicates++
			if id != d.WebhookID {
				problems = append(problems, fmt.Sprintf("seq %d delivered under two webhook-ids %s and %s", d.Seq, id, d.WebhookID))
			}
			continue
		}
		idOf[d.Seq] = d.WebhookID
		firstOrder = append(firstOrder, d.Seq)
	}
	if !slices.IsSorted(firstOrder) {
		problems = append(problems, fmt.Sprintf("first deliveries out of seq order: %v", firstOrder))
	}
	for _, s := range wantSeqs {
		if _, ok := idOf[s]; !ok {
			problems = append(problems, fmt.Sprintf("seq %d never delivered", s))
		}
	}
	for s := range idOf {
		if !slices.Contains(wantSeqs, s) {
			problems = append(problems, fmt.Sprintf("seq %d delivered but not in the audit log", s))
		}
	}
	return duplicates, problems
}
