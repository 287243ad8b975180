package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// throughputResult compares opening cases through the API with running the
// one-no-op-activity workflow on the same server.
type throughputResult struct {
	Cases                   int     `json:"cases"`
	Concurrency             int     `json:"concurrency"`
	CaseSeconds             float64 `json:"case_seconds"`
	CasesPerSecond          float64 `json:"cases_per_second"`    // until every opening is in Postgres
	AcceptedPerSecond       float64 `json:"accepted_per_second"` // until every POST answered
	OpenLatency             latency `json:"open_latency"`        // POST /v1/cases
	BaselineSeconds         float64 `json:"baseline_seconds"`
	BaselinePerSecond       float64 `json:"baseline_workflows_per_second"` // until every workflow completed; before and after the cases
	BaselineBeforePerSecond float64 `json:"baseline_before_workflows_per_second"`
	BaselineAfterPerSecond  float64 `json:"baseline_after_workflows_per_second"`
	Ratio                   float64 `json:"ratio"`                // cases/s over workflows/s
	BaselineID              string  `json:"baseline_workflow_id"` // one of them, for the history phase
}

// parallel runs job(0..n-1) on conc goroutines and returns the first error.
func parallel(ctx context.Context, n, conc int, job func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for i := range next {
				if err := job(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// measureThroughput runs the baseline, the cases and the baseline again, after a
// small warm-up of each.
func (b *bench) measureThroughput(ctx context.Context) (throughputResult, error) {
	n, conc := b.cfg.Cases, b.cfg.Concurrency
	r := throughputResult{Cases: n, Concurrency: conc}
	warm := min(conc, n)
	if _, _, err := b.runNoops(ctx, "warm", warm, conc); err != nil {
		return r, fmt.Errorf("baseline warm-up: %w", err)
	}
	if _, err := b.openCases(ctx, "warm", warm, conc, policyQuiet); err != nil {
		return r, fmt.Errorf("case warm-up: %w", err)
	}

	// The baseline runs before and after the cases and counts as their mean, so
	// that a drift in the machine's load weighs on both sides alike.
	before, firstID, err := b.runNoops(ctx, "tput-a", n, conc)
	if err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	opened, err := b.openCases(ctx, "tput", n, conc, policyQuiet)
	if err != nil {
		return r, fmt.Errorf("cases: %w", err)
	}
	after, _, err := b.runNoops(ctx, "tput-b", n, conc)
	if err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	r.BaselineBeforePerSecond, r.BaselineAfterPerSecond = perSecond(n, before), perSecond(n, after)
	r.BaselineSeconds = (before + after).Seconds() / 2
	r.BaselinePerSecond, r.BaselineID = perSecond(2*n, before+after), firstID

	r.CaseSeconds, r.CasesPerSecond = opened.recorded.Seconds(), perSecond(n, opened.recorded)
	r.AcceptedPerSecond, r.OpenLatency = perSecond(n, opened.accepted), summarize(opened.latencies)
	if r.BaselinePerSecond > 0 {
		r.Ratio = r.CasesPerSecond / r.BaselinePerSecond
	}
	return r, nil
}

// runNoops starts n no-op workflows from conc starters while as many waiters
// collect their results; it returns the time until the last completed.
func (b *bench) runNoops(ctx context.Context, tag string, n, conc int) (time.Duration, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the waiters when a start failed
	started := make(chan client.WorkflowRun, n)
	waited := make(chan error, 1)
	go func() {
		waited <- parallel(ctx, n, 2*conc, func(ctx context.Context, _ int) error {
			select {
			case run := <-started:
				return run.Get(ctx, nil)
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t0 := time.Now()
	id := func(i int) string { return fmt.Sprintf("bench-noop-%s-%s-%d", b.runID, tag, i) }
	err := parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		run, err := b.stack.Temporal.ExecuteWorkflow(ctx,
			client.StartWorkflowOptions{ID: id(i), TaskQueue: baselineQueue}, noopWorkflowName)
		if err != nil {
			return fmt.Errorf("start %s: %w", id(i), err)
		}
		started <- run
		return nil
	})
	if err != nil {
		return 0, "", err // the waiters end with ctx
	}
	if err := <-waited; err != nil {
		return 0, "", err
	}
	return time.Since(t0), id(0), nil
}

// openedCases is what openCases measured.
type openedCases struct {
	ids       []string
	latencies []time.Duration
	accepted  time.Duration // until the last POST answered
	recorded  time.Duration // until the last opening was in Postgres
	opened    []time.Time   // when each POST answered
}

// openCases opens n cases through the API from conc clients and waits until every
// opening transition is recorded in Postgres (a row in cases).
func (b *bench) openCases(ctx context.Context, tag string, n, conc int, policy string) (openedCases, error) {
	o := openedCases{ids: make([]string, n), latencies: make([]time.Duration, n), opened: make([]time.Time, n)}
	run := b.runID + tag
	t0 := time.Now()
	err := parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		start := time.Now()
		v, _, err := b.api.integration.OpenCase(ctx, benchCase(run, i, policy))
		if err != nil {
			return err
		}
		o.opened[i] = time.Now()
		o.ids[i], o.latencies[i] = v.ID, o.opened[i].Sub(start)
		return nil
	})
	if err != nil {
		return o, err
	}
	o.accepted = time.Since(t0)
	if err := b.waitRecorded(ctx, o.ids); err != nil {
		return o, err
	}
	o.recorded = time.Since(t0)
	return o, nil
}

// waitRecorded polls Postgres until every case of ids has its row in cases.
func (b *bench) waitRecorded(ctx context.Context, ids []string) error {
	return b.pollCount(ctx, "cases recorded", len(ids), 50*time.Millisecond,
		`SELECT count(*) FROM cases WHERE id = ANY($1)`, ids)
}

// pollCount runs a count query until it reaches want or ctx ends.
func (b *bench) pollCount(ctx context.Context, what string, want int, every time.Duration, sql string, args ...any) error {
	var got int
	for {
		if err := b.stack.Store.Pool().QueryRow(ctx, sql, args...).Scan(&got); err != nil {
			return fmt.Errorf("count %s: %w", what, err)
		}
		if got >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %d of %d: %w", what, got, want, ctx.Err())
		case <-time.After(every):
		}
	}
}
