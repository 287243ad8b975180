package archtest

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/tierflow/tierflow"

// productionMains are the processes that ship (deploy/Dockerfile builds them).
var productionMains = []string{module + "/worker", module + "/api", module + "/starter"}

// devHarnesses start servers, clusters and fakes for tests and `make dev`; none of
// them may be linked into a production binary.
var devHarnesses = []string{
	module + "/internal/temporaldev",
	module + "/internal/stack",
	module + "/internal/fakesendgrid",
	module + "/internal/pgcluster",
	module + "/internal/temporalfull",
	module + "/internal/prodlocal",
	module + "/internal/supervise",
	module + "/internal/webhookcheck",
}

// deps lists what pkg links, directly or not, leaving its tests out (go list
// -deps without -test).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, exitErr.Stderr)
	}
	require.NoError(t, err, "go list -deps %s (is go on PATH?)", pkg)
	return strings.Fields(string(out))
}

func TestProductionMainsLinkNoDevHarness(t *testing.T) {
	for _, main := range productionMains {
		linked := deps(t, main)
		require.Contains(t, linked, main, "go list saw the package itself")
		for _, harness := range devHarnesses {
			assert.NotContains(t, linked, harness, "%s links the dev harness %s (non-test code)", main, harness)
		}
	}
}

// The check can fail: the dev runner is meant to link the harnesses, and go list
// sees it.
func TestDevHarnessDependencyIsSeen(t *testing.T) {
	linked := deps(t, module+"/dev")
	assert.True(t, slices.Contains(linked, module+"/internal/temporaldev"), "dev links internal/temporaldev")
	assert.True(t, slices.Contains(linked, module+"/internal/pgcluster"), "dev links internal/pgcluster")
}
