package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The profiles are served on the ops address only when TIERFLOW_PPROF asks for
// them; the probes and metrics are served either way.
func TestOpsServerServesPprofOnlyWhenAsked(t *testing.T) {
	for _, withPprof := range []bool{false, true} {
		name := "off by default"
		if withPprof {
			name = "on with TIERFLOW_PPROF"
		}
		t.Run(name, func(t *testing.T) {
			ready := &readiness{}
			ready.started.Store(true)
			metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "# metrics\n") })
			ops, err := startOpsServer("127.0.0.1:0", metrics, ready, withPprof, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			t.Cleanup(ops.shutdown)
			base := "http://" + ops.Addr()

			assert.Equal(t, http.StatusOK, statusOf(t, base+"/healthz"))
			assert.Equal(t, http.StatusOK, statusOf(t, base+"/metrics"))
			if !withPprof {
				assert.Equal(t, http.StatusNotFound, statusOf(t, base+"/debug/pprof/"))
				assert.Equal(t, http.StatusNotFound, statusOf(t, base+"/debug/pprof/profile?seconds=1"))
				return
			}
			assert.Equal(t, http.StatusOK, statusOf(t, base+"/debug/pprof/"))
			res, err := http.Get(base + "/debug/pprof/profile?seconds=1")
			require.NoError(t, err)
			defer res.Body.Close()
			profile, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			require.Greater(t, len(profile), 2)
			assert.Equal(t, []byte{0x1f, 0x8b}, profile[:2], "a CPU profile (gzipped protobuf)")
			assert.Equal(t, http.StatusOK, statusOf(t, base+"/debug/pprof/heap"))
		})
	}
}

func statusOf(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}
