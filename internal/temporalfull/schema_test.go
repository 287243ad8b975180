package temporalfull

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchemaDirsIn(t *testing.T) {
	mod := t.TempDir()
	_, err := SchemaDirsIn(mod)
	assert.ErrorContains(t, err, "missing from the server module")

	for _, d := range []string{"temporal", "visibility"} {
		require.NoError(t, os.MkdirAll(filepath.Join(mod, "schema", "postgresql", "v12", d, "versioned", "v1.0"), 0o755))
	}
	dirs, err := SchemaDirsIn(mod)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(mod, "schema/postgresql/v12/temporal/versioned"), dirs.Default)
	assert.Equal(t, filepath.Join(mod, "schema/postgresql/v12/visibility/versioned"), dirs.Visibility)
}

func TestFindNamesTheMissingBinariesAndTheMakeTarget(t *testing.T) {
	bin := t.TempDir()
	_, err := Find(bin)
	require.ErrorIs(t, err, ErrBinaryMissing)
	assert.Contains(t, err.Error(), "make prod-local-bins")
	assert.Contains(t, err.Error(), filepath.Join(bin, ServerBinary))

	for _, name := range []string{ServerBinary, SQLToolBinary, UIServerBinary} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755))
	}
	b, err := Find(bin)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(bin, UIServerBinary), b.UIServer)
}
