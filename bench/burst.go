package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tierflow/tierflow"
)

// burstResult: cases whose tier 1 acknowledge deadlines fall at one instant,
// drained (escalation recorded, its emails settled: escalationRecord), next to the
// same number of no-op timer workflows firing at one instant on the same server.
type burstResult struct {
	Cases           int       `json:"cases"`
	AckClock        string    `json:"ack_clock"`
	WarningRatio    float64   `json:"warning_ratio"`
	CalendarOpensAt time.Time `json:"calendar_opens_at"`
	Deadline        time.Time `json:"deadline"`      // CalendarOpensAt + AckClock
	OpenSeconds     float64   `json:"open_seconds"`  // until every opening was recorded
	OpensRetried    int       `json:"opens_retried"` // answered 503 or 429 and sent again
	// OpenSettledSeconds: until the openings' emails were settled too.
	OpenSettledSeconds float64 `json:"open_settled_seconds"`
	// AtDeadline counts the cases whose deadline is exactly Deadline; the others were
	// opened after the calendar opened, so their clock started later.
	AtDeadline     int    `json:"at_deadline"`
	DeadlineSpread millis `json:"deadline_spread_ms"`
	// Warnings: the warnings' own burst (at WarningRatio of the clock) must be over
	// before the deadline, or the drain below counts some of it.
	Warnings warningsCheck `json:"warnings"`
	// JobsOverran: a measurement run in the burst's quiet windows ended after the
	// deadline, so the drain shared the server with it.
	JobsOverran bool `json:"jobs_overran"`

	Drained       bool `json:"drained"` // false: the wait ended first; the figures are lower bounds
	Escalated     int  `json:"escalated"`
	EmailsPerCase int  `json:"emails_per_escalation"`
	// DrainSeconds is the last case's drained instant - Deadline; RecordedDrainSeconds
	// the last escalated event's recorded_at - Deadline.
	DrainSeconds         float64 `json:"drain_seconds"`
	RecordedDrainSeconds float64 `json:"recorded_drain_seconds"`
	Lateness             latency `json:"lateness"`        // escalated event's at (workflow time) - deadline
	RecordLateness       latency `json:"record_lateness"` // escalated event's recorded_at - deadline
	DrainLateness        latency `json:"drain_lateness"`  // drained instant - deadline

	Baseline   *timerBurstResult `json:"baseline"`
	DrainRatio float64           `json:"drain_ratio"` // DrainSeconds / Baseline.DrainSeconds
	// CPU is where the machine's CPU went from the deadline to the drain's end;
	// Database, with -pprof, the statements that took the database's time then.
	CPU      *machineCPU      `json:"machine_cpu,omitempty"`
	Database *databaseProfile `json:"database,omitempty"`
	Memory   *memoryResult    `json:"worker_memory"`
	Curves   []drainCurve     `json:"drain_curves"`

	WorkerPeakRSS int64 `json:"worker_peak_rss_bytes"`
	APIPeakRSS    int64 `json:"api_peak_rss_bytes"` // the API that opened the herd

	ids []string
}

// warningsCheck is the state of the warnings' burst just before the deadline.
type warningsCheck struct {
	// Recorded counts the cases whose acknowledge warning is recorded: sent by
	// the case (deadline_warning) or written into the outbox (warning_scheduled,
	// code level 4 on).
	Recorded      int     `json:"recorded"`
	Emails        int     `json:"emails"`                        // keyed by a warning, in the ledger
	EmailsPending int     `json:"emails_pending"`                // of the herd, new or sending
	OutboxWaiting int     `json:"outbox_waiting"`                // of the herd, in the outbox and not delivered (due or not)
	QuietSeconds  float64 `json:"quiet_seconds_before_deadline"` // deadline - the last write about a warning
}

// herdWarningRatio puts the herd's warnings early in its clock, so that their own
// burst has drained before the deadline.
const herdWarningRatio = 0.1

// herdAck is the herd's acknowledge clock: at least minAck, and long enough for
// the warnings' burst to drain before the deadline, with a margin; whole seconds.
// A warning (an event, one staff email) costs less than an opening: 200 drained at
// 25/s where cases opened at 19/s (quick run, dev server), so 1.2x the time of
// opening as many cases is a safe estimate.
func herdAck(n int, intakeRate float64, minAck time.Duration) time.Duration {
	warnings := 1.2 * float64(n) / max(intakeRate, 1) / (1 - herdWarningRatio)
	return max(minAck, time.Duration(math.Ceil(warnings))*time.Second)
}

// herdOpenEstimate is how long opening n cases takes at the measured rate, with a
// margin.
func herdOpenEstimate(n int, intakeRate float64) time.Duration {
	return time.Duration(float64(n)/max(intakeRate, 1)*1.3*float64(time.Second)) + 3*time.Second
}

// planHerd picks the minute at which the herd calendar opens: the first whole
// minute after the API's restart and the opening of the herd, with a margin. The
// rest of that minute is what the jobs may fill (runPhases).
func planHerd(now time.Time, n int, intakeRate float64, ack time.Duration) herdCalendar {
	earliest := now.Add(10*time.Second + herdOpenEstimate(n, intakeRate))
	return herdCalendar{OpensAt: earliest.Truncate(time.Minute).Add(time.Minute), Ack: ack}
}

// openHerd opens the herd's cases at once (their clocks start when the calendar
// opens) and measures the worker's memory before and after.
func (b *bench) openHerd(ctx context.Context, h herdCalendar) (*burstResult, error) {
	k := b.cfg.BurstCases
	r := &burstResult{Cases: k, AckClock: h.Ack.String(), WarningRatio: herdWarningRatio,
		CalendarOpensAt: h.OpensAt, Deadline: h.OpensAt.Add(h.Ack)}
	before, err := b.sampleWorkerMemory(ctx)
	if err != nil {
		return r, err
	}
	began := time.Now()
	opened, err := b.openCases(ctx, "herd", k, b.cfg.Concurrency, policyHerd)
	if err != nil {
		return r, fmt.Errorf("open the herd: %w", err)
	}
	r.ids, r.OpenSeconds, r.OpensRetried = opened.ids, opened.recorded.Seconds(), opened.retried
	b.logf("burst: %d cases open in %s; calendar opens %s, deadline %s", k, opened.recorded.Round(time.Millisecond),
		h.OpensAt.Format(time.TimeOnly), r.Deadline.Format(time.TimeOnly))
	// The openings' emails (one to each customer) go on in the background: the quiet
	// windows start once they are settled (at the latest when the calendar opens).
	settled, err := b.waitMailSettled(ctx, r.ids, k, h.OpensAt.Add(-5*time.Second))
	if err != nil {
		return r, err
	}
	r.OpenSettledSeconds = time.Since(began).Seconds()
	if !settled {
		b.logf("burst: the openings' emails were not settled %s after the first POST", time.Since(began).Round(time.Second))
	}
	time.Sleep(2 * time.Second) // the SDK reports its gauges every second
	after, err := b.sampleWorkerMemory(ctx)
	if err != nil {
		return r, err
	}
	m := perCachedCase(before, after)
	r.Memory = &m
	b.heapProfile(ctx, phaseBurst)
	return r, nil
}

// drainHerd waits for the deadline, checks the warnings were over, then waits for
// every escalation to drain (or cfg.BurstWait) and reads the figures; with
// -pprof, the worker is profiled from the deadline to the end of the drain.
func (b *bench) drainHerd(ctx context.Context, r *burstResult) error {
	if wait := time.Until(r.Deadline.Add(-time.Second)); wait > 0 {
		b.logf("burst: waiting %s for the deadline", wait.Round(time.Second))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer b.profilePhase(ctx, phaseBurst, b.theWorker())()
	window, err := b.startWindow(ctx)
	if err != nil {
		return err
	}
	if r.Warnings, err = b.readWarnings(ctx, r); err != nil {
		return err
	}
	if !r.Warnings.over(r.Cases) {
		b.logf("burst: at the deadline, %d of %d warnings recorded, %d emails pending: the drain counts them",
			r.Warnings.Recorded, r.Cases, r.Warnings.EmailsPending)
	}
	records, drained, err := b.waitDrained(ctx, r.ids, r.Deadline.Add(b.cfg.BurstWait), 2*time.Second)
	if err != nil {
		return err
	}
	r.Drained = drained
	if !drained {
		b.logf("burst: not drained %s after the deadline (%s); the figures are lower bounds", b.cfg.BurstWait, progressOf(records))
	}
	r.summarizeRecords(records)
	r.CPU, r.Database = window.end(ctx, "burst")
	if r.WorkerPeakRSS, err = b.stack.Worker.PeakRSS(); err != nil {
		return err
	}
	r.APIPeakRSS, err = b.stack.API.PeakRSS()
	return err
}

// summarizeRecords computes the figures and curves from the records: lateness
// against each case's own deadline, the drain against the burst's instant.
func (r *burstResult) summarizeRecords(records []escalationRecord) {
	var late, recorded, drained, recordedAfter, drainedAfter []time.Duration
	var first, last time.Time
	r.Escalated, r.AtDeadline = len(records), 0
	for _, e := range records {
		late, recorded = append(late, e.At.Sub(e.Deadline)), append(recorded, e.RecordedAt.Sub(e.Deadline))
		drained = append(drained, e.Drained().Sub(e.Deadline))
		recordedAfter = append(recordedAfter, e.RecordedAt.Sub(r.Deadline))
		drainedAfter = append(drainedAfter, e.Drained().Sub(r.Deadline))
		if e.Deadline.Equal(r.Deadline) {
			r.AtDeadline++
		}
		if first.IsZero() || e.Deadline.Before(first) {
			first = e.Deadline
		}
		last = later(last, e.Deadline)
		r.EmailsPerCase = max(r.EmailsPerCase, e.Mails)
	}
	r.DeadlineSpread = ms(last.Sub(first))
	r.Lateness, r.RecordLateness, r.DrainLateness = summarize(late), summarize(recorded), summarize(drained)
	r.Curves = []drainCurve{newDrainCurve("cases: escalation recorded", recordedAfter, 200),
		newDrainCurve("cases: drained (emails settled)", drainedAfter, 200)}
	if len(records) > 0 {
		r.DrainSeconds, r.RecordedDrainSeconds = slices.Max(drainedAfter).Seconds(), slices.Max(recordedAfter).Seconds()
	}
	r.setBaseline(r.Baseline)
}

// setBaseline attaches the timer burst and computes the ratio.
func (r *burstResult) setBaseline(base *timerBurstResult) {
	r.Baseline = base
	if base == nil {
		return
	}
	r.DrainRatio = ratio(r.DrainSeconds, base.DrainSeconds)
	for _, c := range r.Curves {
		if c.Name == timerCurveName {
			return
		}
	}
	r.Curves = append(r.Curves, newDrainCurve(timerCurveName, base.closedAfter, 200))
}

const timerCurveName = "baseline: timer workflows completed"

// readWarnings reads the state of the warnings' burst.
func (b *bench) readWarnings(ctx context.Context, r *burstResult) (warningsCheck, error) {
	var w warningsCheck
	var lastWrite *time.Time
	err := b.stack.Store.Pool().QueryRow(ctx, `
		WITH w AS (SELECT case_id, seq, recorded_at FROM case_events WHERE case_id = ANY($1)
			AND (type = $2 OR (type = $3 AND details ->> 'clock' = $4))),
		m AS (SELECT n.state, n.updated_at FROM notifications n JOIN w ON n.case_id = w.case_id AND n.key LIKE '%/' || w.seq || '/%')
		SELECT (SELECT count(DISTINCT case_id) FROM w), (SELECT count(*) FROM m),
			(SELECT count(*) FROM notifications WHERE case_id = ANY($1) AND state IN ('new', 'sending')),
			(SELECT count(*) FROM outbox WHERE case_id = ANY($1) AND delivered_at IS NULL),
			greatest((SELECT max(recorded_at) FROM w), (SELECT max(updated_at) FROM m))`,
		r.ids, string(tierflow.EventWarning), string(tierflow.EventWarningScheduled), string(tierflow.ClockAcknowledge)).
		Scan(&w.Recorded, &w.Emails, &w.EmailsPending, &w.OutboxWaiting, &lastWrite)
	if err != nil {
		return w, fmt.Errorf("read the warnings: %w", err)
	}
	if lastWrite != nil {
		w.QuietSeconds = r.Deadline.Sub(*lastWrite).Seconds()
	}
	return w, nil
}

// over: every case warned, no email of the herd pending or waiting in the
// outbox (a warning written there waits for its instant).
func (w warningsCheck) over(cases int) bool {
	return w.Recorded >= cases && w.EmailsPending == 0 && w.OutboxWaiting == 0
}

// waitWarningsOver looks every second until the warnings' burst is over (and its
// counts held still for 2s: an email not yet claimed is not in the ledger) or
// until; it says whether it was over.
func (b *bench) waitWarningsOver(ctx context.Context, r *burstResult, until time.Time) (bool, error) {
	var last warningsCheck
	var overSince time.Time
	for time.Now().Before(until) {
		w, err := b.readWarnings(ctx, r)
		if err != nil {
			return false, err
		}
		switch {
		case !w.over(r.Cases):
			overSince = time.Time{}
		case overSince.IsZero() || w.Recorded != last.Recorded || w.Emails != last.Emails:
			overSince = time.Now()
		case time.Since(overSince) >= 2*time.Second:
			return true, nil
		}
		last = w
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return false, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
