package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// ensureUIServer finds the pinned standalone Temporal UI server in <repo>/bin,
// building it when it is missing (as `make prod-local-bins` does).
func ensureUIServer(ctx context.Context, con *console, root string) (string, error) {
	bin := filepath.Join(root, "bin")
	if p, err := temporalfull.FindUIServer(bin); err == nil {
		return p, nil
	}
	con.printf("build", "building the Temporal UI server %s into %s (a few minutes the first time)",
		temporalfull.UIServerVersion, rel(root, bin))
	install := filepath.Join(bin, ".install", "ui")
	err := runLogged(ctx, con, "build", root, append(os.Environ(), "GOBIN="+install),
		"go", "install", temporalfull.UIServerPackage+"@"+temporalfull.UIServerVersion)
	if err != nil {
		return "", fmt.Errorf("build the Temporal UI server: %w", err)
	}
	dst := filepath.Join(bin, temporalfull.UIServerBinary)
	if err := os.Rename(filepath.Join(install, "server"), dst); err != nil {
		return "", fmt.Errorf("install the Temporal UI server: %w", err)
	}
	return dst, nil
}

// codecURL is the API's codec endpoint as the browser reaches it: on localhost,
// the UI's site, so that the session cookie set at <codecURL>/login goes with the
// UI's codec calls.
func codecURL(p ports) string { return "http://localhost:" + strconv.Itoa(p.API) + "/codec" }

// startUI writes the UI server's configuration under <dataDir>/ui (the dev
// server's frontend, the codec endpoint with the browser's credentials) and starts
// it on the UI port.
func startUI(ctx context.Context, con *console, path, dataDir, temporalHostPort string, p ports) (*child, string, error) {
	root := filepath.Join(dataDir, "ui")
	cfg := temporalfull.UIConfig{TemporalAddress: temporalHostPort, Port: p.TemporalUI, CodecEndpoint: codecURL(p)}
	if err := temporalfull.WriteUIConfig(root, cfg); err != nil {
		return nil, "", err
	}
	con.printf("dev", "starting the Temporal UI server %s (:%d, codec endpoint %s)", temporalfull.UIServerVersion, p.TemporalUI, cfg.CodecEndpoint)
	ui, err := startChildArgs(con, "ui", path, temporalfull.UIArgs(root), temporalfull.ServerEnv())
	if err != nil {
		return nil, "", err
	}
	if err := waitReady(ctx, cfg.URL()+"/", ui); err != nil {
		return ui, "", fmt.Errorf("%w (port %d must be free)", err, p.TemporalUI)
	}
	return ui, cfg.URL(), nil
}

// codecKeysNote says in the banner which keys encrypt the payloads.
func codecKeysNote(env []string) string {
	for _, kv := range env {
		if kv == codec.EnvKeys+"="+secrets.DevCodecKeys {
			return "the documented dev key dev-1 (never for production)"
		}
	}
	return codec.EnvKeys + " from your environment"
}
