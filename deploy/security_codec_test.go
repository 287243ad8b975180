package deploy

// The Temporal UI and the payload codec (issue 9). Temporal holds every payload
// encrypted; the API decrypts them for operators who signed in at <api>/codec/login,
// whose browser then sends an HMAC-signed, SameSite=Strict session cookie scoped to
// /codec. The deploy files must wire both ends: the UI sends the browser's
// credentials (includeCredentials) and never its own SSO token (passAccessToken,
// which would hand the UI's access token to another service), the API answers CORS
// for that UI's origin only, and the two are on one site (else the cookie is not
// sent). The last test starts the pinned UI server on the deploy files' settings:
// an env name it does not know, or a value its YAML template cannot hold, fails there.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// uiCodec is what the deploy files give the Temporal UI about the codec.
type uiCodec struct {
	Endpoint, IncludeCredentials, PassAccessToken, ErrorLink, UpdateDisabled string
}

func uiCodecOf(env map[string]string) uiCodec {
	return uiCodec{
		Endpoint: env["TEMPORAL_CODEC_ENDPOINT"], IncludeCredentials: env["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"],
		PassAccessToken: env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"], ErrorLink: env["TEMPORAL_CODEC_DEFAULT_ERROR_LINK"],
		UpdateDisabled: env["TEMPORAL_WORKFLOW_UPDATE_DISABLED"],
	}
}

// checkUICodec checks the UI's side: the API's codec endpoint, the browser's cookie,
// never the UI's own token, and the sign-in page as the error link.
func checkUICodec(t *testing.T, where string, c uiCodec, apiOrigin string) {
	t.Helper()
	assert.Equal(t, apiOrigin+"/codec", c.Endpoint, "%s: the UI decodes through the API's codec endpoint", where)
	assert.Equal(t, "true", c.IncludeCredentials, "%s: the browser sends the operator's codec session", where)
	assert.Contains(t, []string{"", "false"}, c.PassAccessToken, "%s: the UI's SSO token never goes to the API", where)
	assert.Equal(t, c.Endpoint+"/login", c.ErrorLink, "%s: a failed decode links to the sign-in page", where)
	assert.Equal(t, "true", c.UpdateDisabled, "%s: the worker refuses unsigned Updates; the UI offers none", where)
}

func TestSecurityComposeUIDecodesOnlyThroughTheAPIsOperatorSession(t *testing.T) {
	services := composeServices(t)
	uiEnv := stringMap(dig(services, "temporal-ui", "environment"))
	apiEnv := stringMap(dig(services, "api", "environment"))

	// Both are published on loopback only; the operator's browser reaches them as
	// localhost through an SSH tunnel, one site, so the SameSite=Strict cookie goes.
	uiPort := publishedPort(t, services, "temporal-ui")
	apiPort := publishedPort(t, services, "api")
	checkUICodec(t, "compose", uiCodecOf(uiEnv), "http://localhost:"+apiPort)

	origins, err := codec.ParseOrigins(apiEnv["TIERFLOW_CODEC_CORS_ORIGINS"])
	require.NoError(t, err)
	assert.Equal(t, []string{"http://localhost:" + uiPort}, origins,
		"compose: the API answers CORS with credentials for the UI's origin and no other")
}

func TestSecurityKubernetesUIDecodesOnlyThroughTheAPIsOperatorSession(t *testing.T) {
	config := stringMap(dig(byKind(t, "k8s/configmap.yaml")["ConfigMap"], "data"))
	public, err := url.Parse(config["TIERFLOW_PUBLIC_URL"])
	require.NoError(t, err)
	require.Equal(t, "https", public.Scheme, "the API is served over HTTPS")
	checkUICodec(t, "Helm web.additionalEnv", uiCodecOf(helmUIEnv(t)), "https://"+public.Host)

	origins, err := codec.ParseOrigins(config["TIERFLOW_CODEC_CORS_ORIGINS"])
	require.NoError(t, err)
	require.NotEmpty(t, origins, "k8s/configmap.yaml: the API must name the UI's origin")
	for _, o := range origins {
		u, _ := url.Parse(o)
		assert.Equal(t, "https", u.Scheme, "%s: the UI is served over HTTPS (the cookie is Secure)", o)
		assert.Equal(t, site(public.Hostname()), site(u.Hostname()), "%s: the UI and the API are one site, or the SameSite=Strict cookie is never sent", o)
	}
	// The API reads the configmap: the CORS origins reach its pod.
	for _, w := range workloads(t) {
		if w.name == "tierflow-api" {
			assert.Equal(t, "tierflow-config", dig(podContainers(w.pod)[0], "envFrom", "configMapRef", "name"))
		}
	}
}

// The pinned UI server (the version of the deployed image) reads the deploy files'
// settings through its own docker.yaml template and serves them to the browser.
func TestSecurityTemporalUIServerServesTheDeployedCodecSettings(t *testing.T) {
	services := composeServices(t)
	image, _ := dig(services, "temporal-ui", "image").(string)
	uiVersion := strings.TrimPrefix(temporalfull.UIServerVersion, "v")
	require.True(t, strings.HasPrefix(image, "temporalio/ui:"+uiVersion+"@"), "compose runs UI %s, the version this test starts", uiVersion)
	helmTag, _ := dig(documents(t, "temporal-values.yaml")[0], "web", "image", "tag").(string)
	require.True(t, strings.HasPrefix(helmTag, uiVersion+"@"), "Helm runs UI %s, the version this test starts", uiVersion)

	bin, err := temporalfull.FindUIServer(filepath.Join("..", "bin"))
	require.NoError(t, err)
	template := uiServerTemplate(t)

	for name, env := range map[string]map[string]string{
		"compose": interpolateDefaults(stringMap(dig(services, "temporal-ui", "environment"))),
		"helm":    helmUIEnv(t),
	} {
		t.Run(name, func(t *testing.T) {
			settings := uiServerSettings(t, bin, template, env)
			assert.Equal(t, env["TEMPORAL_CODEC_ENDPOINT"], settings.Codec.Endpoint)
			assert.True(t, settings.Codec.IncludeCredentials, "includeCredentials")
			assert.False(t, settings.Codec.PassAccessToken, "passAccessToken")
			assert.Equal(t, env["TEMPORAL_CODEC_DEFAULT_ERROR_MESSAGE"], settings.Codec.DefaultErrorMessage)
			assert.NotEmpty(t, settings.Codec.DefaultErrorMessage)
			assert.Equal(t, env["TEMPORAL_CODEC_DEFAULT_ERROR_LINK"], settings.Codec.DefaultErrorLink)
			assert.True(t, settings.WorkflowUpdateDisabled, "workflowUpdateDisabled")
			assert.Equal(t, "tierflow", settings.DefaultNamespace)
		})
	}
}

// uiSettings is the part of the UI server's GET /api/v1/settings checked here.
type uiSettings struct {
	DefaultNamespace string
	Codec            struct {
		Endpoint                            string
		PassAccessToken, IncludeCredentials bool
		DefaultErrorMessage                 string
		DefaultErrorLink                    string
	}
	WorkflowUpdateDisabled bool
}

// uiServerTemplate is the UI image's configuration template (config/docker.yaml of
// the ui-server module), from the module cache that `make prod-local-bins` fills.
func uiServerTemplate(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	require.NoError(t, err)
	module := strings.TrimSuffix(temporalfull.UIServerPackage, "/cmd/server")
	path := filepath.Join(strings.TrimSpace(string(out)), filepath.FromSlash(module)+"@"+temporalfull.UIServerVersion, "config", "docker.yaml")
	_, err = os.Stat(path)
	require.NoError(t, err, "the UI image's config template; run `make prod-local-bins`")
	return path
}

// uiServerSettings starts the UI server as the image does (its docker.yaml template,
// --env docker) on env, on a loopback port, and returns its settings.
func uiServerSettings(t *testing.T, bin, template string, env map[string]string) uiSettings {
	t.Helper()
	raw, err := os.ReadFile(template)
	require.NoError(t, err)
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "config"), 0o755))
	// host is not in the template (the image listens on every interface); the test
	// keeps to loopback.
	require.NoError(t, os.WriteFile(filepath.Join(root, "config", "docker.yaml"), append(raw, "\nhost: 127.0.0.1\n"...), 0o644))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--root", root, "--env", "docker", "start")
	cmd.Env = []string{"HOME=" + root, "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Nothing listens there: the settings need no Temporal server.
	cmd.Env = append(cmd.Env, "TEMPORAL_ADDRESS=127.0.0.1:1", "TEMPORAL_UI_PORT="+strconv.Itoa(port))
	logFile, err := os.Create(filepath.Join(root, "ui-server.log"))
	require.NoError(t, err)
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()

	settingsURL := "http://127.0.0.1:" + strconv.Itoa(port) + "/api/v1/settings"
	for {
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(logFile.Name())
			require.FailNow(t, "the UI server exited on these settings", "%v\n%s", err, log)
		case <-ctx.Done():
			require.FailNow(t, "the UI server did not answer", settingsURL)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(settingsURL)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		var s uiSettings
		require.NoError(t, json.Unmarshal(body, &s), "%s", body)
		return s
	}
}

// helmUIEnv is web.additionalEnv of the Helm values, as the UI container gets it.
func helmUIEnv(t *testing.T) map[string]string {
	t.Helper()
	list, ok := dig(documents(t, "temporal-values.yaml")[0], "web", "additionalEnv").([]any)
	require.True(t, ok, "temporal-values.yaml: web.additionalEnv")
	env := map[string]string{}
	for _, e := range list {
		m := e.(map[string]any)
		env[m["name"].(string)], _ = m["value"].(string)
	}
	return env
}

// interpolateDefaults replaces compose's ${NAME:-default} by its default.
func interpolateDefaults(env map[string]string) map[string]string {
	re := regexp.MustCompile(`\$\{[A-Z0-9_]+:-([^}]*)\}`)
	for k, v := range env {
		env[k] = re.ReplaceAllString(v, "$1")
	}
	return env
}

// publishedPort is the host port of a compose service's only published port.
func publishedPort(t *testing.T, services map[string]any, name string) string {
	t.Helper()
	ports, _ := dig(services, name, "ports").([]any)
	require.Len(t, ports, 1, "compose %s", name)
	spec := strings.Split(ports[0].(string), ":") // 127.0.0.1:<host port or range>:<container port>
	require.Len(t, spec, 3, "compose %s: %v", name, ports[0])
	first, _, _ := strings.Cut(spec[1], "-")
	return first
}

// site approximates a host's registrable domain by its last two labels.
func site(host string) string {
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return host
	}
	return strings.Join(labels[len(labels)-2:], ".")
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, val := range m {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}
