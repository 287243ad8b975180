package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tierflow/tierflow/client"
)

// steadyResult: deadlines falling at a steady rate for a while. Cases open through
// the API at that rate under policySteady (a short tier 1 acknowledge clock nobody
// meets, its warning at 3/4 of it), so that their escalations fall at the same
// rate a clock later, while cases keep opening: the load of a busy day, at half
// the intake the server can take. Lateness is against each case's own deadline.
type steadyResult struct {
	Seconds         float64 `json:"seconds"` // how long cases opened, so how long deadlines fell
	AckClock        string  `json:"ack_clock"`
	RatePerSecond   float64 `json:"rate_per_second"` // the target: half the intake's cases/s
	OpenedPerSecond float64 `json:"opened_per_second"`
	Cases           int     `json:"cases"`
	OpenLag         latency `json:"open_lag"`      // how late each POST started against its schedule
	OpensRetried    int     `json:"opens_retried"` // answered 503 or 429 and sent again
	OpensFailed     int     `json:"opens_failed"`  // still 503 or 429 after the retries: not opened
	Escalated       int     `json:"escalated"`
	// Missing cases had not escalated when the wait ended: their lateness counts
	// as the wait's end minus their estimated deadline, a lower bound.
	Missing        int     `json:"missing"`
	Drained        bool    `json:"drained"`
	Lateness       latency `json:"lateness"`        // escalated event's at (workflow time) - deadline
	RecordLateness latency `json:"record_lateness"` // escalated event's recorded_at - deadline: the figure of the last line
	DrainLateness  latency `json:"drain_lateness"`  // drained (emails settled) - deadline
	EmailsPerCase  int     `json:"emails_per_escalation"`
	// OverTime is RecordLateness in buckets of BucketSeconds, by when the deadline
	// fell (seconds after the first case opened).
	BucketSeconds float64       `json:"bucket_seconds"`
	OverTime      []bucketPoint `json:"over_time"`
	// CPU is where the machine's CPU went from the first open to the last escalation.
	CPU *machineCPU `json:"machine_cpu,omitempty"`
}

// steadyBucket is the width of the lateness-over-time buckets: about 60 of them.
func steadyBucket(d time.Duration) float64 {
	return max(1, math.Round(d.Seconds()/60))
}

// measureSteady opens cases at rate for cfg.SteadyFor, waits for their escalations
// and reads the lateness.
func (b *bench) measureSteady(ctx context.Context, rate float64) (steadyResult, error) {
	d, ack := b.cfg.SteadyFor, b.cfg.SteadyAck
	r := steadyResult{Seconds: d.Seconds(), AckClock: ack.String(), RatePerSecond: rate, BucketSeconds: steadyBucket(d)}
	t0 := time.Now()
	cpu0, cpuErr := takeCPUSnapshot()
	paced, err := b.openPaced(ctx, "steady", rate, d, 8*b.cfg.Concurrency)
	if err != nil {
		return r, fmt.Errorf("open at %.1f/s: %w", rate, err)
	}
	r.OpensRetried, r.OpensFailed = int(paced.retried.Load()), int(paced.failed.Load())
	r.Cases, r.OpenLag = len(paced.ids)-r.OpensFailed, summarize(paced.lag)
	ids, started := paced.opened()
	r.OpenedPerSecond = perSecond(max(r.Cases-1, 0), paced.lastStart.Sub(t0)) // n starts span n-1 intervals
	until := paced.lastStart.Add(ack + max(2*time.Minute, d/2))
	b.logf("steady: %d cases opened at %.1f/s; waiting for their escalations (at most until %s)",
		r.Cases, r.OpenedPerSecond, until.Format(time.TimeOnly))
	records, drained, err := b.waitDrained(ctx, ids, until, 2*time.Second)
	if err != nil {
		return r, err
	}
	r.Drained, r.Escalated = drained, len(records)
	if cpuErr == nil {
		if cpu, err := cpuSince(cpu0); err == nil {
			r.CPU = &cpu
			b.logf("steady: %s", cpu)
		}
	}
	var late, recorded, drainedLate []time.Duration
	var byDeadline []timedSample
	seen := make(map[string]bool, len(records))
	for _, e := range records {
		seen[e.CaseID] = true
		late, recorded = append(late, e.At.Sub(e.Deadline)), append(recorded, e.RecordedAt.Sub(e.Deadline))
		drainedLate = append(drainedLate, e.Drained().Sub(e.Deadline))
		byDeadline = append(byDeadline, timedSample{At: e.Deadline.Sub(t0).Seconds(), Value: e.RecordedAt.Sub(e.Deadline)})
		r.EmailsPerCase = max(r.EmailsPerCase, e.Mails)
	}
	end := time.Now()
	for i, id := range ids {
		if !seen[id] {
			r.Missing++
			deadline := started[i].Add(ack)
			recorded, drainedLate = append(recorded, end.Sub(deadline)), append(drainedLate, end.Sub(deadline))
			byDeadline = append(byDeadline, timedSample{At: deadline.Sub(t0).Seconds(), Value: end.Sub(deadline)})
		}
	}
	r.Lateness, r.RecordLateness, r.DrainLateness = summarize(late), summarize(recorded), summarize(drainedLate)
	r.OverTime = overTime(byDeadline, r.BucketSeconds)
	return r, nil
}

// pacedCases is what openPaced opened.
type pacedCases struct {
	ids       []string
	started   []time.Time     // when each POST was sent
	lag       []time.Duration // how late against its schedule
	lastStart time.Time
	retried   atomic.Int64 // opens answered 503 or 429 and sent again
	failed    atomic.Int64 // opens still answered 503 or 429 after openAttempts (their ids are "")
}

// opened is the ids of the cases opened and when each POST was sent.
func (p *pacedCases) opened() (ids []string, started []time.Time) {
	for i, id := range p.ids {
		if id != "" {
			ids, started = append(ids, id), append(started, p.started[i])
		}
	}
	return ids, started
}

// openPaced opens rate cases per second for d, each at its scheduled instant
// (t0 + i/rate) whatever the answers' latency, with at most maxInFlight POSTs
// outstanding (beyond it the schedule slips, and the lag shows it).
func (b *bench) openPaced(ctx context.Context, tag string, rate float64, d time.Duration, maxInFlight int) (*pacedCases, error) {
	n := int(rate * d.Seconds())
	p := &pacedCases{ids: make([]string, n), started: make([]time.Time, n), lag: make([]time.Duration, n)}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	run := b.runID + tag
	t0 := time.Now()
	sent := 0
schedule:
	for i := range n {
		due := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		select {
		case <-time.After(time.Until(due)):
		case <-ctx.Done():
			break schedule
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break schedule
		}
		p.started[i] = time.Now()
		p.lag[i], p.lastStart, sent = p.started[i].Sub(due), p.started[i], i+1
		wg.Go(func() {
			defer func() { <-sem }()
			v, retries, err := b.api.openCase(ctx, benchCase(run, i, policySteady))
			p.retried.Add(int64(retries))
			switch {
			case err == nil:
				p.ids[i] = v.ID
			case client.IsUnavailable(err):
				p.failed.Add(1) // an overloaded product is a finding: counted, not fatal
			default:
				cancel(fmt.Errorf("open case %d: %w", i, err))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return p, err
	}
	p.ids, p.started, p.lag = p.ids[:sent], p.started[:sent], p.lag[:sent]
	return p, nil
}
