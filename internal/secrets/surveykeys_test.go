package secrets

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSurveyKeysReadTheListNewestFirst(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	const newest, previous = "survey-key-newest-0123456789", "survey-key-previous-0123456789"

	keys, err := SurveyKeys(env(map[string]string{EnvSurveyKeys: " " + newest + " , " + previous + ","}), 16)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte(newest), []byte(previous)}, keys, "in order, trimmed, empty items dropped")

	keys, err = SurveyKeys(env(map[string]string{EnvSurveyKey: previous}), 16)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte(previous)}, keys, "the single key of earlier releases is a list of one")

	keys, err = SurveyKeys(env(map[string]string{EnvSurveyKeys: newest + "," + previous, EnvSurveyKey: previous}), 16)
	require.NoError(t, err, "mid-migration: the old variable names a key of the list")
	assert.Len(t, keys, 2)

	for name, tt := range map[string]struct {
		vars map[string]string
		want string
	}{
		"nothing set":       {map[string]string{}, "TIERFLOW_SURVEY_KEYS (or TIERFLOW_SURVEY_KEY) is not set"},
		"short single key":  {map[string]string{EnvSurveyKey: "short"}, "TIERFLOW_SURVEY_KEY must be at least 16"},
		"short key in list": {map[string]string{EnvSurveyKeys: newest + ",short"}, "TIERFLOW_SURVEY_KEYS key 2 must be at least 16"},
		"old key dropped":   {map[string]string{EnvSurveyKeys: newest, EnvSurveyKey: previous}, "TIERFLOW_SURVEY_KEY is set and is not one of TIERFLOW_SURVEY_KEYS"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := SurveyKeys(env(tt.vars), 16)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			for _, k := range []string{newest, previous, "short"} {
				assert.NotContains(t, err.Error(), k, "an error never shows a key")
			}
		})
	}
}
