package charts

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// node is a parsed element of a chart or table.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all lists the elements named name under n, depth first.
func (n node) all(name string) []node {
	var out []node
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			out = append(out, c)
		}
		out = append(out, c.all(name)...)
	}
	return out
}

// parse requires out to be well-formed markup.
func parse(t *testing.T, out template.HTML) node {
	t.Helper()
	var n node
	require.NoError(t, xml.Unmarshal([]byte(out), &n), "well-formed: %s", out)
	return n
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return f
}

var funnel = Bars{
	ID: "funnel", Title: "Escalation funnel", Desc: "Cases per tier.", CategoryHeader: "Tier",
	Categories: []string{"1", "2", "3", "4"},
	Series: []Series{
		{Name: "started", Values: []float64{16, 1, 2, 1}},
		{Name: "highest reached", Values: []float64{7, 7, 4, 2}},
	},
}

func TestBarsAreAccessibleAndProportional(t *testing.T) {
	for _, horizontal := range []bool{false, true} {
		t.Run(fmt.Sprintf("horizontal=%v", horizontal), func(t *testing.T) {
			b := funnel
			b.Horizontal = horizontal
			svg := parse(t, b.SVG())

			assert.Equal(t, "svg", svg.XMLName.Local)
			assert.Equal(t, "img", svg.attr("role"))
			assert.Equal(t, "funnel-title funnel-desc", svg.attr("aria-labelledby"))
			require.NotEmpty(t, svg.Children)
			assert.Equal(t, "title", svg.Children[0].XMLName.Local, "the title comes first")
			assert.Equal(t, "funnel-title", svg.Children[0].attr("id"))
			assert.Equal(t, "Escalation funnel", svg.Children[0].Text)
			assert.Equal(t, "funnel-desc", svg.Children[1].attr("id"))
			assert.Equal(t, "Cases per tier.", svg.Children[1].Text)

			// One bar per series and category, each with a tooltip naming it, its
			// length proportional to its value.
			length := map[string]float64{}
			for _, r := range svg.all("rect") {
				if tip := r.all("title"); len(tip) == 1 {
					dim := "height"
					if horizontal {
						dim = "width"
					}
					length[tip[0].Text] = num(t, r.attr(dim))
				}
			}
			require.Len(t, length, 8, "bars: %v", length)
			unit := length["started, 1: 16"] / 16
			require.Positive(t, unit)
			assert.InDelta(t, 7*unit, length["highest reached, 1: 7"], 0.11)
			assert.InDelta(t, 2*unit, length["started, 3: 2"], 0.11)

			var values []string
			for _, txt := range svg.all("text") {
				if txt.attr("class") == "value" {
					values = append(values, txt.Text)
				}
			}
			assert.Equal(t, []string{"16", "7", "1", "7", "2", "4", "1", "2"}, values, "every value printed beside its bar")
		})
	}
}

func TestBarsTableHoldsTheChartsNumbers(t *testing.T) {
	b := funnel
	b.Format = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " cases" }
	table := parse(t, b.Table())
	assert.Equal(t, "funnel", table.attr("data-chart"))
	assert.Equal(t, "Escalation funnel", table.all("caption")[0].Text)
	var head []string
	for _, th := range table.all("thead")[0].all("th") {
		head = append(head, th.Text)
	}
	assert.Equal(t, []string{"Tier", "started", "highest reached"}, head)
	rows := table.all("tbody")[0].all("tr")
	require.Len(t, rows, 4)
	assert.Equal(t, "3", rows[2].all("th")[0].Text)
	cells := rows[2].all("td")
	require.Len(t, cells, 2)
	assert.Equal(t, "2 cases", cells[0].Text)
	assert.Equal(t, "4 cases", cells[1].Text)
}

func TestChartsEscapeText(t *testing.T) {
	evil := `<script>alert("x")</script>&`
	b := Bars{ID: `a"b`, Title: evil, Desc: evil, CategoryHeader: evil, Categories: []string{evil},
		Series: []Series{{Name: evil, Values: []float64{1}}}, Markers: []Marker{{Label: evil, At: 0.5}}}
	m := Meter{ID: "m", Title: evil, Desc: evil, Value: 0.5, Text: evil}
	for _, out := range []template.HTML{b.SVG(), b.Table(), m.SVG(), m.Table()} {
		assert.NotContains(t, string(out), "<script>")
		parsed := parse(t, out)
		assert.Empty(t, parsed.all("script"))
	}
}

func TestMarkersSitWhereTheirValueFalls(t *testing.T) {
	bounds := []float64{0, 1, 4, 8}
	b := Bars{ID: "h", Categories: []string{"<1h", "1-4h", "4-8h", "8h+"},
		Series:  []Series{{Name: "cases", Values: []float64{1, 4, 3, 2}}},
		Markers: []Marker{{Label: "p50 2.5h", At: Position(bounds, 2.5)}}}
	svg := parse(t, b.SVG())
	var markerX []float64
	for _, l := range svg.all("line") {
		if l.attr("stroke-dasharray") != "" {
			markerX = append(markerX, num(t, l.attr("x1")))
		}
	}
	require.Len(t, markerX, 1)
	// Category slots are (640-48-16)/4 = 144 wide from x=48; 2.5h is half-way into
	// the second bucket: 48 + 1.5*144 = 264.
	assert.InDelta(t, 264, markerX[0], 0.1)
	assert.Contains(t, string(b.SVG()), ">p50 2.5h</text>")
}

func TestPosition(t *testing.T) {
	bounds := []float64{0, 1, 4, 8}
	for _, tc := range []struct {
		v, want float64
	}{{0, 0}, {0.5, 0.5}, {1, 1}, {2.5, 1.5}, {4, 2}, {6, 2.5}, {8, 3.5}, {800, 3.5}, {-1, 0}} {
		assert.InDelta(t, tc.want, Position(bounds, tc.v), 1e-9, "Position(%v)", tc.v)
	}
}

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		largest   float64
		whole     bool
		top, step float64
	}{
		{0, true, 1, 1}, {1, true, 1, 1}, {3, true, 3, 1}, {16, true, 20, 5}, {7, true, 8, 2},
		{0.65, false, 0.8, 0.2}, {175500, true, 200000, 50000}, {100, true, 100, 50},
	} {
		got := newScale(tc.largest, tc.whole)
		assert.Equal(t, scale{top: tc.top, step: tc.step}, got, "newScale(%v, %v)", tc.largest, tc.whole)
	}
}

func TestMeterClampsAndPrints(t *testing.T) {
	for _, tc := range []struct{ value, want float64 }{{0.25, 90}, {1.7, 360}, {-1, 0}} {
		m := Meter{ID: "m", Title: "Reopen rate", Value: tc.value, Text: "25% (1 of 4)"}
		svg := parse(t, m.SVG())
		var filled []node
		for _, r := range svg.all("rect") {
			if len(r.all("title")) == 1 {
				filled = append(filled, r)
			}
		}
		require.Len(t, filled, 1)
		assert.InDelta(t, tc.want, num(t, filled[0].attr("width")), 0.1)
		assert.True(t, strings.Contains(string(m.SVG()), ">25% (1 of 4)</text>"))
	}
	table := parse(t, Meter{ID: "m", Title: "Reopen rate", Text: "25%"}.Table())
	assert.Equal(t, "25%", table.all("td")[0].Text)
}
