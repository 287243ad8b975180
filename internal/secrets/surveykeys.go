package secrets

import (
	"errors"
	"fmt"
	"slices"
)

// Survey keys (EnvSurveyKeys, EnvSurveyKey) are shared by the worker, which signs
// survey links with the first, and the API, which verifies them with every one. To
// rotate, put a new key first and keep the old one until the last link it signed
// has expired (the policy's survey expiry), then drop it.

// SurveyKeys reads the survey keys through getenv: TIERFLOW_SURVEY_KEYS when set,
// else TIERFLOW_SURVEY_KEY as a list of one. Each key must be at least minLen
// characters (production's stronger rule is CheckProductionKey, applied by the
// caller on the raw values). When both are set, TIERFLOW_SURVEY_KEY must be one of
// the list, so that a half-done migration cannot silently drop the key the links
// in customers' mailboxes were signed with. Errors never hold a key.
func SurveyKeys(getenv func(string) string, minLen int) ([][]byte, error) {
	single := getenv(EnvSurveyKey)
	list := SplitList(getenv(EnvSurveyKeys))
	name := EnvSurveyKeys
	switch {
	case len(list) > 0 && single != "" && !slices.Contains(list, single):
		return nil, fmt.Errorf("%s is set and is not one of %s: put it in the list (after the new key) or unset it", EnvSurveyKey, EnvSurveyKeys)
	case len(list) == 0 && single == "":
		return nil, fmt.Errorf("%s (or %s) is not set: the worker signs survey links with its first key, the API verifies them with every key", EnvSurveyKeys, EnvSurveyKey)
	case len(list) == 0:
		// The single key is used exactly as before (not trimmed): trimming would
		// change the key and break the links already sent.
		list, name = []string{single}, EnvSurveyKey
	}
	var problems []error
	keys := make([][]byte, 0, len(list))
	for i, k := range list {
		if len(k) < minLen {
			where := name
			if name == EnvSurveyKeys {
				where = fmt.Sprintf("%s key %d", name, i+1)
			}
			problems = append(problems, fmt.Errorf("%s must be at least %d characters (the API and the worker share the keys)", where, minLen))
		}
		keys = append(keys, []byte(k))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return keys, nil
}
