package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// timerBurstResult is the baseline of the burst: n no-op workflows whose timers
// fire at one instant, on the same server, drained to completion (each workflow's
// close event, as the server timed it).
type timerBurstResult struct {
	Workflows    int       `json:"workflows"`
	FireAt       time.Time `json:"fire_at"`
	StartSeconds float64   `json:"start_seconds"` // starting them all, before the instant
	// StartedLate counts workflows started after the instant (the estimate of the
	// start was short); their lateness is then partly their start's.
	StartedLate  int     `json:"started_late"`
	DrainSeconds float64 `json:"drain_seconds"` // the last close event - FireAt
	Lateness     latency `json:"lateness"`      // each close event - FireAt

	closedAfter []time.Duration
}

// timerBurstEstimate is how long starting a burst of n takes (twice what the
// intake's raw starts predict: each start also brings a workflow task), and from
// the first start to the last completion (the drain at 100 workflows/s, half what
// the dev server did in a quick run).
func timerBurstEstimate(n int, startRate float64) (start, total time.Duration) {
	start = time.Duration(2*float64(n)/max(startRate, 1)*float64(time.Second)) + 3*time.Second
	return start, start + time.Duration(n)*10*time.Millisecond + 5*time.Second
}

// runTimerBurst starts n timer workflows from cfg.Concurrency starters, all firing
// at one instant after the estimated end of their start, and waits for every close
// event.
func (b *bench) runTimerBurst(ctx context.Context, n int, startRate float64) (timerBurstResult, error) {
	startEstimate, _ := timerBurstEstimate(n, startRate)
	r := timerBurstResult{Workflows: n, FireAt: time.Now().Add(startEstimate).Truncate(time.Second).Add(2 * time.Second)}
	id := func(i int) string { return fmt.Sprintf("bench-timer-%s-%d", b.runID, i) }
	t0 := time.Now()
	late := make([]bool, n)
	if err := parallel(ctx, n, b.cfg.Concurrency, func(ctx context.Context, i int) error {
		if _, err := b.stack.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id(i), TaskQueue: baselineQueue},
			timerName, r.FireAt); err != nil {
			return fmt.Errorf("start %s: %w", id(i), err)
		}
		late[i] = time.Now().After(r.FireAt)
		return nil
	}); err != nil {
		return r, err
	}
	r.StartSeconds = time.Since(t0).Seconds()
	for _, l := range late {
		if l {
			r.StartedLate++
		}
	}
	b.logf("burst baseline: %d timer workflows started in %.1fs; they fire at %s", n, r.StartSeconds, r.FireAt.Format(time.TimeOnly))
	select {
	case <-time.After(time.Until(r.FireAt)):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	r.closedAfter = make([]time.Duration, n)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := parallel(waitCtx, n, 2*b.cfg.Concurrency, func(ctx context.Context, i int) error {
		closed, err := b.closeTime(ctx, id(i))
		r.closedAfter[i] = closed.Sub(r.FireAt)
		return err
	}); err != nil {
		return r, fmt.Errorf("wait for the timer workflows: %w", err)
	}
	r.Lateness = summarize(append([]time.Duration(nil), r.closedAfter...))
	r.DrainSeconds = float64(r.Lateness.Max) / 1000
	return r, nil
}

// closeTime long-polls the workflow's close event and returns its time.
func (b *bench) closeTime(ctx context.Context, id string) (time.Time, error) {
	iter := b.stack.RawTemporal.GetWorkflowHistory(ctx, id, "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	if !iter.HasNext() {
		return time.Time{}, fmt.Errorf("no close event for %s", id)
	}
	ev, err := iter.Next()
	if err != nil {
		return time.Time{}, fmt.Errorf("close event of %s: %w", id, err)
	}
	if ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		return time.Time{}, fmt.Errorf("%s closed as %s", id, ev.GetEventType())
	}
	return ev.GetEventTime().AsTime(), nil
}
