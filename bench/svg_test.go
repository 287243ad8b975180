package main

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wellFormed decodes the whole document and counts its elements by name.
func wellFormed(t *testing.T, doc string) map[string]int {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	counts := map[string]int{}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return counts
		}
		require.NoError(t, err, "the SVG is not well-formed XML")
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
}

func TestPictureOfAFullRun(t *testing.T) {
	r := fullReport()
	r.buildHistograms()
	doc := r.picture()
	counts := wellFormed(t, doc)
	assert.Equal(t, 1, counts["svg"])
	// Three histograms in the open panel, four in the decision panel, three
	// burst curves, two steady lines.
	assert.Equal(t, 3+4+3+2, counts["polyline"])
	for _, want := range []string{"POST /v1/cases: p50", "raw start: p50", "raw Update: p50", "decision (API)",
		"raw Update + 1 local activity: p50",
		timerCurveName, "cases: drained (emails settled)", "p99 per bucket", "goal: p99 2 s", "bench: intake ratio 0.73"} {
		assert.Contains(t, doc, want)
	}
	assert.NotContains(t, doc, "not measured")
}

func TestPictureOfAnEmptyRunSaysSo(t *testing.T) {
	doc := (&report{}).picture()
	counts := wellFormed(t, doc)
	assert.Zero(t, counts["polyline"])
	assert.Equal(t, 4, strings.Count(doc, "not measured in this run"))
}

func TestSVGEscapesText(t *testing.T) {
	d := newSVG(100, 100)
	d.text(1, 2, "start", "", `a < b & "c"`)
	wellFormed(t, d.String())
	assert.Contains(t, d.String(), "a &lt; b &amp; &#34;c&#34;")
}

func TestAxisTicksAndPositions(t *testing.T) {
	lin := axis{lo: 0, hi: 95, p0: 0, p1: 100, maxTicks: 5}
	assert.Equal(t, []float64{0, 20, 40, 60, 80}, lin.ticks())
	assert.InDelta(t, 50.0, axis{lo: 0, hi: 10, p0: 0, p1: 100}.pos(5), 1e-9)

	log := axis{lo: 3, hi: 700, p0: 0, p1: 300, log: true}
	assert.Equal(t, []float64{5, 10, 20, 50, 100, 200, 500}, log.ticks())
	assert.InDelta(t, 0.0, log.pos(3), 1e-9)
	assert.InDelta(t, 300.0, log.pos(700), 1e-9)
	assert.InDelta(t, 0.0, log.pos(0), 1e-9, "below the range: clamped")

	assert.Equal(t, 1.0, niceStep(0))
	assert.Equal(t, 2.0, niceStep(1.5))
	assert.Equal(t, 50.0, niceStep(31))
}

func TestFmtNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 2: "2", 2.5: "2.5", 12.4: "12", 1500: "1.5k", 25000: "25k", 0.25: "0.25"} {
		assert.Equal(t, want, fmtNum(v), "%v", v)
	}
}
