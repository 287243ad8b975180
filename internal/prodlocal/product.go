package prodlocal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/postgres"
)

// Grace periods: a worker lets in-flight activities finish for up to 20s (its
// StopTimeout), an API drains requests for up to 15s.
const (
	workerGrace      = 30 * time.Second
	apiGrace         = 20 * time.Second
	productStartWait = 90 * time.Second
)

// buildProduct compiles the worker and the API into binDir.
func buildProduct(ctx context.Context, root, binDir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", binDir+string(filepath.Separator), "./worker", "./api")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./worker ./api: %w\n%s", err, out)
	}
	return nil
}

// defineProduct creates the handles of the workers and the APIs (not started).
func (t *Topology) defineProduct(o Options) {
	env := t.productEnv(o)
	for i, addr := range t.WorkerMetrics {
		ready := "http://" + addr + "/readyz"
		t.Workers = append(t.Workers, supervise.New(supervise.Spec{
			Name: "worker-" + strconv.Itoa(i+1), Path: filepath.Join(o.BuildDir, "worker"),
			Env:     withEnv(env, "TIERFLOW_METRICS_ADDR="+addr),
			LogFile: filepath.Join(t.LogDir, "worker-"+strconv.Itoa(i+1)+".log"), Grace: workerGrace,
			Ready: supervise.HTTPReady(ready),
		}))
	}
	for i, url := range t.APIURLs {
		ready := "http://" + loopback(o.Ports.API+i) + "/readyz"
		t.APIs = append(t.APIs, supervise.New(supervise.Spec{
			Name: "api-" + strconv.Itoa(i+1), Path: filepath.Join(o.BuildDir, "api"),
			Env: withEnv(env, "TIERFLOW_API_ADDR="+loopback(o.Ports.API+i),
				"TIERFLOW_METRICS_ADDR="+t.APIMetrics[i], "TIERFLOW_PUBLIC_URL="+url),
			LogFile: filepath.Join(t.LogDir, "api-"+strconv.Itoa(i+1)+".log"), Grace: apiGrace,
			Ready: supervise.HTTPReady(ready),
		}))
	}
}

// startProduct migrates Tierflow's database and seeds the dev staff directory,
// then starts the workers and the APIs.
func (t *Topology) startProduct(ctx context.Context) error {
	store, err := postgres.Open(ctx, t.DSN(), slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("open Tierflow's database: %w", err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate Tierflow's database: %w", err)
	}
	if err := store.SeedDevStaff(ctx); err != nil {
		return fmt.Errorf("seed the dev staff: %w", err)
	}
	for _, p := range append(append([]*supervise.Process(nil), t.Workers...), t.APIs...) {
		t.logf("starting %s (log %s)", p.Name(), p.LogFile())
		if err := startWithin(ctx, p, productStartWait); err != nil {
			return err
		}
	}
	return nil
}

// productEnv is the environment shared by workers and APIs: the user's without
// Temporal client settings (a personal profile must not redirect the stack), plus
// the topology's. Survey links point at API 1.
func (t *Topology) productEnv(o Options) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TEMPORAL_") || name == "DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	env = withEnv(env,
		"TEMPORAL_ADDRESS="+t.FrontendAddress,
		"TEMPORAL_NAMESPACE="+Namespace,
		"DATABASE_URL="+t.DSN(),
		"TIERFLOW_SURVEY_KEY="+t.SurveyKey,
		codec.EnvKeys+"="+t.CodecKeys,
		"TIERFLOW_CODEC_CORS_ORIGINS="+t.UIURL+",http://127.0.0.1:"+strconv.Itoa(t.Ports.UI),
		"TIERFLOW_PUBLIC_URL="+t.APIURLs[0],
		"TIERFLOW_TEMPORAL_UI_URL="+t.UIURL, // staff emails link to the case's page in the UI
		"TIERFLOW_DEV_TOKENS=true",
	)
	if t.Mailbox {
		env = withEnv(env, "TIERFLOW_MAILBOX=true")
	}
	if o.Fast {
		env = withEnv(env, "TIERFLOW_DEFAULT_POLICY=fast")
	}
	return withEnv(env, o.Env...)
}

// withEnv returns env with each KEY=VALUE of set replacing any earlier KEY.
func withEnv(env []string, set ...string) []string {
	replaced := map[string]bool{}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		replaced[name] = true
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); !replaced[name] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// surveyKey is the key that signs survey links: TIERFLOW_SURVEY_KEY when set, else
// a random one generated at the first start and kept in the data folder, so that
// links stay valid across restarts (never the documented dev key).
func surveyKey(dataDir string) (string, error) {
	return keptSecret(dataDir, "TIERFLOW_SURVEY_KEY", "survey.key", func(raw []byte) string { return hex.EncodeToString(raw) })
}

// codecKeys encrypt the payloads in Temporal: TIERFLOW_CODEC_KEYS when set, else
// one random AES-256 key generated at the first start and kept in the data folder,
// so that the histories of earlier runs stay readable (never the documented dev
// key).
func codecKeys(dataDir string) (string, error) {
	return keptSecret(dataDir, codec.EnvKeys, "codec.keys", func(raw []byte) string {
		return "prod-local-1:" + base64.StdEncoding.EncodeToString(raw)
	})
}

// keptSecret is the value of env when set, else the one kept in <dataDir>/file,
// generated from 32 random bytes by format at the first start (mode 0600).
func keptSecret(dataDir, env, file string, format func(raw []byte) string) (string, error) {
	if k := os.Getenv(env); k != "" {
		return k, nil
	}
	path := filepath.Join(dataDir, file)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate %s: %w", file, err)
	}
	value := format(raw)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return value, nil
}
