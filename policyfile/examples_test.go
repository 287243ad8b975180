package policyfile

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example policy files the README runs (docs/examples) load, and the slower
// variant of "fast" differs from it only in its acknowledge clocks.
func TestExamplePolicyFilesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "docs", "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		_, err := Load(f)
		assert.NoError(t, err, f)
	}
	slower, err := Load(filepath.Join("..", "docs", "examples", "fast-slower.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "fast", slower.Name, "named like the loaded policy, so the simulation shows its plan")
}
