// Package drill runs fault drills on the production topology (internal/prodlocal):
// a steady load of cases opened through both APIs, a fault injected mid-load,
// then an account of every case: its final state, its automatic escalation and
// that deadline's lateness, its audit log in PostgreSQL, and every customer email
// as the fake SendGrid recorded it. `make drill` runs them all (drill/main.go).
package drill

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tierflow/tierflow/internal/fakesendgrid"
	"github.com/tierflow/tierflow/internal/prodlocal"
)

// Tokens of the dev staff directory the drills act as.
const (
	openToken   = "dev-integration"
	decideToken = "dev-executive"
)

// Env is what every drill runs against: the topology, the fake SendGrid its
// workers send to, and Tierflow's database.
type Env struct {
	Topo  *prodlocal.Topology
	Mail  *fakesendgrid.Server
	Nonce string // makes case IDs unique per run
	Logf  func(format string, args ...any)
	// DeployWorker is the patched worker binary for drill 7 (built by PrepareDeploy).
	DeployWorker string
	// BuildDir holds the topology's worker and API binaries (prodlocal.Options.BuildDir).
	BuildDir string

	db *pgxpool.Pool
}

// Open connects to Tierflow's database (the pool reconnects after an outage).
func (e *Env) Open(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, e.Topo.DSN())
	if err != nil {
		return fmt.Errorf("connect to Tierflow's database: %w", err)
	}
	e.db = pool
	return nil
}

// Close releases the database pool.
func (e *Env) Close() {
	if e.db != nil {
		e.db.Close()
	}
}

// Drill is one fault scenario.
type Drill struct {
	N    int
	Name string
	// Interval between two case openings; FaultAt is when the fault starts after
	// the first opening; MinCases are opened at least, and openings go on for Tail
	// after the fault ended.
	Interval time.Duration
	FaultAt  time.Duration
	MinCases int
	Tail     time.Duration
	// Fault injects the failure and returns when it has ended (the process
	// restarted, the service recovered); faultEnd is that moment.
	Fault func(ctx context.Context, e *Env, r *Result) (faultEnd time.Time, err error)
	// Recovery, when set, measures the recovery time instead of the first case
	// progress after the fault's end.
	Recovery func(e *Env, faultEnd time.Time) time.Duration
}

// Result is the account of one drill.
type Result struct {
	Drill        *Drill
	Cases        int
	Lost         int
	DupEmails    int
	MissEmails   int
	Unconfirmed  int
	FailedEmails int
	AuditGaps    int
	MaxLateness  time.Duration
	Recovery     time.Duration
	Other        int // deadlines missed, decisions applied twice, unledgered emails, non-determinism
	Err          error
	Notes        []string
	Elapsed      time.Duration

	mu sync.Mutex
}

// Note adds a line to the drill's findings.
func (r *Result) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Failed reports whether the drill found a problem.
func (r *Result) Failed() bool {
	return r.Err != nil || r.Lost+r.DupEmails+r.MissEmails+r.AuditGaps+r.Other > 0
}

// Run runs one drill: the load, the fault in the middle of it, and the account.
func Run(ctx context.Context, e *Env, d *Drill) *Result {
	r := &Result{Drill: d}
	begin := time.Now()
	defer func() { r.Elapsed = time.Since(begin) }()
	logOffsets := workerLogSizes(e)

	prog := &progress{}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		cases  []*caseRun
		faultC = make(chan time.Time, 1)
	)
	stopCases := make(chan struct{})
	go func() {
		t := time.NewTimer(d.FaultAt)
		defer t.Stop()
		select {
		case <-ctx.Done():
			faultC <- time.Time{}
			return
		case <-t.C:
		}
		e.Logf("drill %d: fault starts", d.N)
		end, err := d.Fault(ctx, e, r)
		if err != nil {
			r.Err = fmt.Errorf("fault: %w", err)
			e.Logf("drill %d: fault failed: %v", d.N, err)
		}
		e.Logf("drill %d: fault over", d.N)
		faultC <- end
	}()

	var faultEnd time.Time
	faultOver := false
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	for i := 0; i < maxCases; i++ {
		c := newCaseRun(e, d.N, i, prog)
		mu.Lock()
		cases = append(cases, c)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.script(ctx, stopCases)
		}()
		if faultOver && i+1 >= d.MinCases && time.Since(faultEnd) >= d.Tail {
			break
		}
		select {
		case <-ctx.Done():
		case faultEnd = <-faultC:
			faultOver = true
			<-tick.C
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if !faultOver {
		faultEnd = <-faultC
	}
	e.Logf("drill %d: %d cases opened; waiting for them to close", d.N, len(cases))
	// A case not closed within 3 minutes of the last opening is lost.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		close(stopCases)
		<-done
	case <-ctx.Done():
		close(stopCases)
		<-done
	}
	if !faultEnd.IsZero() {
		if d.Recovery != nil {
			r.Recovery = d.Recovery(e, faultEnd)
		} else {
			r.Recovery = prog.firstAfter(faultEnd)
		}
	}
	account(ctx, e, r, cases)
	countNondeterminism(e, r, logOffsets)
	surfaced := 0
	for _, c := range cases {
		surfaced += c.errs
	}
	r.Note("errors returned by the Go client after its own retries (then retried by the case script): %d", surfaced)
	if d.Fault == nil {
		return r
	}
	if d.N == 7 {
		n := countPatched(e, logOffsets)
		r.Note("the patched build's new branch ran for %d cases", n)
		if n == 0 {
			r.Other++
			r.Note("the patched build ran no case opened after the deploy")
		}
	}
	return r
}

// maxCases bounds a drill's load.
const maxCases = 80

// progress records when cases made a step (opened, escalated, acknowledged,
// closed), for the recovery time.
type progress struct {
	mu    sync.Mutex
	times []time.Time
}

func (p *progress) mark() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.times = append(p.times, time.Now())
}

// firstAfter is the time from t to the first step after it (-1 when none).
func (p *progress) firstAfter(t time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := time.Duration(-1)
	for _, at := range p.times {
		if at.After(t) && (best < 0 || at.Sub(t) < best) {
			best = at.Sub(t)
		}
	}
	return best
}

func workerLogSizes(e *Env) []int64 {
	var out []int64
	for _, w := range e.Topo.Workers {
		var n int64
		if st, err := os.Stat(w.LogFile()); err == nil {
			n = st.Size()
		}
		out = append(out, n)
	}
	return out
}
