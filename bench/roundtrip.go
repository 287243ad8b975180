package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// roundTripResult compares a decision through the API (HTTP -> Update -> new state
// recorded -> answer) with a raw Update on a parked no-op workflow.
type roundTripResult struct {
	Decisions int     `json:"decisions"`
	Cases     int     `json:"cases"` // decisions go round robin over this many cases
	Decision  latency `json:"decision"`
	RawUpdate latency `json:"raw_update"`
	// RawUpdateActivity is a raw Update whose handler runs one no-op activity: the
	// part of a decision's cost that any handler running an activity pays.
	RawUpdateActivity latency `json:"raw_update_with_activity"`
	// RawUpdateLocalActivity is a raw Update whose handler runs one no-op local
	// activity: a decision's Temporal cost (its record is a local activity)
	// without the database and the API.
	RawUpdateLocalActivity latency `json:"raw_update_with_local_activity"`
	// Unavailable counts 503 answers (each retried with the same decision ID).
	Unavailable int    `json:"unavailable_answers"`
	DiffP50Ms   millis `json:"diff_p50_ms"`
	DiffP99Ms   millis `json:"diff_p99_ms"`
	// P99Ratio is Decision.P99 over RawUpdate.P99 (the goal's figure).
	P99Ratio float64 `json:"p99_ratio"`
	// Account is where the decisions' time went (means; roundtrip_account.go).
	Account *roundTripAccount `json:"account,omitempty"`

	decisionSample, rawSample, rawActivitySample, rawLocalSample []time.Duration
}

// measureRoundTrip times the decisions and the three raw Updates one call at a
// time, taking turns (decision i, raw i, raw+activity i, raw+local activity i,
// then i+1), after one untimed warm-up of each per case. Taking turns puts each
// kind of call in the same conditions: whatever the intake left behind (its
// emails, the database's clean-up of its rows) slows all four alike, so the
// ratio compares the calls, not the moments they ran at.
func (b *bench) measureRoundTrip(ctx context.Context) (roundTripResult, error) {
	m := b.cfg.Decisions
	spread := min(10, m)
	r := roundTripResult{Decisions: m, Cases: spread}

	opened, err := b.openCases(ctx, "rt", spread, spread, policyQuiet)
	if err != nil {
		return r, fmt.Errorf("open the decision cases: %w", err)
	}
	// A 503 (the case did not answer within the API's update timeout) is retried
	// with the same decision ID, as api.md tells clients to; it is counted, and the
	// time lost stays in the sample.
	note := func(ctx context.Context, i int) error {
		caseID := opened.ids[i%spread]
		for attempt := 1; ; attempt++ {
			start := time.Now()
			_, err := b.api.agent.Decide(ctx, caseID, tierflow.Decision{
				Action: tierflow.ActionNote, DecisionID: fmt.Sprintf("bench-note-%d", i),
				Text: fmt.Sprintf("benchmark note %d", i)})
			if attempt == 3 || !errors.Is(err, client.ErrUnavailable) {
				return err
			}
			r.Unavailable++
			b.logf("round trip: decision %d on %s answered 503 after %s; retrying. Worker lines about it:\n%s",
				i, caseID, time.Since(start).Round(time.Millisecond), grepLines(b.stack.Worker.Tail(5000), caseID, 20))
		}
	}

	parked := make([]string, spread)
	for i := range parked {
		parked[i] = fmt.Sprintf("bench-parked-%s-%d", b.runID, i)
		if _, err := b.stack.Temporal.ExecuteWorkflow(ctx,
			sdkclient.StartWorkflowOptions{ID: parked[i], TaskQueue: baselineQueue}, parkedName); err != nil {
			return r, fmt.Errorf("start a parked workflow: %w", err)
		}
	}
	defer func() {
		for _, id := range parked {
			_ = b.stack.Temporal.SignalWorkflow(context.WithoutCancel(ctx), id, "", stopSignal, nil)
		}
	}()
	poke := func(update string) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			h, err := b.stack.Temporal.UpdateWorkflow(ctx, sdkclient.UpdateWorkflowOptions{
				WorkflowID: parked[i%spread], UpdateName: update, UpdateID: fmt.Sprintf("%s-%d", update, i),
				Args: []any{fmt.Sprintf("benchmark note %d", i)}, WaitForStage: sdkclient.WorkflowUpdateStageCompleted,
			})
			if err != nil {
				return err
			}
			var pokes int
			return h.Get(ctx, &pokes)
		}
	}
	turns := []turn{
		{"note decisions", note},
		{"raw updates", poke(pokeUpdate)},
		{"raw updates with an activity", poke(pokeActivityUpdate)},
		{"raw updates with a local activity", poke(pokeLocalActivityUpdate)},
	}
	if err := warmTurns(ctx, spread, m, turns); err != nil {
		return r, err
	}
	// The worker's SDK metrics reach its /metrics once a second: the scrapes
	// wait that long after the last call before them.
	time.Sleep(1500 * time.Millisecond)
	before, err := b.scrapeAccount(ctx)
	if err != nil {
		return r, err
	}
	samples, err := timeTurns(ctx, m, turns)
	if err != nil {
		return r, err
	}
	time.Sleep(1500 * time.Millisecond)
	after, err := b.scrapeAccount(ctx)
	if err != nil {
		return r, err
	}
	account := accountFor(before, after, samples[0], samples[1], samples[3])
	r.Account = &account
	r.decisionSample, r.rawSample, r.rawActivitySample, r.rawLocalSample = samples[0], samples[1], samples[2], samples[3]
	r.Decision, r.RawUpdate = summarize(r.decisionSample), summarize(r.rawSample)
	r.RawUpdateActivity = summarize(r.rawActivitySample)
	r.RawUpdateLocalActivity = summarize(r.rawLocalSample)
	r.DiffP50Ms, r.DiffP99Ms = r.Decision.P50-r.RawUpdate.P50, r.Decision.P99-r.RawUpdate.P99
	r.P99Ratio = ratio(float64(r.Decision.P99), float64(r.RawUpdate.P99))
	return r, nil
}

// turn is one kind of timed call.
type turn struct {
	name string
	call func(ctx context.Context, i int) error
}

// warmTurns calls each turn warm times, untimed, with i from m up (before
// timeTurns; the round trip reads the metrics between the two).
func warmTurns(ctx context.Context, warm, m int, turns []turn) error {
	for _, t := range turns {
		for i := range warm {
			if err := t.call(ctx, m+i); err != nil {
				return fmt.Errorf("%s: warm-up: %w", t.name, err)
			}
		}
	}
	return nil
}

// timeTurns runs m rounds in which each turn is called once with i and timed,
// one call at a time; it returns each turn's m durations, in the order of turns.
func timeTurns(ctx context.Context, m int, turns []turn) ([][]time.Duration, error) {
	samples := make([][]time.Duration, len(turns))
	for k := range samples {
		samples[k] = make([]time.Duration, 0, m)
	}
	for i := range m {
		for k, t := range turns {
			start := time.Now()
			if err := t.call(ctx, i); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			samples[k] = append(samples[k], time.Since(start))
		}
	}
	return samples, nil
}

// grepLines is the last n lines of text that contain s.
func grepLines(text, s string, n int) string {
	var hits []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			hits = append(hits, line)
		}
	}
	return strings.Join(hits[max(0, len(hits)-n):], "\n")
}
