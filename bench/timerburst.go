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
	// Slowest is the history of the workflow that closed last, each event timed
	// from FireAt: where the drain's tail spent its time.
	Slowest []timelineStep `json:"slowest,omitempty"`
	// Unarmed counts the workflows whose first workflow task had not run at the
	// instant; Attempt is the attempt these figures are from (see runTimerBurst).
	Unarmed int `json:"unarmed"`
	Attempt int `json:"attempt"`
	// CPU and Database: as burstResult's, from the instant to the last close.
	CPU      *machineCPU      `json:"machine_cpu,omitempty"`
	Database *databaseProfile `json:"database,omitempty"`

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

// runTimerBurst measures the burst's baseline: n timer workflows armed before one
// instant, drained to completion. A workflow whose first workflow task had not run
// by the instant is not a timer firing at the instant: its lateness is the wait of
// that task in the task queue (seen: a first task stranded in a task-queue
// partition until the pollers' 60 s long poll expired, a 61 s "drain" for 200
// timers). Such a burst is run once more with fresh workflows; the second
// attempt's figures are kept, with the count of the unarmed ones.
func (b *bench) runTimerBurst(ctx context.Context, n int, startRate float64) (timerBurstResult, error) {
	var r timerBurstResult
	var err error
	for attempt := 1; attempt <= timerBurstAttempts; attempt++ {
		if r, err = b.timerBurstOnce(ctx, n, startRate, attempt); err != nil || r.Unarmed == 0 {
			return r, err
		}
		b.logf("burst baseline: %d of %d timers not armed at the instant (attempt %d): %s", r.Unarmed, n, attempt, formatTimeline(r.Slowest))
	}
	return r, nil
}

const timerBurstAttempts = 2

func (b *bench) timerBurstOnce(ctx context.Context, n int, startRate float64, attempt int) (timerBurstResult, error) {
	startEstimate, _ := timerBurstEstimate(n, startRate)
	r := timerBurstResult{Workflows: n, Attempt: attempt,
		FireAt: time.Now().Add(startEstimate).Truncate(time.Second).Add(2 * time.Second)}
	id := func(i int) string { return fmt.Sprintf("bench-timer-%s-%d-%d", b.runID, attempt, i) }
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
	unarmed, err := b.waitArmed(ctx, n, id, r.FireAt)
	if err != nil {
		return r, err
	}
	r.Unarmed = len(unarmed)
	select {
	case <-time.After(time.Until(r.FireAt)):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	window, err := b.startWindow(ctx)
	if err != nil {
		return r, err
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
	r.CPU, r.Database = window.end(ctx, "burst baseline")
	r.Lateness = summarize(append([]time.Duration(nil), r.closedAfter...))
	r.DrainSeconds = float64(r.Lateness.Max) / 1000
	slowest := 0
	for i, d := range r.closedAfter {
		if d > r.closedAfter[slowest] {
			slowest = i
		}
	}
	if r.Slowest, err = b.slowestTimeline(ctx, id(slowest), r.FireAt); err != nil {
		return r, err
	}
	b.logf("burst baseline: drained in %.1fs; the last one: %s", r.DrainSeconds, formatTimeline(r.Slowest))
	return r, nil
}

// waitArmed waits until every timer workflow has run its first workflow task (its
// timer is started: no workflow task pending), or until the instant; it returns
// the indexes of those still unarmed then.
func (b *bench) waitArmed(ctx context.Context, n int, id func(int) string, fireAt time.Time) ([]int, error) {
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	for {
		armed := make([]bool, len(pending))
		if err := parallel(ctx, len(pending), b.cfg.Concurrency, func(ctx context.Context, k int) error {
			d, err := b.stack.RawTemporal.DescribeWorkflowExecution(ctx, id(pending[k]), "")
			if err != nil {
				return fmt.Errorf("describe %s: %w", id(pending[k]), err)
			}
			armed[k] = d.GetPendingWorkflowTask() == nil
			return nil
		}); err != nil {
			return pending, err
		}
		pending = unarmedOnly(pending, armed)
		if len(pending) == 0 || time.Until(fireAt) < armPollInterval {
			return pending, nil
		}
		select {
		case <-time.After(armPollInterval):
		case <-ctx.Done():
			return pending, ctx.Err()
		}
	}
}

const armPollInterval = 250 * time.Millisecond

// unarmedOnly keeps the workflows of pending whose armed flag is false.
func unarmedOnly(pending []int, armed []bool) []int {
	var left []int
	for k, i := range pending {
		if !armed[k] {
			left = append(left, i)
		}
	}
	return left
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
