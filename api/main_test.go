package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/tierflow/tierflow/internal/temporaldev"
)

// The Temporal dev server is started once, by the first test that needs it, and
// stopped after all tests ran; unit tests do not wait for it.
var (
	devServerOnce sync.Once
	devServer     *temporaldev.Server
	devServerErr  error
)

func sharedDevServer(t *testing.T) *temporaldev.Server {
	t.Helper()
	devServerOnce.Do(func() {
		devServer, devServerErr = temporaldev.Start(context.Background(), temporaldev.Options{UIPort: temporaldev.UIDisabled})
	})
	if devServerErr != nil {
		t.Fatalf("cannot start a Temporal dev server: %v", devServerErr)
	}
	return devServer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if devServer != nil {
		if err := devServer.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop the Temporal dev server: %v\n", err)
		}
	}
	os.Exit(code)
}
