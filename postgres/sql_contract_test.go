package postgres

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tierflow/tierflow"
)

var (
	// sqlDetailKey finds a key read from case_events.details: details ->> 'k',
	// details -> 'k', details ? 'k'.
	sqlDetailKey = regexp.MustCompile(`details\s*(?:->>|->|\?)\s*'([^']*)'`)
	// sqlEventTypes finds the event types a query filters on: type IN ('a', 'b')
	// or type = 'a'.
	sqlEventTypes = regexp.MustCompile(`(?i)\btype\s*(?:IN\s*\(([^)]*)\)|=\s*('[^']*'))`)
	sqlQuoted     = regexp.MustCompile(`'([^']*)'`)
)

// sqlSources returns the package's Go files (without tests) and its migrations:
// everywhere SQL text lives.
func sqlSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	goFiles, err := filepath.Glob("*.go")
	require.NoError(t, err)
	sqlFiles, err := fs.Glob(migrationFiles, "migrations/*.sql")
	require.NoError(t, err)
	for _, name := range goFiles {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		out[name] = string(b)
	}
	for _, name := range sqlFiles {
		b, err := migrationFiles.ReadFile(name)
		require.NoError(t, err)
		out[name] = string(b)
	}
	return out
}

// The store's SQL reads event details and filters on event types by name. Those
// names are the domain's (tierflow.DetailKeys, tierflow.EventTypes): renaming one
// there without the SQL here fails this test instead of silently counting nothing.
func TestSQLUsesDeclaredDetailKeysAndEventTypes(t *testing.T) {
	keys, types := map[string]bool{}, map[tierflow.EventType]bool{}
	for name, src := range sqlSources(t) {
		for _, m := range sqlDetailKey.FindAllStringSubmatch(src, -1) {
			keys[m[1]] = true
			assert.True(t, slices.Contains(tierflow.DetailKeys, m[1]),
				"%s reads details key %q, which is not a tierflow.Detail* constant", name, m[1])
		}
		for _, m := range sqlEventTypes.FindAllStringSubmatch(src, -1) {
			for _, q := range sqlQuoted.FindAllStringSubmatch(m[1]+m[2], -1) {
				types[tierflow.EventType(q[1])] = true
				assert.True(t, tierflow.EventType(q[1]).Valid(),
					"%s filters on event type %q, which is not in tierflow.EventTypes", name, q[1])
			}
		}
	}
	// The patterns still find what the KPI queries and the schema read today.
	for _, k := range []string{tierflow.DetailAmountCents, tierflow.DetailCurrency} {
		assert.True(t, keys[k], "no SQL reads details key %q: has the pattern gone stale?", k)
	}
	for _, e := range []tierflow.EventType{tierflow.EventEscalated, tierflow.EventBreach, tierflow.EventSurveySent,
		tierflow.EventCompensationOK, tierflow.EventApproved} {
		assert.True(t, types[e], "no SQL filters on event type %q: has the pattern gone stale?", e)
	}
}
