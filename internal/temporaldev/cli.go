// Package temporaldev runs a Temporal dev server (`temporal server start-dev` from the
// pinned Temporal CLI) as a child process, with the project's search attributes
// registered: for integration tests (in memory, free ports, no UI) and for `make dev`
// (a persistent SQLite file, the Web UI on :8233).
//
// The CLI is not vendored: `make temporal-cli` builds the pinned version into
// <module root>/bin. Find looks for it there, in $TEMPORAL_CLI, and on PATH.
package temporaldev

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// CLIVersion is the pinned Temporal CLI (Server 1.29.1, UI 2.42.1). Later versions
// cannot be built from the module proxy (a replace directive in their go.mod).
const CLIVersion = "v1.5.1"

// CLIModule is the package `go install` builds the CLI from.
const CLIModule = "github.com/temporalio/cli/cmd/temporal"

// InstallHint says how to get the CLI.
const InstallHint = "run `make temporal-cli` (it runs `GOBIN=<repo>/bin go install " +
	CLIModule + "@" + CLIVersion + "`), or set TEMPORAL_CLI to the binary's path"

// ErrCLINotFound is returned (wrapped) by FindCLI when no CLI binary exists.
var ErrCLINotFound = errors.New("temporal CLI not found")

// FindCLI returns the path of the Temporal CLI: $TEMPORAL_CLI when set (it must
// exist), else bin/temporal under the module root found by walking up from the
// working directory to go.mod, else `temporal` on PATH.
func FindCLI() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w: TEMPORAL_CLI=%s is not an executable file; %s", ErrCLINotFound, p, InstallHint)
	}
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, "bin", "temporal")
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: %s", ErrCLINotFound, InstallHint)
}

// ModuleRoot walks up from the working directory to the directory holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
