// Package charts draws small, accessible charts as inline SVG for server-rendered
// HTML pages: grouped bar charts (vertical or horizontal, with optional markers
// such as percentiles on a histogram) and meters for shares. Every chart carries a
// <title> and a <desc> that a screen reader announces, prints each value next to
// its bar, and renders the same numbers as an HTML data table (Table), so the
// picture is never the only place a figure lives. Standard library only; no
// JavaScript.
package charts

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Series is one named set of values, one per category of its chart.
type Series struct {
	Name   string
	Values []float64
}

// Marker is a labelled line across a vertical chart at At, in category units:
// 0 is the left edge of the first category, 1 the edge between the first and the
// second, len(Categories) the right edge of the last (see Position).
type Marker struct {
	Label string
	At    float64
}

// Bars is a bar chart: one group of bars per category, one bar per series.
type Bars struct {
	// ID is unique on the page: the chart's title and desc elements are named by it.
	ID    string
	Title string
	Desc  string
	// CategoryHeader heads the table's first column ("Tier", "Score").
	CategoryHeader string
	Categories     []string
	Series         []Series
	// Horizontal draws bars from a left axis (long category names read better).
	Horizontal bool
	// Markers are drawn on vertical charts only.
	Markers []Marker
	// Format prints a value next to its bar and in the table; nil prints %g.
	Format func(float64) string
}

// chart geometry, in SVG user units (the picture scales to its container).
const (
	width        = 640.0
	plotTop      = 34.0 // room for the legend and marker labels
	labelGutter  = 150.0
	barThickness = 16.0
	barGap       = 4.0
	groupGap     = 12.0
)

// palette holds colours that stay apart for the common colour-vision deficiencies
// (Okabe and Ito) and contrast with a white background.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"}

func (b Bars) format(v float64) string {
	if b.Format != nil {
		return b.Format(v)
	}
	return fmt.Sprintf("%g", v)
}

// value is series s's value for category c (0 when the series is short).
func (b Bars) value(s, c int) float64 {
	if c < len(b.Series[s].Values) {
		return b.Series[s].Values[c]
	}
	return 0
}

// scale fits the value axis to the chart's largest value.
func (b Bars) scale() scale {
	largest, whole := 0.0, true
	for s := range b.Series {
		for c := range b.Categories {
			v := b.value(s, c)
			largest = max(largest, v)
			whole = whole && v == math.Trunc(v)
		}
	}
	return newScale(largest, whole)
}

// SVG draws the chart.
func (b Bars) SVG() template.HTML {
	if b.Horizontal {
		return b.horizontal()
	}
	return b.vertical()
}

func (b Bars) vertical() template.HTML {
	const height, axisY, left, right = 280.0, 240.0, 48.0, 16.0
	sc := b.scale()
	plotH := axisY - plotTop
	slot := (width - left - right) / float64(max(len(b.Categories), 1))
	barW := min((slot-groupGap)/float64(max(len(b.Series), 1)), 48)
	d := newDoc(b.ID, b.Title, b.Desc, height)
	d.valueGrid(sc, b.format, func(v float64) (x1, y1, x2, y2 float64) {
		y := axisY - v/sc.top*plotH
		return left, y, width - right, y
	}, "end")
	for c, cat := range b.Categories {
		groupX := left + float64(c)*slot + (slot-barW*float64(len(b.Series)))/2
		for s, series := range b.Series {
			v := b.value(s, c)
			h := v / sc.top * plotH
			x := groupX + float64(s)*barW
			d.rect(x, axisY-h, barW-1, h, palette[s%len(palette)], series.Name+", "+cat+": "+b.format(v))
			d.text(x+barW/2, axisY-h-4, "middle", "value", b.format(v))
		}
		d.text(left+float64(c)*slot+slot/2, axisY+16, "middle", "category", cat)
	}
	d.line(left, axisY, width-right, axisY, "#333", false)
	for i, m := range b.Markers { // labels stagger upwards so that close markers stay legible
		x := left + m.At*slot
		d.line(x, plotTop-4-12*float64(i), x, axisY, "#222", true)
		d.text(x+3, plotTop-8-12*float64(i), "start", "marker", m.Label)
	}
	d.legend(b.Series, left)
	return d.finish()
}

func (b Bars) horizontal() template.HTML {
	const right = 70.0 // room for the value printed after the longest bar
	sc := b.scale()
	plotW := width - labelGutter - right
	group := float64(max(len(b.Series), 1))*(barThickness+barGap) + groupGap
	height := plotTop + group*float64(len(b.Categories)) + 24
	d := newDoc(b.ID, b.Title, b.Desc, height)
	axisBottom := height - 20
	d.valueGrid(sc, b.format, func(v float64) (x1, y1, x2, y2 float64) {
		x := labelGutter + v/sc.top*plotW
		return x, plotTop, x, axisBottom
	}, "middle")
	for c, cat := range b.Categories {
		groupY := plotTop + float64(c)*group + groupGap/2
		for s, series := range b.Series {
			v := b.value(s, c)
			w := v / sc.top * plotW
			y := groupY + float64(s)*(barThickness+barGap)
			d.rect(labelGutter, y, w, barThickness, palette[s%len(palette)], series.Name+", "+cat+": "+b.format(v))
			d.text(labelGutter+w+4, y+barThickness-4, "start", "value", b.format(v))
		}
		d.text(labelGutter-6, groupY+group/2-groupGap/2+4, "end", "category", clipLabel(cat, 24))
	}
	d.line(labelGutter, plotTop, labelGutter, axisBottom, "#333", false)
	d.legend(b.Series, labelGutter)
	return d.finish()
}

// Table is the chart's numbers as an HTML table: a row per category, a column per
// series, captioned with the chart's title. data-chart names the chart it
// belongs to.
func (b Bars) Table() template.HTML {
	var t strings.Builder
	fmt.Fprintf(&t, `<table class="data" data-chart="%s"><caption>%s</caption><thead><tr><th scope="col">%s</th>`,
		esc(b.ID), esc(b.Title), esc(b.CategoryHeader))
	for _, s := range b.Series {
		fmt.Fprintf(&t, `<th scope="col">%s</th>`, esc(s.Name))
	}
	t.WriteString("</tr></thead><tbody>")
	for c, cat := range b.Categories {
		fmt.Fprintf(&t, `<tr><th scope="row">%s</th>`, esc(cat))
		for s := range b.Series {
			fmt.Fprintf(&t, `<td>%s</td>`, esc(b.format(b.value(s, c))))
		}
		t.WriteString("</tr>")
	}
	t.WriteString("</tbody></table>")
	return template.HTML(t.String()) //nolint:gosec // every piece of text is escaped above
}

// Position places v on a vertical chart whose categories are the buckets with
// these lower bounds (ascending; the last bucket has no upper bound), in the
// category units of Marker.At: linear within a bucket, the middle of the last.
func Position(lowerBounds []float64, v float64) float64 {
	for i := len(lowerBounds) - 1; i >= 0; i-- {
		if v < lowerBounds[i] {
			continue
		}
		if i == len(lowerBounds)-1 {
			return float64(i) + 0.5
		}
		return float64(i) + (v-lowerBounds[i])/(lowerBounds[i+1]-lowerBounds[i])
	}
	return 0
}

// clipLabel shortens a label to n runes with an ellipsis (the table keeps it whole).
func clipLabel(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
