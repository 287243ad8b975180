package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Process names the process whose settings CheckProduction checks: each reads its
// own secrets.
type Process string

// The processes with a production mode.
const (
	ProcessAPI    Process = "api"
	ProcessWorker Process = "worker"
)

// Environment variables CheckProduction reads. The processes parse them (the codec
// keys, the survey key list, the tokens); CheckProduction only judges them.
const (
	EnvDevTokens      = "TIERFLOW_DEV_TOKENS"
	EnvMailbox        = "TIERFLOW_MAILBOX"
	EnvSurveyKeys     = "TIERFLOW_SURVEY_KEYS" // comma-separated, newest first
	EnvSurveyKey      = "TIERFLOW_SURVEY_KEY"  // the older single key, a one-key list
	EnvCodecKeys      = "TIERFLOW_CODEC_KEYS"  // keyid:base64key,...
	EnvTokens         = "TIERFLOW_TOKENS"
	EnvTokensFile     = "TIERFLOW_TOKENS_FILE"
	EnvZendeskSecret  = "TIERFLOW_ZENDESK_SECRET"
	EnvSendGridAPIKey = "SENDGRID_API_KEY"
)

// secretSettings are the settings of each process that hold a secret (or, for
// DATABASE_URL, may embed one): a value still holding the example files'
// placeholder is refused in production. The keys are checked by CheckProductionKey.
var secretSettings = map[Process][]string{
	ProcessAPI:    {"DATABASE_URL", "TEMPORAL_API_KEY", EnvTokens, EnvZendeskSecret},
	ProcessWorker: {"DATABASE_URL", "TEMPORAL_API_KEY", EnvSendGridAPIKey},
}

// DevSetting is a development-only setting found in a process's environment.
type DevSetting struct {
	Setting string // what is set, e.g. "TIERFLOW_DEV_TOKENS=true"
	Why     string // what it exposes
	// key marks a documented dev key, which production's key rule refuses itself.
	key bool
}

// Mode is the outcome of CheckProduction for a process allowed to start.
type Mode struct {
	// Production is true under TIERFLOW_ENV=production.
	Production bool
	// DevSettings are the development-only settings in use (always empty in
	// production, which refuses them); the process logs each at start.
	DevSettings []DevSetting
}

// WarnDevSettings logs each development-only setting with WarnDevSetting.
func (m Mode) WarnDevSettings(logger *slog.Logger) {
	for _, d := range m.DevSettings {
		WarnDevSetting(logger, d.Setting, d.Why)
	}
}

// CheckProduction judges the secrets and development switches of process, read
// through getenv. Under TIERFLOW_ENV=production the error lists every refusal at
// once: the development-only settings (dev tokens, the dev mailbox, the documented
// dev keys and secrets), the example files' placeholders, survey and codec keys of
// fewer than 32 random bytes, no codec keys, and (worker) no SendGrid key. Outside
// production nothing is refused and Mode lists the development-only settings to
// warn about. The error is also set for a TIERFLOW_ENV that is neither mode.
func CheckProduction(getenv func(string) string, process Process) (Mode, error) {
	production, err := Production(getenv)
	if err != nil {
		return Mode{}, err
	}
	dev := devSettings(getenv, process)
	if !production {
		if strings.TrimSpace(getenv(EnvCodecKeys)) == "" {
			dev = append(dev, DevSetting{Setting: "no " + EnvCodecKeys,
				Why: "customer data is stored unencrypted in Temporal's history"})
		}
		return Mode{DevSettings: dev}, nil
	}

	var problems []error
	refuse := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(EnvVar+"=production: "+format, args...))
	}
	for _, d := range dev {
		if !d.key {
			refuse("refuses %s (%s)", d.Setting, d.Why)
		}
	}
	for _, name := range secretSettings[process] {
		if IsPlaceholder(getenv(name)) {
			refuse("%s still holds the example file's %s placeholder", name, PlaceholderMarker)
		}
	}
	for _, err := range surveyKeyProblems(getenv) {
		refuse("%v", err)
	}
	for _, err := range codecKeyProblems(getenv(EnvCodecKeys)) {
		refuse("%v", err)
	}
	if process == ProcessWorker && strings.TrimSpace(getenv(EnvSendGridAPIKey)) == "" {
		refuse("%s is required: production sends email through SendGrid", EnvSendGridAPIKey)
	}
	if err := errors.Join(problems...); err != nil {
		return Mode{}, err
	}
	return Mode{Production: true}, nil
}

// devSettings lists the development-only settings in process's environment.
func devSettings(getenv func(string) string, process Process) []DevSetting {
	var out []DevSetting
	add := func(setting, why string) { out = append(out, DevSetting{Setting: setting, Why: why}) }
	addKey := func(setting, why string) { out = append(out, DevSetting{Setting: setting, Why: why, key: true}) }
	if on, _ := strconv.ParseBool(strings.TrimSpace(getenv(EnvMailbox))); on {
		if process == ProcessAPI {
			add(EnvMailbox+"=true", "the dev mailbox at /dev/mailbox/ shows customers' addresses and live survey links")
		} else {
			add(EnvMailbox+"=true", "without a SendGrid key, email is kept in the dev mailbox instead of being sent")
		}
	}
	for _, name := range []string{EnvSurveyKeys, EnvSurveyKey} {
		if v := getenv(name); v != "" && IsDevValue(v) {
			addKey(name+" holding the documented dev survey key", "anyone can sign survey links")
		}
	}
	if v := getenv(EnvCodecKeys); v != "" && IsDevValue(v) {
		addKey(EnvCodecKeys+" holding the documented dev codec key", "anyone can decrypt the customer data in Temporal's history")
	}
	if process != ProcessAPI {
		return out
	}
	if on, _ := strconv.ParseBool(strings.TrimSpace(getenv(EnvDevTokens))); on {
		add(EnvDevTokens+"=true", "the documented dev tokens let anyone call the API in every role")
	}
	for _, tok := range devTokensConfigured(getenv) {
		add("the documented dev token "+strconv.Quote(tok)+" in "+EnvTokens+" or "+EnvTokensFile,
			"anyone who read the README can call the API with it")
	}
	if v := getenv(EnvZendeskSecret); v != "" && IsDevValue(v) {
		add(EnvZendeskSecret+" holding the documented dev secret", "anyone can sign Zendesk webhooks")
	}
	return out
}

// devTokensConfigured returns the documented dev tokens whose sha256 appears in
// the token entries (TIERFLOW_TOKENS inline or the TIERFLOW_TOKENS_FILE file). The
// text is searched, not parsed: the API parses it and reports a broken file itself.
func devTokensConfigured(getenv func(string) string) []string {
	text := getenv(EnvTokens)
	if path := getenv(EnvTokensFile); path != "" {
		if data, err := os.ReadFile(path); err == nil {
			text += "\n" + string(data)
		}
	}
	text = strings.ToLower(text)
	var found []string
	for _, tok := range DevTokens {
		if strings.Contains(text, TokenSHA256(tok)) {
			found = append(found, tok)
		}
	}
	return found
}

// TokenSHA256 is the hex sha256 of an API token: the form token files hold.
func TokenSHA256(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// surveyKeyProblems applies production's key rule to every survey key: the list
// TIERFLOW_SURVEY_KEYS and the single TIERFLOW_SURVEY_KEY. At least one is needed.
func surveyKeyProblems(getenv func(string) string) []error {
	var problems []error
	keys := 0
	if list := SplitList(getenv(EnvSurveyKeys)); len(list) > 0 {
		for i, key := range list {
			keys++
			if err := CheckProductionKey(fmt.Sprintf("%s (key %d of %d)", EnvSurveyKeys, i+1, len(list)), key); err != nil {
				problems = append(problems, err)
			}
		}
	}
	if key := getenv(EnvSurveyKey); strings.TrimSpace(key) != "" {
		keys++
		if err := CheckProductionKey(EnvSurveyKey, key); err != nil {
			problems = append(problems, err)
		}
	}
	if keys == 0 {
		problems = append(problems, fmt.Errorf("%s is required: the key that signs survey links (openssl rand -base64 32)", EnvSurveyKeys))
	}
	return problems
}

// codecKeyProblems applies production's key rule to every key of
// TIERFLOW_CODEC_KEYS (keyid:base64key,...), which production requires.
func codecKeyProblems(v string) []error {
	if IsPlaceholder(v) {
		return []error{fmt.Errorf("%s still holds the example file's %s placeholder", EnvCodecKeys, PlaceholderMarker)}
	}
	items := SplitList(v)
	if len(items) == 0 {
		return []error{fmt.Errorf("%s is required: customer data in Temporal's history must be encrypted (keyid:base64key, the key from openssl rand -base64 32)", EnvCodecKeys)}
	}
	var problems []error
	for i, item := range items {
		id, key, ok := strings.Cut(item, ":")
		if !ok || strings.TrimSpace(id) == "" {
			problems = append(problems, fmt.Errorf("%s item %d must be keyid:base64key", EnvCodecKeys, i+1))
			continue
		}
		if err := CheckProductionKey(fmt.Sprintf("%s key %q", EnvCodecKeys, strings.TrimSpace(id)), key); err != nil {
			problems = append(problems, err)
		}
	}
	return problems
}
