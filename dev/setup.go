package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/internal/temporaldev"
)

// ensureTemporalCLI finds the Temporal CLI, building the pinned version into
// <repo>/bin when it is missing (and TEMPORAL_CLI does not name another one).
func ensureTemporalCLI(ctx context.Context, con *console, root string) (string, error) {
	cli, err := temporaldev.FindCLI()
	if err == nil {
		return cli, nil
	}
	if os.Getenv("TEMPORAL_CLI") != "" {
		return "", err
	}
	bin := filepath.Join(root, "bin")
	con.printf("build", "building the Temporal CLI %s into %s (a few minutes the first time)", temporaldev.CLIVersion, rel(root, bin))
	err = runLogged(ctx, con, "build", root, append(os.Environ(), "GOBIN="+bin),
		"go", "install", temporaldev.CLIModule+"@"+temporaldev.CLIVersion)
	if err != nil {
		return "", fmt.Errorf("build the Temporal CLI: %w", err)
	}
	return filepath.Join(bin, "temporal"), nil
}

type binaries struct{ worker, api string }

// buildBinaries compiles the worker and the API into bin, so that their processes
// can be started, signalled and stopped directly.
func buildBinaries(ctx context.Context, con *console, root, bin string) (binaries, error) {
	con.printf("build", "go build -o %s/ ./worker ./api", rel(root, bin))
	if err := runLogged(ctx, con, "build", root, os.Environ(), "go", "build", "-o", bin+string(filepath.Separator), "./worker", "./api"); err != nil {
		return binaries{}, fmt.Errorf("build the worker and the API: %w", err)
	}
	return binaries{worker: filepath.Join(bin, "worker"), api: filepath.Join(bin, "api")}, nil
}

// runLogged runs a command to completion with its output prefixed on the console.
func runLogged(ctx context.Context, con *console, prefix, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		con.printf(prefix, "%s", sc.Text())
	}
	return cmd.Wait()
}

// childEnv is the environment of the worker and the API: the user's, without
// Temporal client settings (a personal profile must not redirect the dev stack),
// plus the dev settings.
func childEnv(base []string, temporalHostPort, dsn, publicURL string, opts options) []string {
	var env []string
	for _, kv := range base {
		if strings.HasPrefix(kv, "TEMPORAL_") {
			continue
		}
		env = append(env, kv)
	}
	env = withEnv(env,
		"TEMPORAL_ADDRESS="+temporalHostPort,
		"TEMPORAL_NAMESPACE="+temporaldev.DefaultNamespace,
		"DATABASE_URL="+dsn,
		"TIERFLOW_DEV_TOKENS=true",
	)
	if !hasEnv(env, "TIERFLOW_SURVEY_KEY") {
		env = withEnv(env, "TIERFLOW_SURVEY_KEY="+secrets.DevSurveyKey)
	}
	if !hasEnv(env, "TIERFLOW_PUBLIC_URL") {
		env = withEnv(env, "TIERFLOW_PUBLIC_URL="+publicURL)
	}
	// Payloads are encrypted in Temporal, with the documented dev key unless the
	// user brings keys; the UI on its port may call the API's codec endpoint.
	if !hasEnv(env, codec.EnvKeys) {
		env = withEnv(env, codec.EnvKeys+"="+secrets.DevCodecKeys)
	}
	if !hasEnv(env, "TIERFLOW_CODEC_CORS_ORIGINS") {
		ui := strconv.Itoa(opts.Ports.withDefaults().TemporalUI)
		env = withEnv(env, "TIERFLOW_CODEC_CORS_ORIGINS=http://localhost:"+ui+",http://127.0.0.1:"+ui)
	}
	// Staff emails link to the case's page in the dev stack's Temporal UI.
	if !hasEnv(env, "TIERFLOW_TEMPORAL_UI_URL") {
		env = withEnv(env, "TIERFLOW_TEMPORAL_UI_URL=http://localhost:"+strconv.Itoa(opts.Ports.withDefaults().TemporalUI))
	}
	// The Zendesk connector answers deliveries signed with the documented dev secret;
	// Zendesk groups naming the dev directory's departments set the department.
	if !hasEnv(env, secrets.EnvZendeskSecret) {
		env = withEnv(env, secrets.EnvZendeskSecret+"="+secrets.DevZendeskSecret)
	}
	if !hasEnv(env, "TIERFLOW_ZENDESK_DEPARTMENTS") {
		env = withEnv(env, "TIERFLOW_ZENDESK_DEPARTMENTS=billing,technical,shipping")
	}
	if mailboxEnabled() {
		env = withEnv(env, "TIERFLOW_MAILBOX=true")
	}
	if opts.Fast {
		env = withEnv(env, "TIERFLOW_DEFAULT_POLICY=fast")
	}
	return env
}

// mailboxEnabled: without a SendGrid key, email is kept in the dev mailbox.
func mailboxEnabled() bool { return os.Getenv("SENDGRID_API_KEY") == "" }

// withEnv returns env with each KEY=VALUE of set replacing any earlier KEY.
func withEnv(env []string, set ...string) []string {
	out := make([]string, 0, len(env)+len(set))
	replaced := map[string]bool{}
	for _, kv := range set {
		replaced[strings.SplitN(kv, "=", 2)[0]] = true
	}
	for _, kv := range env {
		if !replaced[strings.SplitN(kv, "=", 2)[0]] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key && v != "" {
			return true
		}
	}
	return false
}
