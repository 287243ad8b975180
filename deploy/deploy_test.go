// Package deploy holds no Go code: these tests check the deployment files
// statically (no Docker engine or cluster here) and run the search-attribute
// script against a real Temporal dev server.
package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/tierflow/tierflow/internal/searchattrs"
	"github.com/tierflow/tierflow/internal/temporaldev"
	"github.com/tierflow/tierflow/workflows"
)

// documents parses every YAML document of a file into generic maps.
func documents(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var docs []map[string]any
	for i, part := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		if strings.TrimSpace(stripComments(part)) == "" {
			continue
		}
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(part), &doc), "%s document %d", path, i)
		require.NotEmpty(t, doc, "%s document %d", path, i)
		docs = append(docs, doc)
	}
	require.NotEmpty(t, docs, "%s holds no YAML document", path)
	return docs
}

func stripComments(s string) string {
	return regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(s, "")
}

func TestEveryYAMLFileParses(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	}))
	for _, want := range []string{"compose.yaml", "temporal-values.yaml", "kustomization.yaml", "k8s/worker.yaml", "k8s/api.yaml"} {
		assert.Contains(t, files, want)
	}
	for _, f := range files {
		docs := documents(t, f)
		if strings.HasPrefix(f, "k8s"+string(filepath.Separator)) || f == "kustomization.yaml" {
			for _, doc := range docs {
				assert.NotEmpty(t, doc["apiVersion"], "%s: apiVersion", f)
				assert.NotEmpty(t, doc["kind"], "%s: kind", f)
			}
		}
	}
}

func TestKustomizationListsExistingFiles(t *testing.T) {
	k := documents(t, "kustomization.yaml")[0]
	for _, r := range k["resources"].([]any) {
		assert.FileExists(t, r.(string))
	}
	for _, g := range k["configMapGenerator"].([]any) {
		for _, f := range g.(map[string]any)["files"].([]any) {
			_, path, _ := strings.Cut(f.(string), "=")
			if path == "" {
				path = f.(string)
			}
			assert.FileExists(t, path)
		}
	}
}

// byKind indexes a manifest's documents by kind.
func byKind(t *testing.T, path string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, doc := range documents(t, path) {
		out[doc["kind"].(string)] = doc
	}
	return out
}

// dig walks nested maps (and the first element of lists).
func dig(v any, keys ...string) any {
	for _, k := range keys {
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestDeploymentsShutDownGracefullyAndProbe(t *testing.T) {
	tests := []struct {
		file string
		// stopTime is how long the process itself takes to stop: the worker's
		// StopTimeout is 20s, the API drains requests for 15s.
		stopTime float64
	}{
		{file: "k8s/worker.yaml", stopTime: 20},
		{file: "k8s/api.yaml", stopTime: 15},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			kinds := byKind(t, tt.file)
			require.Contains(t, kinds, "Deployment")
			assert.Contains(t, kinds, "Service")
			assert.Contains(t, kinds, "PodDisruptionBudget")

			pod := dig(kinds["Deployment"], "spec", "template", "spec")
			grace, _ := dig(pod, "terminationGracePeriodSeconds").(float64)
			preStop, _ := dig(pod, "containers", "lifecycle", "preStop", "sleep", "seconds").(float64)
			assert.Positive(t, preStop, "preStop pause")
			assert.Greater(t, grace, tt.stopTime+preStop, "terminationGracePeriodSeconds must exceed stop time + preStop")
			assert.Equal(t, "/readyz", dig(pod, "containers", "readinessProbe", "httpGet", "path"))
			assert.Equal(t, "/healthz", dig(pod, "containers", "livenessProbe", "httpGet", "path"))
			assert.NotNil(t, dig(pod, "containers", "resources", "requests", "memory"))
			assert.NotNil(t, dig(pod, "containers", "resources", "limits", "memory"))
			assert.Equal(t, true, dig(pod, "securityContext", "runAsNonRoot"))
			assert.Equal(t, "tierflow-config", dig(pod, "containers", "envFrom", "configMapRef", "name"))
		})
	}
}

func TestComposeRunsTheProductionTopology(t *testing.T) {
	services := dig(documents(t, "compose.yaml")[0], "services").(map[string]any)
	for _, name := range []string{"postgres", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "worker", "api"} {
		assert.Contains(t, services, name)
	}
	assert.EqualValues(t, 2, dig(services, "worker", "deploy", "replicas"))
	assert.EqualValues(t, 2, dig(services, "api", "deploy", "replicas"))
	assert.Equal(t, "45s", dig(services, "worker", "stop_grace_period"), "longer than the worker's 20s stop timeout")
	assert.Contains(t, dig(services, "temporal-setup", "volumes").([]any)[0], "./register-search-attributes.sh:")
}

func TestDockerfileBuildsStaticNonRootImages(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(raw)
	for _, want := range []string{"CGO_ENABLED=0", "AS build", "AS worker", "AS api", "USER 65532:65532", "ARG CMD="} {
		assert.Contains(t, df, want)
	}
	assert.NotRegexp(t, `(?m)^USER\s+(root|0)\b`, df)
}

// The script's list is written by hand; it must stay equal to the workflow's.
func TestRegisterScriptListsExactlyTheWorkflowSearchAttributes(t *testing.T) {
	raw, err := os.ReadFile("register-search-attributes.sh")
	require.NoError(t, err)
	block := regexp.MustCompile(`(?s)SEARCH_ATTRIBUTES=\((.*?)\)`).FindSubmatch(raw)
	require.NotNil(t, block, "SEARCH_ATTRIBUTES=( ... ) not found")
	got := strings.Fields(string(block[1]))
	var want []string
	for _, sa := range workflows.SearchAttributeTypes {
		want = append(want, sa[0]+"="+sa[1])
	}
	assert.Equal(t, want, got, "update deploy/register-search-attributes.sh to match workflows.SearchAttributeTypes")
}

// The script registers everything on a bare server, creating the namespace, and
// a second run changes nothing.
func TestRegisterScriptAgainstADevServer(t *testing.T) {
	bash, err := exec.LookPath("bash")
	require.NoError(t, err, "bash is needed to run the script")
	cli, err := temporaldev.FindCLI()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := temporaldev.Start(ctx, temporaldev.Options{UIPort: temporaldev.UIDisabled, SkipSearchAttributes: true})
	require.NoError(t, err)
	defer func() { assert.NoError(t, srv.Stop()) }()

	const namespace = "tierflow-script-test"
	for run := 1; run <= 2; run++ {
		cmd := exec.CommandContext(ctx, bash, "register-search-attributes.sh")
		cmd.Env = append(os.Environ(), "TEMPORAL_CLI="+cli, "TEMPORAL_ADDRESS="+srv.HostPort(),
			"TEMPORAL_NAMESPACE="+namespace, "NAMESPACE_RETENTION=1d", "WAIT_SECONDS=30")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), "run %d:\n%s", run, out.String())
		assert.Contains(t, out.String(), "search attributes registered on "+namespace)
	}

	c, err := srv.Dial(ctx, nil)
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool {
		missing, err := searchattrs.Missing(ctx, c, namespace)
		return err == nil && len(missing) == 0
	}, 10*time.Second, 200*time.Millisecond)
	missing, err := searchattrs.Missing(ctx, c, temporaldev.DefaultNamespace)
	require.NoError(t, err)
	assert.Len(t, missing, len(workflows.SearchAttributeTypes), "the bare server had none of ours on default")
}
