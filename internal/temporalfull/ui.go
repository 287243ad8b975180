package temporalfull

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// UIEnv is the environment the UI server is started with: it reads
// <root>/config/<UIEnv>.yaml.
const UIEnv = "development"

// UIConfig is what the runner decides about the standalone UI server.
type UIConfig struct {
	TemporalAddress  string // the frontend's gRPC address
	Port             int    // served on 127.0.0.1
	DefaultNamespace string
	// CodecEndpoint, when set, is Tierflow's remote codec endpoint (<API>/codec):
	// the UI sends it the payloads it shows, with the browser's cookies
	// (includeCredentials), so that an operator signed in at <CodecEndpoint>/login
	// reads them in clear. Without a session the UI shows the encrypted payloads and
	// a banner linking to the sign-in page.
	CodecEndpoint string
}

// URL is the UI's base URL.
func (c UIConfig) URL() string { return "http://localhost:" + strconv.Itoa(c.Port) }

type uiYAML struct {
	TemporalGRPCAddress string `json:"temporalGrpcAddress"`
	Host                string `json:"host"`
	Port                int    `json:"port"`
	EnableUI            bool   `json:"enableUi"`
	DefaultNamespace    string `json:"defaultNamespace"`
	CORS                struct {
		AllowOrigins   []string `json:"allowOrigins"`
		CookieInsecure bool     `json:"cookieInsecure"`
	} `json:"cors"`
	NotifyOnNewVersion bool `json:"notifyOnNewVersion"`
	Codec              struct {
		Endpoint            string `json:"endpoint"`
		PassAccessToken     bool   `json:"passAccessToken"`
		IncludeCredentials  bool   `json:"includeCredentials"`
		DefaultErrorMessage string `json:"defaultErrorMessage,omitempty"`
		DefaultErrorLink    string `json:"defaultErrorLink,omitempty"`
	} `json:"codec"`
}

// Render returns the UI server's configuration file.
func (c UIConfig) Render() ([]byte, error) {
	if c.TemporalAddress == "" || c.Port == 0 {
		return nil, fmt.Errorf("ui config: the Temporal address and the port are required")
	}
	y := uiYAML{
		TemporalGRPCAddress: c.TemporalAddress, Host: "127.0.0.1", Port: c.Port, EnableUI: true,
		DefaultNamespace: c.DefaultNamespace,
	}
	if y.DefaultNamespace == "" {
		y.DefaultNamespace = "default"
	}
	// The UI posts from its own origin; plain HTTP on localhost needs insecure cookies.
	y.CORS.AllowOrigins = []string{c.URL(), "http://127.0.0.1:" + strconv.Itoa(c.Port)}
	y.CORS.CookieInsecure = true
	if c.CodecEndpoint != "" {
		endpoint := strings.TrimRight(c.CodecEndpoint, "/")
		y.Codec.Endpoint, y.Codec.IncludeCredentials = endpoint, true
		y.Codec.DefaultErrorMessage = "Payloads are encrypted. Operators: sign in to read them, then reload."
		y.Codec.DefaultErrorLink = endpoint + "/login"
	}
	out, err := yaml.Marshal(y)
	if err != nil {
		return nil, fmt.Errorf("ui config: %w", err)
	}
	return append([]byte("# Written by internal/temporalfull at every start: edits are overwritten.\n"), out...), nil
}

// WriteUIConfig writes <root>/config/development.yaml.
func WriteUIConfig(root string, c UIConfig) error {
	b, err := c.Render()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ui config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, UIEnv+".yaml"), b, 0o644); err != nil {
		return fmt.Errorf("ui config: %w", err)
	}
	return nil
}

// UIArgs are the UI server's arguments for a configuration written under root.
func UIArgs(root string) []string {
	return []string{"--root", root, "--env", UIEnv, "start"}
}

// FindUIServer returns the pinned UI server in binDir, or an error saying how to
// build it.
func FindUIServer(binDir string) (string, error) {
	p := filepath.Join(binDir, UIServerBinary)
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s: run `make prod-local-bins` (it builds %s@%s into bin/)",
			ErrBinaryMissing, p, UIServerPackage, UIServerVersion)
	}
	return p, nil
}
