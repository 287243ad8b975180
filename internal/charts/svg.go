package charts

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// doc accumulates one chart's SVG elements.
type doc struct {
	id     string
	height float64
	body   strings.Builder
}

// newDoc starts a chart whose accessible name is its title and whose description
// is desc (role="img" with aria-labelledby, the pattern screen readers announce).
func newDoc(id, title, desc string, height float64) *doc {
	d := &doc{id: id, height: height}
	fmt.Fprintf(&d.body, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc">`,
		esc(id), width, height, esc(id), esc(id))
	fmt.Fprintf(&d.body, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	return d
}

func (d *doc) finish() template.HTML {
	d.body.WriteString("</svg>")
	return template.HTML(d.body.String()) //nolint:gosec // every piece of text is escaped when written
}

// rect draws a bar; label is its tooltip (a <title> child, read on hover).
func (d *doc) rect(x, y, w, h float64, fill, label string) {
	fmt.Fprintf(&d.body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
		x, y, max(w, 0), max(h, 0), fill, esc(label))
}

// text writes a label; class is one of the page's chart text classes (value,
// category, marker, legend, axis).
func (d *doc) text(x, y float64, anchor, class, s string) {
	fmt.Fprintf(&d.body, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(s))
}

func (d *doc) line(x1, y1, x2, y2 float64, stroke string, dashed bool) {
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="5 3" stroke-width="1.5"`
	}
	fmt.Fprintf(&d.body, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"%s/>`, x1, y1, x2, y2, stroke, dash)
}

// valueGrid draws a light, labelled line at every step from 0 to top; at places
// a value's line.
func (d *doc) valueGrid(sc scale, format func(float64) string, at func(v float64) (x1, y1, x2, y2 float64), anchor string) {
	for i := 0; float64(i)*sc.step <= sc.top*(1+1e-9); i++ {
		v := float64(i) * sc.step
		x1, y1, x2, y2 := at(v)
		fmt.Fprintf(&d.body, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e6ec"/>`, x1, y1, x2, y2)
		if anchor == "end" {
			d.text(x1-4, y1+4, "end", "axis", format(v))
		} else {
			d.text(x2, y2+14, "middle", "axis", format(v))
		}
	}
}

// legend names the series (only when there is more than one).
func (d *doc) legend(series []Series, x float64) {
	if len(series) < 2 {
		return
	}
	for i, s := range series {
		fmt.Fprintf(&d.body, `<rect x="%.1f" y="6" width="12" height="12" fill="%s"/>`, x, palette[i%len(palette)])
		d.text(x+16, 16, "start", "legend", s.Name)
		x += 24 + 7*float64(len([]rune(s.Name)))
	}
}

// scale is a value axis: from 0 to top, with a grid line every step.
type scale struct{ top, step float64 }

// newScale fits an axis to the largest value: about four steps of 1, 2 or 5 times
// a power of ten, never finer than 1 when every value is a whole number (counts).
func newScale(largest float64, whole bool) scale {
	if largest <= 0 || math.IsNaN(largest) || math.IsInf(largest, 0) {
		return scale{top: 1, step: 1}
	}
	rough := largest / 4
	p := math.Pow(10, math.Floor(math.Log10(rough)))
	step := 10 * p
	for _, f := range []float64{1, 2, 5} {
		if f*p >= rough*(1-1e-12) {
			step = f * p
			break
		}
	}
	if whole {
		step = max(step, 1)
	}
	return scale{top: step * math.Ceil(largest/step-1e-9), step: step}
}

func esc(s string) string { return html.EscapeString(s) }
