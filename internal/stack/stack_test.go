package stack

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A long run's output keeps only its tail, and the newest lines survive.
func TestTailBufferKeepsTheNewestOutput(t *testing.T) {
	b := &tailBuffer{max: 1000}
	for i := range 500 {
		_, err := b.Write([]byte(strings.Repeat("x", 9) + string(rune('a'+i%26)) + "\n"))
		require.NoError(t, err)
	}
	out := b.String()
	assert.LessOrEqual(t, len(out), 1000)
	assert.True(t, strings.HasSuffix(out, "xxxxxxxxxf\n"), "the last line written (499 %% 26 = 5: f) is kept")
}

// Nothing the product reads leaks from the caller's shell into a child.
func TestChildEnvDropsTheProductsSettings(t *testing.T) {
	t.Setenv("TIERFLOW_API_ADDR", ":1")
	t.Setenv("TEMPORAL_ADDRESS", "elsewhere:7233")
	t.Setenv("SENDGRID_API_KEY", "SG.secret")
	t.Setenv("DATABASE_URL", "postgres://elsewhere")
	t.Setenv("STACK_TEST_KEEP", "kept")
	env := childEnv(map[string]string{"DATABASE_URL": "postgres://here"})
	assert.Contains(t, env, "STACK_TEST_KEEP=kept")
	assert.Contains(t, env, "DATABASE_URL=postgres://here")
	for _, kv := range env {
		assert.NotContains(t, []string{"TIERFLOW_API_ADDR=:1", "TEMPORAL_ADDRESS=elsewhere:7233",
			"SENDGRID_API_KEY=SG.secret", "DATABASE_URL=postgres://elsewhere"}, kv)
	}
}

func TestPeakRSSOfARunningProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, err := peakRSS(os.Getpid())
		assert.Error(t, err, "peak RSS is read from /proc, on linux only")
		return
	}
	rss, err := peakRSS(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20), "a Go test binary holds more than 1 MiB")
}
