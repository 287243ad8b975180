package searchattrs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/searchattrs"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/workflows"
)

// TestRegister registers the attributes on a dev server started without them, as
// `make prod-local` does on the full server.
func TestRegister(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := temporaldev.Start(ctx, temporaldev.Options{UIPort: temporaldev.UIDisabled, SkipSearchAttributes: true})
	require.NoError(t, err, temporaldev.InstallHint)
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := srv.Dial(ctx, nil)
	require.NoError(t, err)
	defer c.Close()

	missing, err := searchattrs.Missing(ctx, c, srv.Namespace())
	require.NoError(t, err)
	require.Len(t, missing, len(workflows.SearchAttributeTypes), "the server starts without them")

	require.NoError(t, searchattrs.Register(ctx, c, srv.Namespace()))
	missing, err = searchattrs.Missing(ctx, c, srv.Namespace())
	require.NoError(t, err)
	assert.Empty(t, missing)

	assert.NoError(t, searchattrs.Register(ctx, c, srv.Namespace()), "registering again is a no-op")
}
