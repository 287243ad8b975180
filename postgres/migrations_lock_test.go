package postgres

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A release migrates a live database: a CHECK added to a table that already
// holds rows is added NOT VALID, so the migration does not scan the table under
// its exclusive lock while records and mailers wait (deploy/RUNBOOK.md: a
// release adds nullable columns and concurrent indexes). The two older ones
// ran before the rule, on tables still small.
func TestMigrationsAddChecksWithoutScanning(t *testing.T) {
	before := map[string]bool{"002_notification_unconfirmed.sql": true, "006_webhook_disabled_at.sql": true}
	addCheck := regexp.MustCompile(`(?is)ALTER TABLE\s+(\w+)\s+ADD CONSTRAINT\s+\w+\s+CHECK\s*\(.*?\)\s*(NOT VALID)?\s*;`)
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var checked int
	for _, f := range files {
		body, err := fs.ReadFile(migrationFiles, f)
		require.NoError(t, err)
		create, _, _ := strings.Cut(string(body), "---- create above / drop below ----")
		name := strings.TrimPrefix(f, "migrations/")
		for _, m := range addCheck.FindAllStringSubmatch(create, -1) {
			table := m[1]
			createdHere := regexp.MustCompile(`(?i)CREATE TABLE( IF NOT EXISTS)?\s+` + table + `\b`).MatchString(create)
			if before[name] || createdHere {
				continue
			}
			checked++
			assert.NotEmpty(t, m[2], "%s adds a CHECK to %s, a table with rows: add it NOT VALID", name, table)
		}
	}
	assert.Positive(t, checked, "the rule was applied to at least one migration")
}
