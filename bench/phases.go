package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tierflow/tierflow/internal/stack"
)

// Rates assumed when the intake phase does not run (-phases): they size the
// burst's plan and the steady rate.
const (
	fallbackIntakeRate = 20.0  // cases/s
	fallbackStartRate  = 100.0 // workflow starts/s
)

// job is a measurement that may run while the burst's cases wait for their
// calendar: it does not disturb them, nor they it (they are idle).
type job struct {
	name     string
	estimate time.Duration
	run      func() error
}

// runPhases measures in the order that keeps each figure undisturbed:
//   - intake, on a quiet server: its rates size what follows;
//   - the round trip, on the same quiet server (the intake's cases are idle);
//   - the burst: the API restarts with the herd's policy, whose calendar opens at
//     the first whole minute after the herd's cases can all be open; they open at
//     once, and the jobs that do not disturb them (lifecycles, the timer
//     baseline) run in the burst's quiet windows, while its cases wait idle:
//     the rest of that minute, and the time between the end of the warnings' burst
//     and the deadline; a job whose estimate fits neither runs after the steady
//     phase;
//   - steady, on a quiet server again (the herd's cases idle at tier 2): the API
//     restarts with the steady policies, the cases open, then their deadlines
//     fall at the steady rate through the window (steadyPlan);
//   - the jobs left.
func (b *bench) runPhases(ctx context.Context, rep *report, policyDir string, basePolicies []string) error {
	intakeRate, startRate := fallbackIntakeRate, fallbackStartRate
	if b.cfg.has(phaseIntake) {
		b.logf("intake: %d runs of %d cases vs %d no-op workflows, %d at a time", b.cfg.IntakeRuns, b.cfg.Cases, b.cfg.Cases, b.cfg.Concurrency)
		if err := b.measurePhase(ctx, rep, phaseIntake, func() error {
			in, err := b.measureIntake(ctx)
			if err == nil {
				rep.Intake = &in
				intakeRate, startRate = in.CasesPerSecond, in.startRate()
			}
			return err
		}); err != nil {
			return err
		}
	}
	if b.cfg.has(phaseRoundTrip) {
		// In a quiet window of its own, right after the intake: the intake's
		// cases are idle, nothing else runs (the burst's quiet windows were
		// often too short for it, and then it ran right after the steady phase).
		b.logf("round trip: %d note decisions vs %d raw updates, one at a time", b.cfg.Decisions, b.cfg.Decisions)
		if err := b.measurePhase(ctx, rep, phaseRoundTrip, func() error {
			rt, err := b.measureRoundTrip(ctx)
			if err == nil {
				rep.RoundTrip = &rt
			}
			return err
		}); err != nil {
			return err
		}
	}
	var timerBase *timerBurstResult
	jobs := b.jobs(ctx, rep, startRate, &timerBase)
	if b.cfg.has(phaseBurst) {
		left, err := b.burstPhase(ctx, rep, policyDir, basePolicies, intakeRate, jobs)
		if err != nil {
			if err := b.failed(ctx, rep, phaseBurst, err); err != nil {
				return err
			}
		}
		jobs = left
	}
	if b.cfg.has(phaseSteady) {
		rate := b.cfg.SteadyRate
		if rate == 0 {
			rate = intakeRate / 2
		}
		st, err := b.steadyPhase(ctx, policyDir, rate, intakeRate)
		if err != nil {
			if err := b.failed(ctx, rep, phaseSteady, err); err != nil {
				return err
			}
		} else {
			rep.Steady = &st
		}
	}
	if err := runJobs(jobs); err != nil {
		return err
	}
	if rep.Burst != nil {
		rep.Burst.setBaseline(timerBase)
	}
	return nil
}

// measurePhase runs measure under the API's and the worker's CPU profiles; its
// failure goes in the report (failed) and the run goes on.
func (b *bench) measurePhase(ctx context.Context, rep *report, phase string, measure func() error) error {
	stopProfile := b.profilePhase(ctx, phase, b.theAPI(), b.theWorker())
	err := measure()
	stopProfile()
	if err != nil {
		return b.failed(ctx, rep, phase, err)
	}
	return nil
}

// failed records a phase's failure in the report, so that a long run still
// reports what the other phases measured; it passes an interruption on.
func (b *bench) failed(ctx context.Context, rep *report, phase string, err error) error {
	if ctx.Err() != nil {
		return err
	}
	b.logf("%s failed: %v; the other phases go on. The processes' last lines:", phase, err)
	for _, p := range []*stack.Process{b.stack.Worker, b.stack.API} {
		fmt.Fprintf(os.Stderr, "----- %s output (tail) -----\n%s\n", p.Name, p.Tail(40))
	}
	rep.Failures = append(rep.Failures, phase+": "+err.Error())
	return nil
}

// jobs are the measurements that may fill the burst's wait.
func (b *bench) jobs(ctx context.Context, rep *report, startRate float64, timerBase **timerBurstResult) []job {
	var jobs []job
	if b.cfg.has(phaseHistory) {
		jobs = append(jobs, job{"history", b.cfg.lifecycleBudget, func() error {
			b.logf("history: %d cases per lifecycle", b.cfg.Lifecycles)
			baselineID := ""
			if rep.Intake != nil {
				baselineID = rep.Intake.BaselineID
			} else {
				one, err := b.runNoops(ctx, "hist", 1, 1)
				if err != nil {
					return b.failed(ctx, rep, phaseHistory, fmt.Errorf("baseline: %w", err))
				}
				baselineID = one.firstID
			}
			hist, err := b.measureHistories(ctx, baselineID)
			if err != nil {
				return b.failed(ctx, rep, phaseHistory, err)
			}
			rep.History = hist
			return nil
		}})
	}
	if b.cfg.has(phaseBurst) {
		_, total := timerBurstEstimate(b.cfg.BurstCases, startRate)
		jobs = append(jobs, job{"burst baseline", total, func() error {
			b.logf("burst baseline: %d timer workflows firing at one instant", b.cfg.BurstCases)
			t, err := b.runTimerBurst(ctx, b.cfg.BurstCases, startRate)
			if err != nil {
				return b.failed(ctx, rep, "burst baseline", err)
			}
			*timerBase = &t
			return nil
		}})
	}
	return jobs
}

// runJobsBefore runs, in order, each job whose estimate ends before until, and
// returns the others.
func runJobsBefore(jobs []job, until time.Time) ([]job, error) {
	var left []job
	for _, j := range jobs {
		if time.Now().Add(j.estimate).After(until) {
			left = append(left, j)
			continue
		}
		if err := j.run(); err != nil {
			return nil, err
		}
	}
	return left, nil
}

func runJobs(jobs []job) error {
	for _, j := range jobs {
		if err := j.run(); err != nil {
			return err
		}
	}
	return nil
}

// burstPhase plans the herd, opens it, runs the jobs that fit before its calendar
// opens and drains it; it returns the jobs that did not fit.
func (b *bench) burstPhase(ctx context.Context, rep *report, policyDir string, basePolicies []string,
	intakeRate float64, jobs []job) ([]job, error) {
	ack := b.cfg.BurstAck
	if ack == 0 {
		ack = herdAck(b.cfg.BurstCases, intakeRate, b.cfg.BurstMinAck)
	}
	herd := planHerd(time.Now(), b.cfg.BurstCases, intakeRate, ack)
	herdPolicy, err := writeHerdPolicy(policyDir, herd)
	if err != nil {
		return jobs, err
	}
	if rep.APIEarlyPeakRSS, err = b.stack.API.PeakRSS(); err != nil {
		return jobs, err
	}
	policies := append(slices.Clone(basePolicies), herdPolicy)
	if err := b.stack.RestartAPI(ctx, map[string]string{"TIERFLOW_POLICY_FILES": strings.Join(policies, ",")}); err != nil {
		return jobs, err // the API is down: the phases after fail too, and say so
	}
	b.apiPolicies = policies
	b.logf("burst: %d cases, calendar opens %s, acknowledge clock %s", b.cfg.BurstCases, herd.OpensAt.Format(time.TimeOnly), ack)
	burst, err := b.openHerd(ctx, herd)
	if err != nil {
		return jobs, err
	}
	// Two quiet windows: before the calendar opens, and between the end of the
	// warnings' burst and the deadline.
	left, err := runJobsBefore(jobs, herd.OpensAt.Add(-5*time.Second))
	if err != nil {
		return nil, err
	}
	if len(left) > 0 {
		quietUntil := burst.Deadline.Add(-5 * time.Second)
		over, err := b.waitWarningsOver(ctx, burst, quietUntil)
		if err != nil {
			return left, err
		}
		if over {
			b.logf("burst: the warnings' burst is over, %s before the deadline", time.Until(burst.Deadline).Round(time.Second))
			if left, err = runJobsBefore(left, quietUntil); err != nil {
				return nil, err
			}
		}
	}
	for _, j := range left {
		b.logf("burst: %s did not fit in the burst's quiet windows; it runs after the steady phase", j.name)
	}
	burst.JobsOverran = time.Now().After(burst.Deadline)
	rep.Burst = burst
	if err := b.drainHerd(ctx, burst); err != nil {
		rep.Burst = nil // a drain not read is no figure
		return left, err
	}
	return left, nil
}
