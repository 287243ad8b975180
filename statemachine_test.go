package tierflow

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doc.go draws the state machine; the drawing must be the table.
func TestDocDrawsTheStatusTable(t *testing.T) {
	raw, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var drawn []string
	for _, line := range strings.Split(string(raw), "\n") {
		if l := strings.TrimPrefix(line, "//\t"); l != line && strings.Contains(l, " -> ") {
			drawn = append(drawn, l)
		}
	}
	assert.Equal(t, strings.Split(strings.TrimSuffix(StatusDiagram(), "\n"), "\n"), drawn,
		"doc.go's diagram and StatusTransitions disagree: redraw it from StatusDiagram()")
}

// The table is closed over the statuses: every status but closed leads somewhere,
// closed leads nowhere, every status is reachable from open.
func TestStatusTableIsComplete(t *testing.T) {
	for _, s := range Statuses {
		var out []Status
		for _, tr := range StatusTransitions {
			require.True(t, tr.From.Valid() && tr.To.Valid(), "%v", tr)
			require.NotEmpty(t, tr.By)
			if tr.From == s {
				out = append(out, tr.To)
			}
		}
		if s == StatusClosed {
			assert.Empty(t, out)
		} else {
			assert.NotEmpty(t, out, "%s leads nowhere", s)
		}
	}
	seen := map[Status]bool{StatusOpen: true}
	for changed := true; changed; {
		changed = false
		for _, tr := range StatusTransitions {
			if seen[tr.From] && !seen[tr.To] {
				seen[tr.To], changed = true, true
			}
		}
	}
	assert.Len(t, seen, len(Statuses))
}

// Every action's declaration agrees with the state machine: it is allowed only in
// statuses that are not closed, and the statuses it leads to are reachable by the
// table from one where it is allowed.
func TestActionSpecsAgreeWithTheStatusTable(t *testing.T) {
	require.Len(t, ActionSpecs, len(Actions))
	for _, spec := range ActionSpecs {
		assert.NotEmpty(t, spec.Doc, spec.Action)
		assert.NotEmpty(t, spec.Who, spec.Action)
		require.NotEmpty(t, spec.Statuses, spec.Action)
		for _, s := range spec.Statuses {
			assert.NotEqual(t, StatusClosed, s, "%s allowed on a closed case", spec.Action)
		}
		for _, to := range spec.Becomes {
			ok := false
			for _, from := range spec.Statuses {
				ok = ok || from.CanBecome(to)
			}
			assert.True(t, ok, "%s leads to %s, which the table reaches from none of %v", spec.Action, to, spec.Statuses)
		}
		for _, f := range spec.Required {
			_, text := decisionText[f]
			assert.True(t, text || f == "mode" || f == "amount_cents", "%s requires unknown field %q", spec.Action, f)
		}
	}
}
