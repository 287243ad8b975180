package charts

import (
	"fmt"
	"html/template"
)

// Meter shows one share (0 to 1) as a filled bar, with its figure printed.
type Meter struct {
	ID    string
	Title string
	Desc  string
	Value float64 // clamped to [0, 1] for drawing
	// Text is the figure printed beside the bar and in the table ("65% (13 of 20)").
	Text string
}

// SVG draws the meter.
func (m Meter) SVG() template.HTML {
	const height, left, barW, barH = 44.0, 8.0, 360.0, 20.0
	d := newDoc(m.ID, m.Title, m.Desc, height)
	share := min(max(m.Value, 0), 1)
	fmt.Fprintf(&d.body, `<rect x="%.1f" y="12" width="%.1f" height="%.1f" fill="#e3e6ec" rx="3"/>`, left, barW, barH)
	d.rect(left, 12, share*barW, barH, palette[0], m.Title+": "+m.Text)
	d.text(left+barW+10, 27, "start", "value", m.Text)
	return d.finish()
}

// Table is the meter's figure as a one-row table, captioned with its title.
func (m Meter) Table() template.HTML {
	return template.HTML(fmt.Sprintf( //nolint:gosec // every piece of text is escaped
		`<table class="data" data-chart="%s"><caption>%s</caption><tbody><tr><th scope="row">%s</th><td>%s</td></tr></tbody></table>`,
		esc(m.ID), esc(m.Title), esc(m.Title), esc(m.Text)))
}
