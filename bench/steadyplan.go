package main

import (
	"fmt"
	"math"
	"time"
)

// The steady phase's contract is the rate at which deadlines fall, not the rate
// at which cases open: its cases open beforehand, as fast as the API takes them,
// and each one picks the acknowledge clock that puts its deadline at its target
// instant in the window. During the window the server then handles only the
// deadlines (their escalations, and the warnings that fall in it).

// maxSteadyClocks bounds the steady policies the API loads: beyond it the clocks'
// step widens.
const maxSteadyClocks = 250

// steadyPlan places the steady phase's deadlines: case i's tier 1 acknowledge
// deadline targets Start + i/Rate, for i < Cases, so that they fall at Rate over
// [Start, Start+Window). Clocks are the steady policies' tier 1 acknowledge
// clocks (whole seconds, ascending, Step apart); each case picks one when its POST
// is sent (clockFor), so a case opened later than planned still aims at its own
// target.
type steadyPlan struct {
	Rate   float64
	Cases  int
	Start  time.Time
	Window time.Duration
	Clocks []time.Duration
	Step   time.Duration
}

// steadyCases is how many deadlines fall in the window at rate.
func steadyCases(rate float64, window time.Duration) int {
	return int(rate * window.Seconds())
}

// steadyClocks are the clocks a plan needs when its cases open from an instant
// now, its window starting openEstimate+margin later: from margin (a case opened
// just before the window, aiming at its first instants) to the whole span (a case
// opened at now, aiming at the window's end). The step is a 120th of the window
// (5s for 10 minutes, at least a second), wider if the clocks would outnumber
// maxSteadyClocks.
func steadyClocks(window, margin, openEstimate time.Duration) (clocks []time.Duration, step time.Duration) {
	lo := margin.Round(time.Second)
	hi := (openEstimate + margin + window + time.Second - 1).Truncate(time.Second)
	step = max(time.Second, (window / 120).Truncate(time.Second))
	if span := hi - lo; span/step+1 > maxSteadyClocks {
		step = (span/(maxSteadyClocks-1) + time.Second - 1).Truncate(time.Second)
	}
	for a := lo; ; a += step {
		clocks = append(clocks, a)
		if a >= hi {
			return clocks, step
		}
	}
}

// planSteady plans rate deadlines per second for window, the cases opening from
// now in about openEstimate, the window starting margin after that.
func planSteady(now time.Time, rate float64, window, margin, openEstimate time.Duration) steadyPlan {
	clocks, step := steadyClocks(window, margin, openEstimate)
	return steadyPlan{Rate: rate, Cases: steadyCases(rate, window), Start: now.Add(openEstimate + margin),
		Window: window, Clocks: clocks, Step: step}
}

// target is the instant case i's deadline aims at.
func (p steadyPlan) target(i int) time.Time {
	return p.Start.Add(time.Duration(float64(i) / p.Rate * float64(time.Second)))
}

// clockFor is the index of the clock that puts the deadline of case i, whose POST
// is sent at sent, nearest its target: within Step/2 of it when a clock is long
// enough and none is too long.
func (p steadyPlan) clockFor(sent time.Time, i int) int {
	want := p.target(i).Sub(sent) - p.Clocks[0]
	j := int(math.Round(float64(want) / float64(p.Step)))
	return min(max(j, 0), len(p.Clocks)-1)
}

// lateBy is how late a POST sent at sent was for case i: after the last instant
// at which the shortest clock still reached its target (0 if not late). Its
// deadline falls that much after its target.
func (p steadyPlan) lateBy(sent time.Time, i int) time.Duration {
	return max(0, sent.Add(p.Clocks[0]).Sub(p.target(i)))
}

// inWindow counts the deadlines that fall in [Start, Start+Window).
func (p steadyPlan) inWindow(deadlines []time.Time) int {
	n, end := 0, p.Start.Add(p.Window)
	for _, d := range deadlines {
		if !d.Before(p.Start) && d.Before(end) {
			n++
		}
	}
	return n
}

// clockRange describes the clocks, for the report: "35s..1m5s by 5s (7 policies)".
func (p steadyPlan) clockRange() string {
	return fmt.Sprintf("%s..%s by %s (%d policies)", p.Clocks[0], p.Clocks[len(p.Clocks)-1], p.Step, len(p.Clocks))
}

// steadyPolicyName is the name of the steady policy whose tier 1 acknowledge
// clock is clock.
func steadyPolicyName(clock time.Duration) string {
	return fmt.Sprintf("%s-%ds", policySteady, int(clock/time.Second))
}
