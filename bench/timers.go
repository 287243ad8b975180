package main

import (
	"context"
	"fmt"
	"math"
	"time"
)

// timerResult is the lateness of the automatic escalations of a herd of cases
// whose tier 1 acknowledge deadlines fall at one instant.
type timerResult struct {
	Cases           int       `json:"cases"`
	AckClock        string    `json:"ack_clock"`
	CalendarOpensAt time.Time `json:"calendar_opens_at"`
	Deadline        time.Time `json:"deadline"` // CalendarOpensAt + AckClock
	OpenSeconds     float64   `json:"open_seconds"`
	// AtDeadline counts the cases whose deadline is exactly Deadline; the others were
	// opened after the calendar opened, so their clock started later.
	AtDeadline     int     `json:"at_deadline"`
	DeadlineSpread millis  `json:"deadline_spread_ms"`
	Escalated      int     `json:"escalated"`
	Lateness       latency `json:"lateness"`        // escalated event's at (workflow time) - deadline
	RecordLateness latency `json:"record_lateness"` // escalated event's recorded_at (Postgres) - deadline
	WorkerPeakRSS  int64   `json:"worker_peak_rss_bytes"`
	APIPeakRSS     int64   `json:"api_peak_rss_bytes"` // the API that opened the herd
}

// planHerd picks the minute at which the herd calendar opens: the first after the
// API restart and the opening of every herd case at the rate the throughput phase
// measured, with a margin. It returns that opening's estimated duration too.
func (b *bench) planHerd(rate float64) (herdCalendar, time.Duration) {
	open := time.Duration(float64(b.cfg.TimerCases)/math.Max(rate, 1)*1.3*float64(time.Second)) + 3*time.Second
	earliest := time.Now().Add(5*time.Second + open)
	opensAt := earliest.Truncate(time.Minute).Add(time.Minute)
	return herdCalendar{OpensAt: opensAt, Ack: b.cfg.TimerAck}, open
}

// measureTimers opens the herd so that its opening ends just before the calendar
// opens, waits for every automatic escalation and reads the lateness from the
// audit log.
func (b *bench) measureTimers(ctx context.Context, h herdCalendar, openEstimate time.Duration) (timerResult, error) {
	k := b.cfg.TimerCases
	r := timerResult{Cases: k, AckClock: h.Ack.String(), CalendarOpensAt: h.OpensAt, Deadline: h.OpensAt.Add(h.Ack)}
	if wait := time.Until(h.OpensAt.Add(-openEstimate)); wait > 0 {
		b.logf("timers: opening %d cases in %s (calendar opens at %s)", k, wait.Round(time.Second), h.OpensAt.Format(time.TimeOnly))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
	opened, err := b.openCases(ctx, "herd", k, b.cfg.Concurrency, policyHerd)
	if err != nil {
		return r, fmt.Errorf("open the herd: %w", err)
	}
	r.OpenSeconds = opened.recorded.Seconds()
	b.logf("timers: %d cases open in %s; deadline %s", k, opened.recorded.Round(time.Millisecond), r.Deadline.Format(time.TimeOnly))

	waitCtx, cancel := context.WithDeadline(ctx, r.Deadline.Add(10*time.Minute))
	defer cancel()
	if err := b.pollCount(waitCtx, "automatic escalations", k, 250*time.Millisecond,
		`SELECT count(*) FROM case_events WHERE case_id = ANY($1) AND type = 'escalated' AND details->>'mode' = 'automatic'`,
		opened.ids); err != nil {
		return r, err
	}
	if err := b.readLateness(ctx, opened.ids, &r); err != nil {
		return r, err
	}
	if r.WorkerPeakRSS, err = b.stack.Worker.PeakRSS(); err != nil {
		return r, err
	}
	r.APIPeakRSS, err = b.stack.API.PeakRSS()
	return r, err
}

// readLateness compares each case's first automatic escalation with its tier 1
// acknowledge deadline, as the case recorded it (its breach's instant).
func (b *bench) readLateness(ctx context.Context, ids []string, r *timerResult) error {
	rows, err := b.stack.Store.Pool().Query(ctx, `
		SELECT (br->>'at')::timestamptz, e.at, e.recorded_at
		FROM cases c
		CROSS JOIN LATERAL (SELECT b AS br FROM jsonb_array_elements(c.view->'breaches') b
			WHERE b->>'clock' = 'acknowledge' AND (b->>'tier')::int = 1 LIMIT 1) first_breach
		JOIN LATERAL (SELECT at, recorded_at FROM case_events
			WHERE case_id = c.id AND type = 'escalated' AND details->>'mode' = 'automatic'
			ORDER BY seq LIMIT 1) e ON true
		WHERE c.id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read escalations: %w", err)
	}
	defer rows.Close()
	var late, recorded []time.Duration
	var first, last time.Time
	for rows.Next() {
		var deadline, at, recordedAt time.Time
		if err := rows.Scan(&deadline, &at, &recordedAt); err != nil {
			return fmt.Errorf("read escalations: %w", err)
		}
		late, recorded = append(late, at.Sub(deadline)), append(recorded, recordedAt.Sub(deadline))
		if deadline.Equal(r.Deadline) {
			r.AtDeadline++
		}
		if first.IsZero() || deadline.Before(first) {
			first = deadline
		}
		if deadline.After(last) {
			last = deadline
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read escalations: %w", err)
	}
	r.Escalated, r.DeadlineSpread = len(late), ms(last.Sub(first))
	r.Lateness, r.RecordLateness = summarize(late), summarize(recorded)
	if r.Escalated != len(ids) {
		return fmt.Errorf("found %d of %d escalations with their breach", r.Escalated, len(ids))
	}
	return nil
}
