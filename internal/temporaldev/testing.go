package temporaldev

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// StartForTest starts an in-memory dev server without UI on free ports and stops it
// when the test ends. A missing CLI fails the test with how to build it.
func StartForTest(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, testOptions())
	if err != nil {
		t.Fatalf("temporaldev: cannot start a Temporal dev server for the test: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("temporaldev: %v", err)
		}
	})
	return s
}

// MustStartForTests starts an in-memory dev server for a whole test binary (from
// TestMain), or prints the reason (with how to build the CLI) and exits 1: the
// tests fail, they are never skipped. The returned function stops the server.
//
//	var devServer *temporaldev.Server
//
//	func TestMain(m *testing.M) {
//		s, stop := temporaldev.MustStartForTests()
//		devServer = s
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
func MustStartForTests() (*Server, func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, testOptions())
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start a Temporal dev server for the tests: %v\n", err)
		os.Exit(1)
	}
	return s, func() {
		if err := s.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "temporaldev: %v\n", err)
		}
	}
}

// testOptions: in memory, no UI, free port; TEMPORALDEV_VERBOSE=1 shows the
// server's output on stderr.
func testOptions() Options {
	opts := Options{UIPort: UIDisabled}
	if os.Getenv("TEMPORALDEV_VERBOSE") != "" {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "temporal: "+format+"\n", args...) }
	}
	return opts
}
