package secrets

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProductionMode(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	for v, want := range map[string]bool{"": false, "development": false, "production": true, "Production": true} {
		got, err := Production(env(v))
		require.NoError(t, err, v)
		assert.Equal(t, want, got, v)
	}
	_, err := Production(env("prod"))
	require.ErrorContains(t, err, `TIERFLOW_ENV must be "production" or "development", got "prod"`)
}

func TestCheckProductionKeyRefusesWeakKeys(t *testing.T) {
	for name, tt := range map[string]struct{ value, want string }{
		"empty":          {"", "is empty"},
		"dev survey key": {DevSurveyKey, "documented development key"},
		"dev codec keys": {DevCodecKeys, "documented development key"},
		"dev codec key":  {strings.TrimPrefix(DevCodecKeys, "dev-1:"), "documented development key"},
		"placeholder":    {"CHANGE-ME-to-32-random-bytes-hex", "placeholder"},
		"not encoded":    {"a passphrase someone typed in once!", "hex or base64"},
		"16 bytes":       {"00112233445566778899aabbccddeeff", "holds 16 bytes"},
		"not random":     {strings.Repeat("ab", 40), "not random"},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckProductionKey("TIERFLOW_SURVEY_KEYS", tt.value)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "TIERFLOW_SURVEY_KEYS")
		})
	}
	require.NoError(t, CheckProductionKey("K", "0c1f4e9a7b3d5c2e8f6a1b0d9c7e5f3a2b4d6c8e0f1a3b5c7d9e1f2a4b6c8d0e"))
	require.NoError(t, CheckProductionKey("K", "q3J9vX2mL8pR4tY7wZ1aB5cD6eF0gH2iJ4kL6mN8oP0="))
}

func TestDevValuesAndPlaceholders(t *testing.T) {
	for _, tok := range DevTokens {
		assert.True(t, IsDevValue(tok), tok)
	}
	assert.True(t, IsDevValue("prod-1:abc,"+DevCodecKeys), "a list holding the dev key")
	assert.False(t, IsDevValue("my-real-token-5f2c"))
	assert.True(t, IsPlaceholder("CHANGE-ME: the SendGrid key"))
	assert.False(t, IsPlaceholder("SG.realkey"))
	assert.Equal(t, []string{"a", "b"}, SplitList(" a, ,b ,"))
}
