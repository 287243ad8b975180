package main

import (
	"fmt"
	"time"
)

// histogramBins is the number of bins of the latency histograms.
const histogramBins = 40

// latencyHistograms are the report's histograms: each product figure with its
// baselines, on shared edges.
type latencyHistograms struct {
	Open     []histogram `json:"open"`     // POST /v1/cases, raw start, raw Update-with-Start
	Decision []histogram `json:"decision"` // decision, raw Update, raw Update running an activity
}

// buildHistograms bins the samples the phases kept.
func (r *report) buildHistograms() {
	h := &latencyHistograms{}
	if in := r.Intake; in != nil {
		edges := logEdges(histogramBins, in.openSample, in.startSample, in.uwsSample)
		h.Open = []histogram{newHistogram("POST /v1/cases", edges, in.openSample),
			newHistogram("raw start", edges, in.startSample), newHistogram("raw Update-with-Start", edges, in.uwsSample)}
	}
	if rt := r.RoundTrip; rt != nil {
		edges := logEdges(histogramBins, rt.decisionSample, rt.rawSample, rt.rawActivitySample, rt.rawLocalSample)
		h.Decision = []histogram{newHistogram("decision (API)", edges, rt.decisionSample),
			newHistogram("raw Update", edges, rt.rawSample), newHistogram("raw Update + 1 activity", edges, rt.rawActivitySample),
			newHistogram("raw Update + 1 local activity", edges, rt.rawLocalSample)}
	}
	r.Histograms = h
}

// steadyGoalMs is issue 10's goal for the steady lateness p99, drawn on the picture.
const steadyGoalMs = 2000

// picture draws the report: the latency histograms of opening a case and of a
// decision with their baselines, the burst's drain over time and the steady
// lateness over time.
func (r *report) picture() string {
	const w, h = 1240, 900
	d := newSVG(w, h)
	d.text(w/2, 24, "middle", `font-size="15" font-weight="bold"`,
		fmt.Sprintf("Tierflow benchmark %s: %s", r.StartedAt.Format(time.RFC3339), serverDescription(r.Config.Server)))
	d.text(w/2, 42, "middle", `fill="#555"`, r.lastLine())
	left, right, top, bottom := panel{x: 80, w: 480, h: 270}, panel{x: 720, w: 480, h: 270}, 80.0, 520.0
	var open, decision []histogram
	if r.Histograms != nil {
		open, decision = r.Histograms.Open, r.Histograms.Decision
	}
	p := left
	p.y, p.title = top, "Opening a case vs a raw start (same concurrency)"
	d.histogramPanel(p, open)
	p = right
	p.y, p.title = top, "A decision vs a raw Update (one at a time)"
	d.histogramPanel(p, decision)

	p = left
	p.y, p.title = bottom, "Burst: done over time after the one instant"
	var burst []lineSeries
	if b := r.Burst; b != nil {
		p.title = fmt.Sprintf("Burst: %d due at one instant, done over time", b.Cases)
		for _, c := range b.Curves {
			s := lineSeries{name: c.Name, dashed: c.Name == timerCurveName}
			for i := range c.Seconds {
				s.xs, s.ys = append(s.xs, c.Seconds[i]), append(s.ys, float64(c.Done[i]))
			}
			burst = append(burst, s)
		}
	}
	d.linePanel(p, "seconds after the instant", "done", burst, 0, "")

	p = right
	p.y, p.title = bottom, "Steady: escalation lateness over time"
	var steady []lineSeries
	goal := 0.0
	if s := r.Steady; s != nil {
		goal = steadyGoalMs
		p.title = fmt.Sprintf("Steady: %.1f deadlines/s for %s, lateness (recorded)", s.RatePerSecond, time.Duration(s.Seconds*float64(time.Second)))
		p50, p99 := lineSeries{name: "p50 per bucket"}, lineSeries{name: "p99 per bucket"}
		for _, pt := range s.OverTime {
			mid := pt.StartS + s.BucketSeconds/2
			p50.xs, p50.ys = append(p50.xs, mid), append(p50.ys, pt.P50Ms)
			p99.xs, p99.ys = append(p99.xs, mid), append(p99.ys, pt.P99Ms)
		}
		steady = []lineSeries{p99, p50}
	}
	d.linePanel(p, "seconds into the window (when each deadline fell)", "lateness, ms", steady, goal, "goal: p99 2 s")
	return d.String()
}
