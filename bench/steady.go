package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tierflow/tierflow/workflows"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// steadyResult: deadlines falling at a steady rate for a while (issue 10: at half
// the measured intake capacity, for 10 minutes). The cases open beforehand (the
// pre-open), as fast as the API takes them, each under the steady policy whose
// clock puts its tier 1 acknowledge deadline at its target instant (steadyPlan),
// so that during the window the server handles only the deadlines: the
// escalations, and the warnings (at 3/4 of each clock) that fall in it. Lateness
// is against each case's own deadline.
type steadyResult struct {
	Seconds     float64   `json:"seconds"` // the window: how long deadlines fell
	WindowStart time.Time `json:"window_start"`
	// AckClock is the steady policies' tier 1 acknowledge clocks (steadyPlan.clockRange).
	AckClock      string  `json:"ack_clock"`
	RatePerSecond float64 `json:"rate_per_second"` // the target: half the intake's cases/s
	// DeadlinesPerSecond is the rate achieved: the cases' actual deadlines in the
	// window (DeadlinesInWindow) per second of it. OffTarget is how far each
	// deadline fell from its target instant, either way.
	DeadlinesPerSecond float64 `json:"deadlines_per_second"`
	DeadlinesInWindow  int     `json:"deadlines_in_window"`
	OffTarget          latency `json:"deadline_off_target"`
	// The pre-open: PreOpenSeconds from the first POST until every opening was
	// recorded, OpenedPerSecond the cases opened over it.
	PreOpenSeconds  float64 `json:"pre_open_seconds"`
	OpenedPerSecond float64 `json:"opened_per_second"`
	Cases           int     `json:"cases"`
	// OpenLag is how late each POST was for its target (steadyPlan.lateBy): zero
	// unless the pre-open fell behind; LateOpens counts the late ones.
	OpenLag      latency `json:"open_lag"`
	LateOpens    int     `json:"late_opens"`
	OpensRetried int     `json:"opens_retried"` // answered 503 or 429 and sent again
	OpensFailed  int     `json:"opens_failed"`  // still 503 or 429 after the retries: not opened
	// Warnings counts the cases' warning events, WarningsInWindow those that fell
	// in the window (the others fell before it, or after the last deadline).
	Warnings         int `json:"warnings"`
	WarningsInWindow int `json:"warnings_in_window"`
	Escalated        int `json:"escalated"`
	// Missing cases had not escalated when the wait ended: their lateness counts
	// as the wait's end minus their planned deadline (POST sent + clock), a lower
	// bound.
	Missing        int     `json:"missing"`
	Drained        bool    `json:"drained"`
	Lateness       latency `json:"lateness"`        // escalated event's at (workflow time) - deadline
	RecordLateness latency `json:"record_lateness"` // escalated event's recorded_at - deadline: the figure of the last line
	DrainLateness  latency `json:"drain_lateness"`  // drained (emails settled) - deadline
	EmailsPerCase  int     `json:"emails_per_escalation"`
	// OverTime is RecordLateness in buckets of BucketSeconds, by when the deadline
	// fell (seconds after the window opened).
	BucketSeconds float64       `json:"bucket_seconds"`
	OverTime      []bucketPoint `json:"over_time"`
	// CPU is where the machine's CPU went from the window's start (the pre-open's
	// end, if it ran later) to the last escalation.
	CPU *machineCPU `json:"machine_cpu,omitempty"`
	// Slowest is the history of the case recorded latest after its deadline,
	// each event timed from that deadline: where the time went.
	Slowest []timelineStep `json:"slowest,omitempty"`
}

// slowestEscalation is the record whose escalation was recorded latest after
// its deadline.
func slowestEscalation(records []escalationRecord) (escalationRecord, bool) {
	var worst escalationRecord
	for i, e := range records {
		if i == 0 || e.RecordedAt.Sub(e.Deadline) > worst.RecordedAt.Sub(worst.Deadline) {
			worst = e
		}
	}
	return worst, len(records) > 0
}

// tail is the last n steps (all of them when fewer).
func tail(steps []timelineStep, n int) []timelineStep {
	return steps[max(0, len(steps)-n):]
}

// steadyBucket is the width of the lateness-over-time buckets: about 60 of them.
func steadyBucket(d time.Duration) float64 {
	return max(1, math.Round(d.Seconds()/60))
}

// steadyPhase plans deadlines at rate for cfg.SteadyFor, writes the plan's
// policies, restarts the API with them (it reads its policies at start) and
// measures. The pre-open's duration is estimated from the intake's rate.
func (b *bench) steadyPhase(ctx context.Context, policyDir string, rate, intakeRate float64) (steadyResult, error) {
	window, margin := b.cfg.SteadyFor, b.cfg.SteadyGap
	n := steadyCases(rate, window)
	if n < 1 {
		return steadyResult{}, fmt.Errorf("%.3f deadlines/s for %s is not one deadline", rate, window)
	}
	estimate := herdOpenEstimate(n, intakeRate)
	clocks, _ := steadyClocks(window, margin, estimate)
	files, err := writeSteadyPolicies(policyDir, clocks)
	if err != nil {
		return steadyResult{}, err
	}
	policies := append(slices.Clone(b.apiPolicies), files...)
	if err := b.stack.RestartAPI(ctx, map[string]string{"TIERFLOW_POLICY_FILES": strings.Join(policies, ",")}); err != nil {
		return steadyResult{}, err
	}
	b.apiPolicies = policies
	plan := planSteady(time.Now(), rate, window, margin, estimate)
	b.logf("steady: %d cases open now (about %s at %.1f/s); their deadlines fall at %.1f/s from %s for %s; clocks %s",
		n, estimate.Round(time.Second), intakeRate, rate, plan.Start.Format(time.TimeOnly), window, plan.clockRange())
	return b.measureSteady(ctx, plan)
}

// measureSteady opens the plan's cases, waits for the window, and from its start
// waits for their escalations and reads the lateness; with -pprof, the worker is
// profiled from the window's start to the last escalation.
func (b *bench) measureSteady(ctx context.Context, plan steadyPlan) (steadyResult, error) {
	r := steadyResult{Seconds: plan.Window.Seconds(), WindowStart: plan.Start, AckClock: plan.clockRange(),
		RatePerSecond: plan.Rate, BucketSeconds: steadyBucket(plan.Window)}
	opens, err := b.preOpen(ctx, plan)
	if err != nil {
		return r, fmt.Errorf("open the cases beforehand: %w", err)
	}
	r.Cases, r.OpensRetried, r.OpensFailed = len(opens.ids), opens.retried, opens.failed
	r.PreOpenSeconds, r.OpenedPerSecond = opens.took.Seconds(), perSecond(r.Cases, opens.took)
	r.OpenLag = summarize(slices.Clone(opens.lag))
	for _, l := range opens.lag {
		if l > 0 {
			r.LateOpens++
		}
	}
	if wait := time.Until(plan.Start); wait > 0 {
		b.logf("steady: %d cases opened in %s (%.1f/s); the window opens in %s", r.Cases, opens.took.Round(time.Second),
			r.OpenedPerSecond, wait.Round(time.Second))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return r, ctx.Err()
		}
	} else {
		b.logf("steady: %d cases opened in %s (%.1f/s), %s after the window opened; %d POSTs too late for their target",
			r.Cases, opens.took.Round(time.Second), r.OpenedPerSecond, (-wait).Round(time.Second), r.LateOpens)
	}
	cpu0, cpuErr := takeCPUSnapshot()
	stopProfile := b.profilePhase(ctx, phaseSteady, b.theWorker())
	until := opens.lastDeadline.Add(max(2*time.Minute, plan.Window/2))
	b.logf("steady: waiting for the escalations (at most until %s)", until.Format(time.TimeOnly))
	records, drained, err := b.waitDrained(ctx, opens.ids, until, 2*time.Second)
	stopProfile()
	if err != nil {
		return r, err
	}
	if cpuErr == nil {
		if cpu, err := cpuSince(cpu0); err == nil {
			r.CPU = &cpu
			b.logf("steady: %s", cpu)
		}
	}
	r.Drained = drained
	r.summarizeRecords(plan, opens, records, time.Now())
	if slowest, ok := slowestEscalation(records); ok {
		steps, err := b.slowestTimeline(ctx, workflows.WorkflowID(slowest.CaseID), slowest.Deadline)
		if err != nil {
			b.logf("steady: the slowest escalation's history: %v", err)
		}
		r.Slowest = steps
		b.logf("steady: the slowest escalation (case %s, recorded %s after its deadline), its history from the deadline: %s",
			slowest.CaseID, slowest.RecordedAt.Sub(slowest.Deadline).Round(time.Millisecond), formatTimeline(tail(steps, 14)))
	}
	if r.Warnings, r.WarningsInWindow, err = b.countWarnings(ctx, opens.ids, plan.Start, plan.Start.Add(plan.Window)); err != nil {
		return r, err
	}
	return r, nil
}

// summarizeRecords computes the figures from the escalation records of the cases
// opened; a case without one counts with end as its escalation (a lower bound)
// and its planned deadline.
func (r *steadyResult) summarizeRecords(plan steadyPlan, opens steadyOpens, records []escalationRecord, end time.Time) {
	var late, recorded, drainedLate, offTarget []time.Duration
	var byDeadline []timedSample
	var deadlines []time.Time
	at := make(map[string]int, len(opens.ids))
	for k, id := range opens.ids {
		at[id] = k
	}
	r.Escalated, r.Missing, r.EmailsPerCase = len(records), 0, 0
	seen := make([]bool, len(opens.ids))
	for _, e := range records {
		k := at[e.CaseID]
		seen[k] = true
		late, recorded = append(late, e.At.Sub(e.Deadline)), append(recorded, e.RecordedAt.Sub(e.Deadline))
		drainedLate = append(drainedLate, e.Drained().Sub(e.Deadline))
		offTarget = append(offTarget, e.Deadline.Sub(plan.target(opens.index[k])).Abs())
		deadlines = append(deadlines, e.Deadline)
		byDeadline = append(byDeadline, timedSample{At: e.Deadline.Sub(plan.Start).Seconds(), Value: e.RecordedAt.Sub(e.Deadline)})
		r.EmailsPerCase = max(r.EmailsPerCase, e.Mails)
	}
	for k := range opens.ids {
		if seen[k] {
			continue
		}
		r.Missing++
		deadline := opens.sent[k].Add(opens.clock[k])
		recorded, drainedLate = append(recorded, end.Sub(deadline)), append(drainedLate, end.Sub(deadline))
		deadlines = append(deadlines, deadline)
		byDeadline = append(byDeadline, timedSample{At: deadline.Sub(plan.Start).Seconds(), Value: end.Sub(deadline)})
	}
	r.DeadlinesInWindow = plan.inWindow(deadlines)
	r.DeadlinesPerSecond = perSecond(r.DeadlinesInWindow, plan.Window)
	r.OffTarget = summarize(offTarget)
	r.Lateness, r.RecordLateness, r.DrainLateness = summarize(late), summarize(recorded), summarize(drainedLate)
	r.OverTime = overTime(byDeadline, r.BucketSeconds)
}

// steadyOpens is what the pre-open opened, in the plan's order; a case still
// refused after the retries is left out (counted in failed).
type steadyOpens struct {
	ids   []string
	index []int           // each case's index in the plan (its target)
	sent  []time.Time     // when its POST was sent
	clock []time.Duration // the clock it picked then
	lag   []time.Duration // how late its POST was for its target
	// lastDeadline is the latest planned deadline (sent + clock).
	lastDeadline    time.Time
	took            time.Duration // from the first POST until every opening was recorded
	retried, failed int
}

// preOpen opens the plan's cases from cfg.Concurrency clients, as fast as the API
// takes them, each under the policy whose clock puts its deadline nearest its
// target given when its POST is sent; then waits until every opening is recorded.
func (b *bench) preOpen(ctx context.Context, plan steadyPlan) (steadyOpens, error) {
	n := plan.Cases
	ids, sent := make([]string, n), make([]time.Time, n)
	clock, lag := make([]time.Duration, n), make([]time.Duration, n)
	var retried, failed atomic.Int64
	run := b.runID + "steady"
	t0 := time.Now()
	err := parallel(ctx, n, b.cfg.Concurrency, func(ctx context.Context, i int) error {
		sent[i] = time.Now()
		clock[i], lag[i] = plan.Clocks[plan.clockFor(sent[i], i)], plan.lateBy(sent[i], i)
		v, retries, err := b.api.openCase(ctx, benchCase(run, i, steadyPolicyName(clock[i])))
		retried.Add(int64(retries))
		switch {
		case err == nil:
			ids[i] = v.ID
		case client.IsUnavailable(err):
			failed.Add(1) // an overloaded product is a finding: counted, not fatal
		default:
			return fmt.Errorf("open case %d: %w", i, err)
		}
		return nil
	})
	o := steadyOpens{retried: int(retried.Load()), failed: int(failed.Load())}
	if err != nil {
		return o, err
	}
	for i, id := range ids {
		if id == "" {
			continue
		}
		o.ids, o.index, o.sent = append(o.ids, id), append(o.index, i), append(o.sent, sent[i])
		o.clock, o.lag = append(o.clock, clock[i]), append(o.lag, lag[i])
		o.lastDeadline = later(o.lastDeadline, sent[i].Add(clock[i]))
	}
	if err := b.waitRecorded(ctx, o.ids); err != nil {
		return o, err
	}
	o.took = time.Since(t0)
	return o, nil
}

// countWarnings counts the warning events of the cases ids, and those whose time
// (the workflow's clock) fell in [from, to).
func (b *bench) countWarnings(ctx context.Context, ids []string, from, to time.Time) (all, inside int, err error) {
	err = b.stack.Store.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE at >= $3 AND at < $4)
		FROM case_events WHERE case_id = ANY($1) AND type = $2`, ids, string(tierflow.EventWarning), from, to).Scan(&all, &inside)
	if err != nil {
		return 0, 0, fmt.Errorf("count the warnings: %w", err)
	}
	return all, inside, nil
}
