package deploy

// Security rules of the deployment files (issue 9, deploy hygiene). Each test is a
// regression that used to pass unnoticed: an image that a moved tag can replace, a
// compose default password, a port on a public interface, a pod holding another
// workload's secrets or a Kubernetes API token, a namespace without network policy.

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow/internal/secrets"
)

var pinnedImage = regexp.MustCompile(`^[a-z0-9./_-]+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$`)

// tierflowImages are Tierflow's own builds of deploy/Dockerfile: kustomize sets them
// (kustomization.yaml "images") and compose builds them; they are not pulled.
var tierflowImages = []string{"tierflow-api", "tierflow-worker", "tierflow-api:local", "tierflow-worker:local"}

func TestSecurityDockerfilePinsEveryBaseImageByDigest(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	stages := map[string]bool{}
	froms := 0
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(strings.ToLower(line), "# syntax=") {
			assert.Regexp(t, pinnedImage, strings.TrimSpace(line[len("# syntax="):]), "the Dockerfile frontend is an image too")
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.EqualFold(fields[0], "FROM") {
			continue
		}
		froms++
		args := slices.DeleteFunc(fields[1:], func(f string) bool { return strings.HasPrefix(f, "--") })
		if !stages[args[0]] { // FROM <an earlier stage of this file> pulls nothing
			assert.Regexp(t, pinnedImage, args[0], "Dockerfile: %s", line)
		}
		if len(args) == 3 && strings.EqualFold(args[1], "AS") {
			stages[args[2]] = true
		}
	}
	assert.GreaterOrEqual(t, froms, 2)

	goMod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	require.NotNil(t, goVersion)
	assert.Contains(t, string(raw), "FROM golang:"+string(goVersion[1])+"-", "the build image follows go.mod's Go version")
}

func TestSecurityComposeAndKubernetesPinEveryPulledImageByDigest(t *testing.T) {
	for name, svc := range composeServices(t) {
		image, _ := dig(svc, "image").(string)
		if slices.Contains(tierflowImages, image) {
			assert.NotNil(t, dig(svc, "build"), "%s: %s is built here", name, image)
			continue
		}
		assert.Regexp(t, pinnedImage, image, "compose service %s", name)
		if strings.HasPrefix(image, "temporalio/auto-setup:") {
			assert.NotNil(t, dig(svc, "entrypoint"), "compose %s: auto-setup's own setup step never runs", name)
		}
	}
	for _, w := range workloads(t) {
		for _, c := range podContainers(w.pod) {
			image, _ := dig(c, "image").(string)
			if slices.Contains(tierflowImages, image) {
				continue
			}
			assert.Regexp(t, pinnedImage, image, "%s container %v", w.name, dig(c, "name"))
			if strings.HasPrefix(image, "temporalio/auto-setup:") {
				assert.NotNil(t, dig(c, "command"), "%s: auto-setup's own setup step never runs", w.name)
			}
		}
	}
	values := documents(t, "temporal-values.yaml")[0]
	ui := dig(values, "web", "image")
	assert.Regexp(t, pinnedImage, dig(ui, "repository").(string)+":"+dig(ui, "tag").(string), "Helm: the Temporal UI")
}

func TestSecurityComposeHasNoDefaultForAnySecret(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	require.NoError(t, err)
	// Only these settings may have a default: none of them is a secret.
	defaultsAllowed := []string{"TEMPORAL_NAMESPACE", "NAMESPACE_RETENTION", "TIERFLOW_LOG_LEVEL", "TIERFLOW_TRUSTED_PROXIES"}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+):?-`).FindAllStringSubmatch(string(raw), -1) {
		assert.Contains(t, defaultsAllowed, m[1], "compose: ${%s:-...} gives a default to a setting that must be required", m[1])
	}

	secretName := regexp.MustCompile(`PASSWORD|PWD|KEY|TOKEN|SECRET|DATABASE_URL`)
	// Named like a secret, but a switch: whether the UI sends its own token (never).
	notSecrets := []string{"TEMPORAL_CODEC_PASS_ACCESS_TOKEN"}
	required := regexp.MustCompile(`\$\{[A-Z0-9_]+:\?[^}]+\}`)
	for name, svc := range composeServices(t) {
		env, _ := dig(svc, "environment").(map[string]any)
		for key, value := range env {
			if secretName.MatchString(key) && !slices.Contains(notSecrets, key) {
				assert.Regexp(t, required, value, "compose %s: %s must come from a required variable", name, key)
			}
		}
	}
	initSQL, _ := dig(documents(t, "compose.yaml")[0], "configs", "init-databases", "content").(string)
	for _, m := range regexp.MustCompile(`PASSWORD '([^']*)'`).FindAllStringSubmatch(initSQL, -1) {
		assert.Regexp(t, required, m[1], "compose: a database role's password must come from a required variable")
	}
}

func TestSecurityComposePublishesOnlyOnLoopback(t *testing.T) {
	services := composeServices(t)
	published := map[string][]string{}
	for name, svc := range services {
		ports, _ := dig(svc, "ports").([]any)
		for _, p := range ports {
			spec, ok := p.(string)
			require.True(t, ok, "compose %s: use the short port syntax", name)
			assert.True(t, strings.HasPrefix(spec, "127.0.0.1:"), "compose %s publishes %q beyond loopback", name, spec)
			published[name] = append(published[name], spec)
		}
	}
	assert.NotContains(t, published, "postgres", "PostgreSQL is never published")
	assert.Equal(t, []string{"127.0.0.1:7233:7233"}, published["temporal"])
	assert.Equal(t, []string{"127.0.0.1:8233:8080"}, published["temporal-ui"])
}

func TestSecurityEnvExampleListsEveryRequiredComposeVariable(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	require.NoError(t, err)
	var requiredVars []string
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+):\?`).FindAllStringSubmatch(string(raw), -1) {
		if !slices.Contains(requiredVars, m[1]) {
			requiredVars = append(requiredVars, m[1])
		}
	}
	example := envFile(t, ".env.example")
	for _, name := range requiredVars {
		value, ok := example[name]
		if assert.True(t, ok, ".env.example lacks the required %s", name) {
			assert.True(t, secrets.IsPlaceholder(value), ".env.example: %s=%q holds no %s placeholder", name, value, secrets.PlaceholderMarker)
		}
	}
	for name := range example {
		assert.Contains(t, requiredVars, name, ".env.example sets %s, which compose does not require", name)
	}
	for _, want := range []string{"POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD", "TIERFLOW_SURVEY_KEYS", "TIERFLOW_CODEC_KEYS", "SENDGRID_API_KEY", "TIERFLOW_TOKENS"} {
		assert.Contains(t, requiredVars, want)
	}
	gitignore, err := os.ReadFile("../.gitignore")
	require.NoError(t, err)
	assert.Contains(t, strings.Fields(string(gitignore)), "/deploy/.env", "the real .env never reaches git")
}

func TestSecurityProductionModeForTheWorkerAndTheAPI(t *testing.T) {
	services := composeServices(t)
	for _, name := range []string{"worker", "api"} {
		assert.Equal(t, secrets.ModeProduction, dig(services, name, "environment", secrets.EnvVar), "compose %s", name)
		env, _ := dig(services, name, "environment").(map[string]any)
		assert.NotContains(t, env, "TIERFLOW_MAILBOX", "compose %s: a dev-only setting", name)
		assert.NotContains(t, env, "TIERFLOW_DEV_TOKENS", "compose %s: a dev-only setting", name)
	}
	for _, w := range workloads(t) {
		if w.kind != "Deployment" {
			continue
		}
		c := podContainers(w.pod)[0]
		assert.Equal(t, secrets.ModeProduction, containerEnv(c)[secrets.EnvVar], "%s", w.name)
	}
	raw, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	for _, stage := range []string{"worker", "api"} {
		body := regexp.MustCompile(`(?s)FROM runtime AS ` + stage + `\n(.*?)(\nFROM |$)`).FindStringSubmatch(string(raw))
		require.NotNil(t, body, "Dockerfile stage %s", stage)
		assert.Regexp(t, `ENV .*TIERFLOW_ENV=production`, body[1], "Dockerfile stage %s", stage)
	}
}

func TestSecurityNoServiceAccountTokenInTierflowPods(t *testing.T) {
	accounts := map[string]any{}
	for _, doc := range documents(t, "k8s/serviceaccounts.yaml") {
		accounts[dig(doc, "metadata", "name").(string)] = doc["automountServiceAccountToken"]
	}
	ws := workloads(t)
	require.Len(t, ws, 3, "the worker, the API and the registration Job")
	for _, w := range ws {
		assert.Equal(t, false, dig(w.pod, "automountServiceAccountToken"), "%s: pod", w.name)
		account, _ := dig(w.pod, "serviceAccountName").(string)
		if assert.NotEmpty(t, account, "%s: its own ServiceAccount, not default", w.name) {
			assert.Equal(t, false, accounts[account], "%s: ServiceAccount %s", w.name, account)
		}
	}
}

func TestSecurityPodsRunHardened(t *testing.T) {
	ns := documents(t, "k8s/namespace.yaml")[0]
	assert.Equal(t, "restricted", dig(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"))
	for _, w := range workloads(t) {
		for _, c := range podContainers(w.pod) {
			sc := dig(c, "securityContext")
			nonRoot := dig(sc, "runAsNonRoot") == true || (dig(sc, "runAsNonRoot") == nil && dig(w.pod, "securityContext", "runAsNonRoot") == true)
			assert.True(t, nonRoot, "%s: runAsNonRoot", w.name)
			assert.Equal(t, true, dig(sc, "readOnlyRootFilesystem"), "%s: readOnlyRootFilesystem", w.name)
			assert.Equal(t, false, dig(sc, "allowPrivilegeEscalation"), "%s: allowPrivilegeEscalation", w.name)
			assert.Equal(t, []any{"ALL"}, dig(sc, "capabilities", "drop"), "%s: drop all capabilities", w.name)
			assert.Equal(t, "RuntimeDefault", dig(w.pod, "securityContext", "seccompProfile", "type"), "%s: seccomp", w.name)
		}
	}
}

// Each workload reads its own Secret, which holds what it uses and nothing else.
func TestSecurityEachDeploymentHoldsOnlyItsOwnSecrets(t *testing.T) {
	want := map[string][]string{
		"tierflow-worker-secrets": {"DATABASE_URL", "SENDGRID_API_KEY", "TIERFLOW_CODEC_KEYS", "TIERFLOW_SURVEY_KEYS"},
		"tierflow-api-secrets":    {"DATABASE_URL", "TIERFLOW_CODEC_KEYS", "TIERFLOW_SURVEY_KEYS", "TIERFLOW_TOKENS"},
	}
	examples := map[string]map[string]any{}
	for _, doc := range documents(t, "k8s/secret.example.yaml") {
		examples[dig(doc, "metadata", "name").(string)] = dig(doc, "stringData").(map[string]any)
	}
	for name, keys := range want {
		data := examples[name]
		got := make([]string, 0, len(data))
		for k, v := range data {
			got = append(got, k)
			assert.True(t, secrets.IsPlaceholder(v.(string)), "%s: %s=%q needs the %s placeholder", name, k, v, secrets.PlaceholderMarker)
		}
		slices.Sort(got)
		assert.Equal(t, keys, got, "k8s/secret.example.yaml: %s", name)
	}
	assert.NotEqual(t, examples["tierflow-worker-secrets"]["DATABASE_URL"], examples["tierflow-api-secrets"]["DATABASE_URL"], "each process logs in with its own role")

	for _, w := range workloads(t) {
		var wantRefs []string
		if w.kind == "Deployment" {
			wantRefs = []string{w.name + "-secrets"}
		}
		assert.Equal(t, wantRefs, secretRefs(w.pod), "%s reads these Secrets", w.name)
	}

	services := composeServices(t)
	workerEnv, _ := dig(services, "worker", "environment").(map[string]any)
	apiEnv, _ := dig(services, "api", "environment").(map[string]any)
	assert.NotContains(t, workerEnv, "TIERFLOW_TOKENS", "compose: the worker never holds the API tokens")
	assert.NotContains(t, apiEnv, "SENDGRID_API_KEY", "compose: the API never holds the SendGrid key")
	assert.NotEqual(t, workerEnv["DATABASE_URL"], apiEnv["DATABASE_URL"], "compose: each process logs in with its own role")
}

func TestSecurityKustomizationAppliesThePoliciesButNoExampleSecret(t *testing.T) {
	resources := dig(documents(t, "kustomization.yaml")[0], "resources").([]any)
	assert.Contains(t, resources, "k8s/serviceaccounts.yaml")
	assert.Contains(t, resources, "k8s/networkpolicies.yaml")
	assert.NotContains(t, resources, "k8s/secret.example.yaml", "placeholders are never applied")
}

// envFile reads a dotenv file: NAME=value lines, quotes removed.
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		out[name] = value
	}
	return out
}
