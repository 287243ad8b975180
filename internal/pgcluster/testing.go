package pgcluster

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RunTests starts a throwaway cluster, hands it to setup, runs the package's tests
// and stops the cluster. Use it from TestMain:
//
//	var cluster *pgcluster.Cluster
//
//	func TestMain(m *testing.M) {
//		os.Exit(pgcluster.RunTests(m, func(c *pgcluster.Cluster) { cluster = c }))
//	}
//
// When the server binaries are missing it prints how to install them and returns a
// failing exit code: the tests fail, they are never skipped.
func RunTests(m *testing.M, setup func(*Cluster)) int {
	c, stop := MustStartForTests()
	defer stop()
	if setup != nil {
		setup(c)
	}
	return m.Run()
}

// MustStartForTests starts a throwaway cluster for a test binary, or prints the
// reason (with install instructions when the binaries are missing) and exits 1.
// The returned function stops the cluster and removes its data.
func MustStartForTests() (*Cluster, func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logf := func(string, ...any) {}
	if os.Getenv("PGCLUSTER_VERBOSE") != "" {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	c, err := Start(ctx, Options{Logf: logf})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start a PostgreSQL cluster for the tests: %v\n", err)
		os.Exit(1)
	}
	return c, func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgcluster: %v\n", err)
		}
	}
}

var testDatabases atomic.Int64

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// NewTestDatabase creates a fresh, empty database for the test, drops it when the
// test ends, and returns its DSN.
func NewTestDatabase(t testing.TB, c *Cluster) string {
	return NewTestDatabaseFrom(t, c, "")
}

// NewTestDatabaseFrom is NewTestDatabase with a copy of template (for example a
// database migrated once per package) instead of an empty one.
func NewTestDatabaseFrom(t testing.TB, c *Cluster, template string) string {
	t.Helper()
	if c == nil {
		t.Fatal("pgcluster: no cluster; start one in TestMain with pgcluster.RunTests (" + InstallHint + ")")
	}
	name := TestDatabaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.CreateDatabaseFrom(ctx, name, template); err != nil {
		t.Fatalf("pgcluster: create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Logf("pgcluster: drop test database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// TestDatabaseName turns a test name into a unique, valid database name.
func TestDatabaseName(testName string) string {
	base := strings.Trim(notIdent.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	return fmt.Sprintf("t%d_%d_%s", os.Getpid(), testDatabases.Add(1), base)
}
