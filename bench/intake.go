package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// intakeRun is one measurement of intake: the baseline, the cases, the baseline
// again, back to back.
type intakeRun struct {
	CaseSeconds             float64 `json:"case_seconds"`
	CasesPerSecond          float64 `json:"cases_per_second"`    // until every opening is in Postgres
	AcceptedPerSecond       float64 `json:"accepted_per_second"` // until every POST answered
	BaselineBeforePerSecond float64 `json:"baseline_before_workflows_per_second"`
	BaselineAfterPerSecond  float64 `json:"baseline_after_workflows_per_second"`
	BaselinePerSecond       float64 `json:"baseline_workflows_per_second"` // both sides together
	Ratio                   float64 `json:"ratio"`                         // cases/s over workflows/s
}

// intakeResult compares opening cases through the API with running the
// one-no-op-activity workflow on the same server, over several runs.
type intakeResult struct {
	Cases       int         `json:"cases"`
	Concurrency int         `json:"concurrency"`
	Runs        []intakeRun `json:"runs"`
	// Ratio, CasesPerSecond and BaselinePerSecond are the medians over the runs.
	Ratio             float64 `json:"ratio"`
	CasesPerSecond    float64 `json:"cases_per_second"`
	BaselinePerSecond float64 `json:"baseline_workflows_per_second"`
	// OpenLatency is POST /v1/cases over every run; RawStart the baseline's
	// StartWorkflowExecution calls over every run, from as many starters;
	// RawUpdateWithStart an Update-with-Start answered from the first workflow task.
	OpenLatency        latency `json:"open_latency"`
	RawStart           latency `json:"raw_start_latency"`
	RawUpdateWithStart latency `json:"raw_update_with_start_latency"`
	OpenP99Ratio       float64 `json:"open_p99_ratio"` // OpenLatency.P99 / RawStart.P99
	OpensRetried       int     `json:"opens_retried"`  // answered 503 or 429 and sent again (the time lost is in the sample)
	BaselineID         string  `json:"baseline_workflow_id"`

	openSample, startSample, uwsSample []time.Duration
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

// measureIntake warms both sides up, then measures cfg.IntakeRuns runs, then the
// Update-with-Start floor. The ratio is the median of the runs' ratios.
func (b *bench) measureIntake(ctx context.Context) (intakeResult, error) {
	n, conc := b.cfg.Cases, b.cfg.Concurrency
	r := intakeResult{Cases: n, Concurrency: conc}
	warm := min(conc, n)
	if _, err := b.runNoops(ctx, "warm", warm, conc); err != nil {
		return r, fmt.Errorf("baseline warm-up: %w", err)
	}
	if _, err := b.openCases(ctx, "warm", warm, conc, policyQuiet); err != nil {
		return r, fmt.Errorf("case warm-up: %w", err)
	}
	var ratios, cases, baselines []float64
	for run := range b.cfg.IntakeRuns {
		b.logf("intake run %d of %d", run+1, b.cfg.IntakeRuns)
		one, err := b.intakeRun(ctx, run, &r)
		if err != nil {
			return r, err
		}
		r.Runs = append(r.Runs, one)
		ratios, cases, baselines = append(ratios, one.Ratio), append(cases, one.CasesPerSecond), append(baselines, one.BaselinePerSecond)
	}
	r.Ratio, r.CasesPerSecond, r.BaselinePerSecond = median(ratios), median(cases), median(baselines)

	// The floor of an open that answers with a first state: one Update-with-Start
	// per workflow, answered from its first task, from as many callers.
	r.uwsSample = make([]time.Duration, n)
	if err := parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		id := fmt.Sprintf("bench-opened-%s-%d", b.runID, i)
		start := time.Now()
		op := b.stack.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: id, TaskQueue: baselineQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, openedName)
		h, err := b.stack.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
			UpdateOptions: client.UpdateWorkflowOptions{UpdateName: openUpdate, Args: []any{"open"},
				WaitForStage: client.WorkflowUpdateStageCompleted}})
		if err != nil {
			return fmt.Errorf("update-with-start %s: %w", id, err)
		}
		var first int
		if err := h.Get(ctx, &first); err != nil {
			return fmt.Errorf("update-with-start %s: %w", id, err)
		}
		r.uwsSample[i] = time.Since(start)
		return nil
	}); err != nil {
		return r, fmt.Errorf("raw update-with-start: %w", err)
	}
	r.OpenLatency, r.RawStart = summarize(r.openSample), summarize(r.startSample)
	r.RawUpdateWithStart = summarize(r.uwsSample)
	r.OpenP99Ratio = ratio(float64(r.OpenLatency.P99), float64(r.RawStart.P99))
	return r, nil
}

// startRate is how many workflow starts per second the baseline's starters made:
// concurrency over the mean start latency (100/s when none were timed).
func (r *intakeResult) startRate() float64 {
	var sum time.Duration
	for _, d := range r.startSample {
		sum += d
	}
	if len(r.startSample) == 0 || sum <= 0 {
		return fallbackStartRate
	}
	return float64(r.Concurrency) / (sum.Seconds() / float64(len(r.startSample)))
}

// intakeRun runs the baseline, the cases and the baseline again; the baseline
// counts as the mean of both sides, so that a drift in the machine's load weighs
// on both alike. It adds its latencies to r's samples.
func (b *bench) intakeRun(ctx context.Context, run int, r *intakeResult) (intakeRun, error) {
	n, conc := b.cfg.Cases, b.cfg.Concurrency
	var one intakeRun
	before, err := b.runNoops(ctx, fmt.Sprintf("in%d-a", run), n, conc)
	if err != nil {
		return one, fmt.Errorf("baseline: %w", err)
	}
	opened, err := b.openCases(ctx, fmt.Sprintf("in%d", run), n, conc, policyQuiet)
	if err != nil {
		return one, fmt.Errorf("cases: %w", err)
	}
	after, err := b.runNoops(ctx, fmt.Sprintf("in%d-b", run), n, conc)
	if err != nil {
		return one, fmt.Errorf("baseline: %w", err)
	}
	if r.BaselineID == "" {
		r.BaselineID = before.firstID
	}
	r.openSample = append(r.openSample, opened.latencies...)
	r.OpensRetried += opened.retried
	r.startSample = append(append(r.startSample, before.startLatencies...), after.startLatencies...)
	one.BaselineBeforePerSecond, one.BaselineAfterPerSecond = perSecond(n, before.took), perSecond(n, after.took)
	one.BaselinePerSecond = perSecond(2*n, before.took+after.took)
	one.CaseSeconds, one.CasesPerSecond = opened.recorded.Seconds(), perSecond(n, opened.recorded)
	one.AcceptedPerSecond = perSecond(n, opened.accepted)
	one.Ratio = ratio(one.CasesPerSecond, one.BaselinePerSecond)
	return one, nil
}

// noopRun is what runNoops measured.
type noopRun struct {
	took           time.Duration // until the last workflow completed
	startLatencies []time.Duration
	firstID        string
}

// runNoops starts n no-op workflows from conc starters while as many waiters
// collect their results.
func (b *bench) runNoops(ctx context.Context, tag string, n, conc int) (noopRun, error) {
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
	out := noopRun{startLatencies: make([]time.Duration, n)}
	t0 := time.Now()
	id := func(i int) string { return fmt.Sprintf("bench-noop-%s-%s-%d", b.runID, tag, i) }
	err := parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		start := time.Now()
		run, err := b.stack.Temporal.ExecuteWorkflow(ctx,
			client.StartWorkflowOptions{ID: id(i), TaskQueue: baselineQueue}, noopWorkflowName)
		if err != nil {
			return fmt.Errorf("start %s: %w", id(i), err)
		}
		out.startLatencies[i] = time.Since(start)
		started <- run
		return nil
	})
	if err != nil {
		return out, err // the waiters end with ctx
	}
	if err := <-waited; err != nil {
		return out, err
	}
	out.took, out.firstID = time.Since(t0), id(0)
	return out, nil
}

// openedCases is what openCases measured.
type openedCases struct {
	ids       []string
	latencies []time.Duration
	accepted  time.Duration // until the last POST answered
	recorded  time.Duration // until the last opening was in Postgres
	retried   int           // opens answered 503 or 429 and sent again
}

// openCases opens n cases through the API from conc clients and waits until every
// opening transition is recorded in Postgres (a row in cases).
func (b *bench) openCases(ctx context.Context, tag string, n, conc int, policy string) (openedCases, error) {
	o := openedCases{ids: make([]string, n), latencies: make([]time.Duration, n)}
	run := b.runID + tag
	t0 := time.Now()
	var retried atomic.Int64
	err := parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		start := time.Now()
		v, retries, err := b.api.openCase(ctx, benchCase(run, i, policy))
		retried.Add(int64(retries))
		if err != nil {
			return fmt.Errorf("open case %d: %w", i, err)
		}
		o.ids[i], o.latencies[i] = v.ID, time.Since(start)
		return nil
	})
	o.retried = int(retried.Load())
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
	every := 50 * time.Millisecond
	if len(ids) > 1000 {
		every = 250 * time.Millisecond // a large array per look: look less often
	}
	return b.pollCount(ctx, "cases recorded", len(ids), every,
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
