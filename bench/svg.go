package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// A small SVG writer for the report's picture: panels with axes, step histograms
// on a log scale, and lines. Standard library only; the output is plain SVG 1.1
// that browsers and image viewers open.

// svgDoc accumulates the elements of one picture.
type svgDoc struct {
	width, height int
	body          strings.Builder
}

func newSVG(width, height int) *svgDoc { return &svgDoc{width: width, height: height} }

// String is the whole document.
func (d *svgDoc) String() string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">
<rect x="0" y="0" width="%d" height="%d" fill="white"/>
%s</svg>
`, d.width, d.height, d.width, d.height, d.width, d.height, d.body.String())
}

func (d *svgDoc) text(x, y float64, anchor, style, s string) {
	fmt.Fprintf(&d.body, `<text x="%.1f" y="%.1f" text-anchor="%s" %s>%s</text>`+"\n", x, y, anchor, style, html.EscapeString(s))
}

func (d *svgDoc) line(x1, y1, x2, y2 float64, stroke string, dashed bool) {
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="4 3"`
	}
	fmt.Fprintf(&d.body, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"%s/>`+"\n", x1, y1, x2, y2, stroke, dash)
}

func (d *svgDoc) polyline(xs, ys []float64, stroke string, dashed bool) {
	if len(xs) == 0 {
		return
	}
	var pts strings.Builder
	for i := range xs {
		fmt.Fprintf(&pts, "%.1f,%.1f ", xs[i], ys[i])
	}
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="6 3"`
	}
	fmt.Fprintf(&d.body, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.6"%s/>`+"\n",
		strings.TrimSpace(pts.String()), stroke, dash)
}

// palette colours the series of a panel in order.
var palette = []string{"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"}

// axis maps data values to pixels, linearly or on a log10 scale.
type axis struct {
	lo, hi   float64 // data range (both > 0 on a log scale)
	p0, p1   float64 // pixels of lo and hi
	log      bool
	label    string
	format   func(float64) string
	maxTicks int
}

func (a axis) pos(v float64) float64 {
	lo, hi := a.lo, a.hi
	if a.log {
		v, lo, hi = math.Log10(math.Max(v, a.lo)), math.Log10(lo), math.Log10(hi)
	}
	if hi == lo {
		return a.p0
	}
	return a.p0 + (v-lo)/(hi-lo)*(a.p1-a.p0)
}

// ticks are round values within the range: 1-2-5 steps on a log scale, about
// maxTicks "nice" steps on a linear one.
func (a axis) ticks() []float64 {
	var out []float64
	if a.log {
		for e := math.Floor(math.Log10(a.lo)); e <= math.Ceil(math.Log10(a.hi)); e++ {
			for _, m := range []float64{1, 2, 5} {
				if v := m * math.Pow(10, e); v >= a.lo && v <= a.hi {
					out = append(out, v)
				}
			}
		}
		return out
	}
	step := niceStep((a.hi - a.lo) / float64(max(a.maxTicks, 2)))
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// panel is one chart's frame: its box in pixels and its axes.
type panel struct {
	x, y, w, h float64
	title      string
}

// frame draws the title, the axes with their ticks and labels.
func (d *svgDoc) frame(p panel, xa, ya axis) {
	d.text(p.x+p.w/2, p.y-8, "middle", `font-size="13" font-weight="bold"`, p.title)
	d.line(p.x, p.y+p.h, p.x+p.w, p.y+p.h, "#333", false)
	d.line(p.x, p.y, p.x, p.y+p.h, "#333", false)
	for _, t := range xa.ticks() {
		x := xa.pos(t)
		d.line(x, p.y+p.h, x, p.y+p.h+4, "#333", false)
		d.line(x, p.y, x, p.y+p.h, "#eee", false)
		d.text(x, p.y+p.h+15, "middle", "", xa.format(t))
	}
	for _, t := range ya.ticks() {
		y := ya.pos(t)
		d.line(p.x-4, y, p.x, y, "#333", false)
		d.line(p.x, y, p.x+p.w, y, "#eee", false)
		d.text(p.x-6, y+4, "end", "", ya.format(t))
	}
	d.text(p.x+p.w/2, p.y+p.h+30, "middle", "", xa.label)
	d.text(p.x-42, p.y+p.h/2, "middle", fmt.Sprintf(`transform="rotate(-90 %.1f %.1f)"`, p.x-42, p.y+p.h/2), ya.label)
}

// legend writes one line per entry under p's axis label, in palette order.
func (d *svgDoc) legend(p panel, entries []string, dashed func(i int) bool) {
	for i, e := range entries {
		y := p.y + p.h + 48 + float64(i)*14
		d.line(p.x, y-4, p.x+20, y-4, palette[i%len(palette)], dashed != nil && dashed(i))
		d.text(p.x+24, y, "start", "", e)
	}
}

// empty marks a panel whose phase did not run.
func (d *svgDoc) empty(p panel, why string) {
	d.text(p.x+p.w/2, p.y-8, "middle", `font-size="13" font-weight="bold"`, p.title)
	d.text(p.x+p.w/2, p.y+p.h/2, "middle", `fill="#888"`, why)
}

// histogramPanel draws step outlines of the histograms (same edges) as shares of
// each one's total, on a log-scale latency axis.
func (d *svgDoc) histogramPanel(p panel, hs []histogram) {
	if len(hs) == 0 || len(hs[0].EdgesMs) < 2 {
		d.empty(p, "not measured in this run")
		return
	}
	edges := hs[0].EdgesMs
	top := 0.0
	for _, h := range hs {
		for _, c := range h.Counts {
			top = math.Max(top, float64(c)/float64(max(h.Total, 1)))
		}
	}
	xa := axis{lo: edges[0], hi: edges[len(edges)-1], p0: p.x, p1: p.x + p.w, log: true, label: "latency, ms (log scale)", format: fmtNum}
	ya := axis{lo: 0, hi: math.Max(top*1.1, 0.01), p0: p.y + p.h, p1: p.y, label: "share of calls", maxTicks: 5,
		format: func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }}
	d.frame(p, xa, ya)
	var entries []string
	for i, h := range hs {
		var xs, ys []float64
		for j, c := range h.Counts {
			share := float64(c) / float64(max(h.Total, 1))
			xs = append(xs, xa.pos(edges[j]), xa.pos(edges[j+1]))
			ys = append(ys, ya.pos(share), ya.pos(share))
		}
		d.polyline(xs, ys, palette[i%len(palette)], false)
		entries = append(entries, fmt.Sprintf("%s: p50 %s, p99 %s ms (n=%d)", h.Name, fmtNum(h.MedianMs), fmtNum(h.P99Ms), h.Total))
	}
	d.legend(p, entries, nil)
}

// lineSeries is one line of a linePanel.
type lineSeries struct {
	name   string
	xs, ys []float64
	dashed bool
}

// linePanel draws the series on linear axes from 0; goal, when positive, is a
// horizontal dashed line.
func (d *svgDoc) linePanel(p panel, xLabel, yLabel string, series []lineSeries, goal float64, goalName string) {
	xmax, ymax := 0.0, goal
	for _, s := range series {
		for i := range s.xs {
			xmax, ymax = math.Max(xmax, s.xs[i]), math.Max(ymax, s.ys[i])
		}
	}
	if xmax == 0 && ymax == 0 {
		d.empty(p, "not measured in this run")
		return
	}
	xa := axis{lo: 0, hi: math.Max(xmax, 1), p0: p.x, p1: p.x + p.w, label: xLabel, maxTicks: 8, format: fmtNum}
	ya := axis{lo: 0, hi: math.Max(ymax*1.1, 1), p0: p.y + p.h, p1: p.y, label: yLabel, maxTicks: 5, format: fmtNum}
	d.frame(p, xa, ya)
	var entries []string
	for i, s := range series {
		xs, ys := make([]float64, len(s.xs)), make([]float64, len(s.ys))
		for j := range s.xs {
			xs[j], ys[j] = xa.pos(s.xs[j]), ya.pos(s.ys[j])
		}
		d.polyline(xs, ys, palette[i%len(palette)], s.dashed)
		entries = append(entries, s.name)
	}
	if goal > 0 {
		d.line(p.x, ya.pos(goal), p.x+p.w, ya.pos(goal), "#888", true)
		d.text(p.x+4, ya.pos(goal)-4, "start", `fill="#888"`, goalName)
	}
	d.legend(p, entries, func(i int) bool { return series[i].dashed })
}

// fmtNum writes a tick or figure compactly: 0.5, 12, 1.5k.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case a >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	case a >= 10 || a == 0 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}
