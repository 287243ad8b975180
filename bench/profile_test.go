package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The capture takes back-to-back slices from a real pprof endpoint (this test
// process's own, through net/http/pprof), merges them into one profile and finds
// the function that burned the CPU at the top.
func TestCPUCaptureMergesSlicesAndFindsTheHotFunction(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c := startCPUCapture(ctx, srv.Client(), srv.URL+"/debug/pprof", time.Second)
	spun = spinForProfile(1500 * time.Millisecond)
	slices, err := c.stop()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(slices), 2, "a second slice starts when the first ends")
	for _, s := range slices {
		require.Greater(t, len(s), 2)
		assert.Equal(t, []byte{0x1f, 0x8b}, s[:2], "gzipped profile.proto")
	}

	path := filepath.Join(t.TempDir(), "bench-20261130-120000-burst-worker.pprof")
	require.NoError(t, saveProfile(ctx, path, slices))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Positive(t, info.Size())
	top, err := topOf(ctx, path, topFunctions)
	require.NoError(t, err)
	assert.Contains(t, top, "spinForProfile", "the merged profile's top:\n%s", top)
}

// A process without the profiles (TIERFLOW_PPROF unset: 404) fails the capture
// with a reason that names the setting.
func TestCPUCaptureSaysWhenTheEndpointIsOff(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := startCPUCapture(context.Background(), srv.Client(), srv.URL+"/debug/pprof", time.Second)
	slices, err := c.stop()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
	assert.Contains(t, err.Error(), "TIERFLOW_PPROF")
	assert.Empty(t, slices)
	assert.Error(t, saveProfile(context.Background(), filepath.Join(t.TempDir(), "x.pprof"), slices), "nothing to save")
}

// spun keeps spinForProfile's result, so the loop is not optimised away.
var spun uint64

// spinForProfile keeps a CPU busy for d in its own code (arithmetic on
// registers, no calls but the clock now and then), so that it leads the
// profile's flat time, with or without -race.
//
//go:noinline
func spinForProfile(d time.Duration) uint64 {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}
