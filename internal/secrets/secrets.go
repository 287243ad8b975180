// Package secrets holds what Tierflow's processes share about secrets and the
// deployment mode: the documented development values (which production refuses),
// the placeholder marker of the example secret files, the strength rule for keys,
// and the loud warning every development-only setting logs.
package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
)

// EnvVar names the deployment mode: "production" in the deploy files, "development"
// (or unset) elsewhere.
const EnvVar = "TIERFLOW_ENV"

// Mode values of TIERFLOW_ENV.
const (
	ModeDevelopment = "development"
	ModeProduction  = "production"
)

// Production reads TIERFLOW_ENV through getenv. Any value other than "production",
// "development" or empty is an error, so that a typo ("prod") never silently runs
// with development defaults.
func Production(getenv func(string) string) (bool, error) {
	switch v := strings.TrimSpace(getenv(EnvVar)); strings.ToLower(v) {
	case ModeProduction:
		return true, nil
	case ModeDevelopment, "":
		return false, nil
	default:
		return false, fmt.Errorf("%s must be %q or %q, got %q", EnvVar, ModeProduction, ModeDevelopment, v)
	}
}

// Documented development values: `make dev`, the README and the tests use them, so
// they are public and production refuses them.
const (
	// DevSurveyKey signs survey links in the dev environment.
	DevSurveyKey = "tierflow-dev-survey-key-not-a-secret"
	// DevCodecKeys is the dev environment's TIERFLOW_CODEC_KEYS: one AES-256 key,
	// ID "dev-1".
	DevCodecKeys = "dev-1:XIaUyzhaKnH2dJXYmQZcBMAf44bJY7mwnLDsDNbR78M="
	// DevZendeskSecret verifies the Zendesk connector's signature in the dev
	// environment.
	DevZendeskSecret = "dev-zendesk-secret"
)

// DevTokens are the documented dev API tokens.
var DevTokens = []string{"dev-integration", "dev-agent", "dev-specialist", "dev-supervisor", "dev-executive", "dev-viewer"}

// devValues are every documented development secret, compared in full.
func devValues() []string {
	vals := append([]string{DevSurveyKey, DevCodecKeys, DevZendeskSecret}, DevTokens...)
	if _, key, ok := strings.Cut(DevCodecKeys, ":"); ok {
		vals = append(vals, key)
	}
	return vals
}

// IsDevValue reports whether v is (or, for a list, contains) a documented
// development secret.
func IsDevValue(v string) bool {
	for _, item := range append([]string{v}, SplitList(v)...) {
		item = strings.TrimSpace(item)
		if _, key, ok := strings.Cut(item, ":"); ok && !strings.Contains(key, ":") {
			if isDev(key) {
				return true
			}
		}
		if isDev(item) {
			return true
		}
	}
	return false
}

func isDev(v string) bool {
	for _, d := range devValues() {
		if v == d {
			return true
		}
	}
	return false
}

// PlaceholderMarker is written into every value of the example secret files
// (deploy/.env.example, deploy/k8s/secret.example.yaml): a value holding it was
// copied without being replaced.
const PlaceholderMarker = "CHANGE-ME"

// IsPlaceholder reports whether v still holds the example files' placeholder.
func IsPlaceholder(v string) bool {
	u := strings.ToUpper(v)
	return strings.Contains(u, PlaceholderMarker) || strings.Contains(u, "CHANGEME") || strings.Contains(u, "REPLACE-ME")
}

// MinKeyBytes is the least key material production accepts for a signing or
// encryption key.
const MinKeyBytes = 32

// minDistinctBytes rejects degenerate keys ("aaaa...", a counter): 32 random bytes
// have about 30 distinct values, so fewer than 16 is not random.
const minDistinctBytes = 16

// DecodeKey decodes a key written as hex or base64 (standard or URL alphabet, with
// or without padding). ok is false when it is neither.
func DecodeKey(v string) (key []byte, ok bool) {
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(v); err == nil && len(v) > 0 {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(v) > 0 {
			return b, true
		}
	}
	return nil, false
}

// CheckProductionKey is production's rule for a signing or encryption key named
// name: not a documented dev value, not a placeholder, and the hex or base64
// encoding of at least 32 random bytes (for example `openssl rand -base64 32`).
func CheckProductionKey(name, value string) error {
	switch {
	case strings.TrimSpace(value) == "":
		return fmt.Errorf("%s is empty", name)
	case IsDevValue(value):
		return fmt.Errorf("%s is a documented development key; production needs its own (openssl rand -base64 32)", name)
	case IsPlaceholder(value):
		return fmt.Errorf("%s still holds the example file's %s placeholder", name, PlaceholderMarker)
	}
	key, ok := DecodeKey(value)
	if !ok {
		return fmt.Errorf("%s must be the hex or base64 encoding of %d random bytes (openssl rand -base64 32)", name, MinKeyBytes)
	}
	if len(key) < MinKeyBytes {
		return fmt.Errorf("%s holds %d bytes; production needs at least %d random bytes (openssl rand -base64 32)", name, len(key), MinKeyBytes)
	}
	distinct := map[byte]bool{}
	for _, b := range key {
		distinct[b] = true
	}
	if len(distinct) < minDistinctBytes {
		return fmt.Errorf("%s is not random (%d distinct byte values in %d bytes); use openssl rand -base64 32", name, len(distinct), len(key))
	}
	return nil
}

// SplitList splits a comma-separated setting, trimming spaces and dropping empty
// items.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// WarnDevSetting logs, loudly, a development-only setting in use outside
// production: what it is and why it must not reach production.
func WarnDevSetting(logger *slog.Logger, setting, why string) {
	logger.Warn("DEVELOPMENT-ONLY SETTING IN USE: "+setting+" ("+why+"); "+EnvVar+"=production refuses it",
		slog.String("setting", setting), slog.Bool("dev_only", true))
}

// RandomKey is the base64 of n random bytes, as `openssl rand -base64 n` prints:
// the form production accepts for a survey key, and the key of a codec key item.
func RandomKey(n int) (string, error) {
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate a key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}
