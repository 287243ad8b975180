package policyfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	std, ok := r.Get("")
	require.True(t, ok)
	assert.Equal(t, "standard", std.Name)
	fast, ok := r.Get("fast")
	require.True(t, ok)
	assert.Equal(t, "fast", fast.Name)
	_, ok = r.Get("premium")
	assert.False(t, ok)
	assert.Equal(t, []string{"fast", "standard"}, r.Names())

	paris, err := InTimeZone(Default(), "Europe/Paris")
	require.NoError(t, err)
	premium := Default()
	premium.Name = "premium"
	r = NewRegistry(paris, premium)
	got, ok := r.Get("standard")
	require.True(t, ok)
	assert.Equal(t, "Europe/Paris", got.Calendars["business"].TimeZone, "an extra policy replaces the embedded one")
	_, ok = r.Get("premium")
	assert.True(t, ok)
	assert.Equal(t, []string{"fast", "premium", "standard"}, r.Names())
}

func TestLoadRegistry(t *testing.T) {
	dir := t.TempDir()
	write := func(file, name, ack string) string {
		text := strings.Replace(string(defaultYAML), "name: standard", "name: "+name, 1)
		text = strings.Replace(text, "acknowledge: {default: 1h}", "acknowledge: {default: "+ack+"}", 1)
		path := filepath.Join(dir, file)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	gold := write("gold.yaml", "gold", "30m")
	silver := write("silver.yaml", "silver", "2h")

	r, err := LoadRegistry(gold, silver)
	require.NoError(t, err)
	assert.Equal(t, []string{"fast", "gold", "silver", "standard"}, r.Names())
	p, ok := r.Get("gold")
	require.True(t, ok)
	assert.Equal(t, 30*time.Minute, p.Priorities[tierflow.PriorityUrgent].Acknowledge.For(1))

	r, err = LoadRegistry()
	require.NoError(t, err)
	assert.Equal(t, []string{"fast", "standard"}, r.Names())

	again := write("gold-copy.yaml", "gold", "45m")
	_, err = LoadRegistry(gold, again)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `policy "gold" is already defined by `+gold)

	broken := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("name: x\nversion: 1\nsurprise: true\n"), 0o600))
	_, err = LoadRegistry(gold, broken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "policy file "+broken+": invalid policy: ")
	assert.Contains(t, err.Error(), "surprise unknown field")
}
