package temporalfull

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// SchemaDirs are the versioned PostgreSQL schema folders shipped in the server
// module, which the SQL tool's update-schema applies in order.
type SchemaDirs struct {
	Default    string // schema/postgresql/v12/temporal/versioned
	Visibility string // schema/postgresql/v12/visibility/versioned
}

// SchemaDirsIn returns the schema folders of a server module extracted at
// moduleDir, checking that they exist.
func SchemaDirsIn(moduleDir string) (SchemaDirs, error) {
	base := filepath.Join(moduleDir, "schema", "postgresql", "v12")
	d := SchemaDirs{
		Default:    filepath.Join(base, "temporal", "versioned"),
		Visibility: filepath.Join(base, "visibility", "versioned"),
	}
	for _, dir := range []string{d.Default, d.Visibility} {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return SchemaDirs{}, fmt.Errorf("schema folder %s missing from the server module at %s", dir, moduleDir)
		}
	}
	return d, nil
}

// FindSchemaDirs asks the go command where the pinned server module is (it is in
// the module cache once `make prod-local-bins` has built the server, and is
// downloaded otherwise) and returns its schema folders.
func FindSchemaDirs(ctx context.Context) (SchemaDirs, error) {
	dir, err := moduleDir(ctx, ServerModule+"@"+ServerVersion)
	if err != nil {
		return SchemaDirs{}, err
	}
	return SchemaDirsIn(dir)
}

// moduleDir runs `go mod download -json module@version` and returns its Dir.
func moduleDir(ctx context.Context, modVersion string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", modVersion)
	// Outside any module: the download must not touch our go.mod or go.sum.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %s", modVersion, err, strings.TrimSpace(stderr.String()))
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no Dir in %q", modVersion, out)
	}
	return info.Dir, nil
}

// SetupSchema brings one database to the newest schema of dir with the server's
// SQL tool: setup-schema -v 0.0 (the version tables; a no-op once set up), then
// update-schema (only the versions not applied yet). The database must exist.
// Safe to repeat at every start.
func SetupSchema(ctx context.Context, sqlTool string, pg Postgres, database, dir string) error {
	pg = pg.withDefaults()
	base := []string{
		"--plugin", "postgres12", "--endpoint", pg.Host, "--port", strconv.Itoa(pg.Port),
		"--user", pg.User, "--database", database,
	}
	env := os.Environ()
	if pg.Password != "" {
		env = append(env, "SQL_PASSWORD="+pg.Password)
	}
	steps := [][]string{
		{"setup-schema", "-v", "0.0"},
		{"update-schema", "-d", dir},
	}
	for _, step := range steps {
		cmd := exec.CommandContext(ctx, sqlTool, append(append([]string(nil), base...), step...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s on %s: %w\n%s", filepath.Base(sqlTool), step[0], database, err, tailLines(string(out), 20))
		}
	}
	return nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// SetupSchemas brings both of pg's databases (pg.Database, pg.VisibilityDatabase)
// to the server's schemas, found in the server module.
func SetupSchemas(ctx context.Context, sqlTool string, pg Postgres) error {
	dirs, err := FindSchemaDirs(ctx)
	if err != nil {
		return err
	}
	for _, s := range []struct{ db, dir string }{{pg.Database, dirs.Default}, {pg.VisibilityDatabase, dirs.Visibility}} {
		if err := SetupSchema(ctx, sqlTool, pg, s.db, s.dir); err != nil {
			return err
		}
	}
	return nil
}

// ServerEnv is the environment of the Temporal and UI servers: this process's,
// without the TEMPORAL_* variables their configuration loaders would read instead
// of our files.
func ServerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(name, "TEMPORAL_") {
			env = append(env, kv)
		}
	}
	return env
}
