package drill

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
)

// account checks every case of the drill: closed, escalated automatically (and
// how late), its audit log contiguous and caught up with the workflow, each
// decision applied once, and every customer email sent exactly once.
func account(ctx context.Context, e *Env, r *Result, cases []*caseRun) {
	r.Cases = len(cases)
	ids := make([]string, 0, len(cases))
	byID := map[string]*caseRun{}
	for _, c := range cases {
		ids = append(ids, c.id)
		byID[c.id] = c
		c.mu.Lock()
		if !c.closed {
			r.Lost++
			r.Note("lost: %s not closed (stuck at %q, opened %v, %d client errors, last: %v)", c.id, c.step, c.opened, c.errs, c.lastErr)
		}
		c.mu.Unlock()
	}

	// Emails settle first (a message still being sent is neither sent nor missing).
	settle := time.Now().Add(2 * time.Minute)
	for {
		var pending int
		err := e.db.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE case_id = ANY($1) AND state IN ('new', 'sending')`, ids).Scan(&pending)
		if err == nil && pending == 0 {
			break
		}
		if time.Now().After(settle) {
			r.Note("%d notifications still new or sending after 2 minutes (err %v)", pending, err)
			break
		}
		time.Sleep(time.Second)
	}

	// The record catches up with each case: its last seq equals the workflow's.
	caughtUp := time.Now().Add(time.Minute)
	var events map[string][]event
	for {
		var err error
		events, err = loadEvents(ctx, e, ids)
		behind := 0
		if err == nil {
			for _, c := range cases {
				if c.closed && lastSeq(events[c.id]) < c.final.Seq {
					behind++
				}
			}
		}
		if err == nil && behind == 0 {
			break
		}
		if time.Now().After(caughtUp) {
			if err != nil {
				r.Err = fmt.Errorf("read case_events: %w", err)
				return
			}
			break
		}
		time.Sleep(time.Second)
		// Later events (emails' outcomes) may have moved the workflow's seq on.
		for _, c := range cases {
			if c.closed {
				if v, err := c.staff.GetCase(ctx, c.id); err == nil && v.Seq > c.final.Seq {
					c.final = v
				}
			}
		}
	}

	var maxLag time.Duration
	lagged, disordered := 0, 0
	for _, c := range cases {
		evs := events[c.id]
		for i, ev := range evs {
			if lag := ev.recordedAt.Sub(ev.at); lag > maxLag {
				maxLag = lag
			}
			if ev.recordedAt.Sub(ev.at) > 5*time.Second {
				lagged++
			}
			if i > 0 && ev.recordedAt.Before(evs[i-1].recordedAt) {
				disordered++
			}
		}
	}
	r.Note("record: the longest delay between an event and its recording was %s; %d events recorded more than 5s late; %d recorded before an earlier seq", maxLag.Round(100*time.Millisecond), lagged, disordered)
	for _, c := range cases {
		evs := events[c.id]
		want := int64(0)
		if c.closed {
			want = c.final.Seq
		}
		// Contiguous 1..max, and up to the workflow's own seq.
		gaps := 0
		next := int64(1)
		for _, ev := range evs {
			if ev.seq > next {
				gaps += int(ev.seq - next)
			}
			next = ev.seq + 1
		}
		if want >= next {
			gaps += int(want - next + 1)
		}
		if gaps > 0 {
			r.AuditGaps += gaps
			r.Note("audit gap: %s has %d missing events (seqs %s, workflow seq %d)", c.id, gaps, seqList(evs), want)
		}
		if !c.opened {
			continue
		}
		// The automatic escalation, its lateness; each decision applied once.
		var auto *event
		acks, closes := 0, 0
		for i, ev := range evs {
			switch {
			case ev.typ == string(tierflow.EventEscalated) && ev.mode == "automatic" && auto == nil:
				auto = &evs[i]
			case ev.decisionID == c.id+"-ack" && ev.typ == string(tierflow.EventAcknowledged):
				acks++
			case ev.decisionID == c.id+"-close" && ev.typ == "closed":
				closes++
			}
		}
		if auto == nil {
			if c.closed {
				r.Other++
				r.Note("deadline: %s has no automatic escalation", c.id)
			}
		} else if !c.ackBy.IsZero() {
			if late := auto.at.Sub(c.ackBy); late > r.MaxLateness {
				r.MaxLateness = late
			}
		}
		if acks > 1 || closes > 1 {
			r.Other++
			r.Note("decision applied twice: %s acknowledged %d times, closed %d times", c.id, acks, closes)
		}
		if c.closed && (acks != 1 || closes != 1) {
			r.Note("note: %s has %d acknowledged and %d closed events with the drill's decision_ids", c.id, acks, closes)
		}
	}
	accountEmails(ctx, e, r, ids, byID)
}

type event struct {
	seq        int64
	typ        string
	at         time.Time
	mode       string
	decisionID string
	recordedAt time.Time
}

func loadEvents(ctx context.Context, e *Env, ids []string) (map[string][]event, error) {
	rows, err := e.db.Query(ctx, `SELECT case_id, seq, type, at, coalesce(details->>'mode', ''), coalesce(details->>'decision_id', ''), recorded_at
		FROM case_events WHERE case_id = ANY($1) ORDER BY case_id, seq`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]event{}
	for rows.Next() {
		var id string
		var ev event
		if err := rows.Scan(&id, &ev.seq, &ev.typ, &ev.at, &ev.mode, &ev.decisionID, &ev.recordedAt); err != nil {
			return nil, err
		}
		out[id] = append(out[id], ev)
	}
	return out, rows.Err()
}

func lastSeq(evs []event) int64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].seq
}

func seqList(evs []event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprint(&b, ev.seq)
	}
	return b.String()
}

// accountEmails compares the notifications ledger with what the fake SendGrid
// accepted, by message key.
func accountEmails(ctx context.Context, e *Env, r *Result, ids []string, byID map[string]*caseRun) {
	accepted := map[string]int{}
	for _, m := range e.Mail.Accepted() {
		for _, p := range m.Mail.Personalizations {
			if k := p.CustomArgs["message_key"]; k != "" {
				accepted[k]++
			}
		}
	}
	rows, err := e.db.Query(ctx, `SELECT key, case_id, audience, state, error FROM notifications WHERE case_id = ANY($1) ORDER BY key`, ids)
	if err != nil {
		r.Err = fmt.Errorf("read notifications: %w", err)
		return
	}
	defer rows.Close()
	ledger := map[string]bool{}
	customer, staff, states := 0, 0, map[string]int{}
	defer func() {
		got := 0
		for key, n := range accepted {
			caseID, _, _ := strings.Cut(key, "/")
			if byID[caseID] != nil {
				got += n
			}
		}
		r.Note("emails: %d customer messages in the ledger (by state %v), %d staff; SendGrid accepted %d for these cases", customer, states, staff, got)
	}()
	for rows.Next() {
		var key, caseID, audience, state, errText string
		if err := rows.Scan(&key, &caseID, &audience, &state, &errText); err != nil {
			r.Err = fmt.Errorf("read notifications: %w", err)
			return
		}
		ledger[key] = true
		if audience == "customer" {
			customer++
			states[state]++
		} else {
			staff++
		}
		n := accepted[key]
		if n > 1 {
			if audience == "customer" {
				r.DupEmails += n - 1
				r.Note("duplicate email: %s accepted %d times (ledger %s)", key, n, state)
			} else {
				r.Note("duplicate staff email: %s accepted %d times (ledger %s)", key, n, state)
			}
		}
		if audience != "customer" || n > 0 {
			continue
		}
		switch state {
		case "unconfirmed":
			r.Unconfirmed++
		case "failed":
			r.FailedEmails++
			r.Note("failed email: %s (%s)", key, errText)
		default:
			r.MissEmails++
			r.Note("missing email: %s never reached SendGrid (ledger %s %s)", key, state, errText)
		}
	}
	if err := rows.Err(); err != nil {
		r.Err = fmt.Errorf("read notifications: %w", err)
		return
	}
	for key, n := range accepted {
		caseID, _, _ := strings.Cut(key, "/")
		if byID[caseID] != nil && !ledger[key] {
			r.Other++
			r.Note("email accepted by SendGrid %d times but absent from the ledger: %s", n, key)
		}
	}
}

// countNondeterminism reads what the workers logged during the drill.
func countNondeterminism(e *Env, r *Result, offsets []int64) {
	for i, w := range e.Topo.Workers {
		f, err := os.Open(w.LogFile())
		if err != nil {
			continue
		}
		if i < len(offsets) {
			_, _ = f.Seek(offsets[i], io.SeekStart)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		n := 0
		for sc.Scan() {
			line := strings.ToLower(sc.Text())
			if strings.Contains(line, "nondeterministic") || strings.Contains(line, "non-deterministic") || strings.Contains(line, "tmprl1100") {
				n++
				if n <= 3 {
					r.Note("non-determinism in %s: %.300s", w.Name(), sc.Text())
				}
			}
		}
		f.Close()
		if n > 0 {
			r.Other += n
		}
	}
}
