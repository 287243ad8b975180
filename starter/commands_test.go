package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// commandPaths lists every available command under root, "decide" or
// "webhooks listen", without the help command.
func commandPaths(root *cobra.Command) []string {
	var paths []string
	var walk func(c *cobra.Command, prefix string)
	walk = func(c *cobra.Command, prefix string) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			path := strings.TrimSpace(prefix + " " + sub.Name())
			paths = append(paths, path)
			walk(sub, path)
		}
	}
	walk(root, "")
	return paths
}

func TestCommandTree(t *testing.T) {
	root := newRootCommand(newEnv(io.Discard, io.Discard))
	for _, want := range []string{"open", "decide", "event", "show", "list", "kpis", "policy", "policy simulate",
		"webhooks", "webhooks listen", "completion", "completion bash", "completion zsh", "completion fish"} {
		assert.Contains(t, commandPaths(root), want)
	}
	assert.NotContains(t, commandPaths(root), "docs", "the docs generator is a repository tool, hidden")
}

func TestRootHelpGroupsTheCommands(t *testing.T) {
	res := runCLI("--help")
	require.Equal(t, 0, res.code)
	assert.Empty(t, res.stdout, "--help prints on stderr, as before cobra")
	help := res.stderr
	for _, want := range []string{
		"Usage: tierflow [--api URL] [--token TOKEN] <command> [flags]\n",
		"\nCases:\n  decide      take a decision on a case",
		"\nReports and policies:\n  kpis  ",
		"\n  policy      work with policies: simulate a candidate on past cases, migrate cases in flight\n",
		"\nIntegration:\n  webhooks    work with webhooks: listen prints",
		"\nOther commands:\n  completion  print the shell completion script: bash, zsh, fish or powershell\n  help        help about any command\n",
		"\nGlobal flags (also accepted after the command):\n",
		"Run 'tierflow <command> --help' for a command's flags.\n",
	} {
		assert.Contains(t, help, want)
	}
	assert.Regexp(t, `\n\s+--api string\s+API address \(env TIERFLOW_API\) \(default "http://localhost:8080"\)\n`, help)
	assert.Less(t, strings.Index(help, "Cases:"), strings.Index(help, "Other commands:"))

	res = runCLI("help", "show")
	require.Equal(t, 0, res.code)
	assert.Contains(t, res.stdout, "Usage: tierflow show <case-id> [flags]\n", "the help command prints on stdout")
	assert.Contains(t, res.stdout, "\nFlags:\n")
	assert.Contains(t, res.stdout, "\nGlobal flags:\n      --api string")
	assert.Empty(t, res.stderr)
}

func TestGroupsAndUnknownCommands(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"policy alone", []string{"policy"}, "tierflow policy: missing migrate or simulate\nRun 'tierflow policy --help' for usage.\n"},
		{"webhooks alone", []string{"webhooks"}, "tierflow webhooks: missing listen\n"},
		{"webhooks unknown", []string{"webhooks", "hear"}, `tierflow webhooks: unknown subcommand "hear" (listen)`},
		{"typo", []string{"shwo", "zendesk-1"}, "tierflow: unknown command \"shwo\"; did you mean show?\nRun 'tierflow --help' for usage.\n"},
		{"flag value missing", []string{"list", "--tier"}, "tierflow list: flag needs an argument: --tier\n"},
		{"bad flag value", []string{"list", "--tier", "three"}, `tierflow list: invalid argument "three" for "--tier" flag`},
		{"unknown shorthand", []string{"show", "zendesk-1", "-x"}, "tierflow show: flag provided but not defined: -x\n"},
		{"listen takes no argument", []string{"webhooks", "listen", "now"}, `tierflow webhooks listen: unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(append([]string{"--api", "http://127.0.0.1:1"}, tt.args...)...)
			assert.Equal(t, 2, res.code, res.stderr)
			assert.Contains(t, res.stderr, tt.stderr)
			assert.Empty(t, res.stdout)
		})
	}
}

// A file named on the command line that cannot be read is said as such, not
// taken for a network failure.
func TestMissingFileIsAFileError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "case.json")
	res := runCLI("--api", "http://127.0.0.1:1", "open", "--file", missing)
	assert.Equal(t, 1, res.code)
	assert.Equal(t, "tierflow: read case file: open "+missing+": no such file or directory\n", res.stderr)
}

// The standard flag package the CLI used before cobra accepted "-flag" as well as
// "--flag"; scripts written then keep working, and a flag's value that starts
// with a dash stays a value.
func TestSingleDashFlagsStillWork(t *testing.T) {
	api := newFakeAPI(t)
	api.views["zendesk-1"] = tierflow.CaseView{ID: "zendesk-1", Subject: "hello"}
	res := runCLI("-api", api.URL, "-token=dev-agent", "show", "zendesk-1", "-json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, `"id": "zendesk-1"`)

	res = api.as("dev-integration", "event", "zendesk-1", "reply", "-message", "-json", "-event-id", "e-1")
	require.Equal(t, 0, res.code, res.stderr)
	require.Len(t, api.customerEvents, 1)
	assert.Equal(t, map[string]any{"kind": "reply", "message": "-json", "event_id": "e-1"}, api.customerEvents[0])

	res = api.as("dev-integration", "event", "zendesk-1", "reply", "--message", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "--json", api.customerEvents[1]["message"], "a value is never taken for a flag")

	res = runCLI("show", "-help")
	assert.Equal(t, 0, res.code)
	assert.Contains(t, res.stderr, "Usage: tierflow show")

	res = api.as("dev-agent", "show", "--", "-json")
	assert.Equal(t, 1, res.code, "after --, -json is the case id")
	assert.Contains(t, res.stderr, "case -json not found (404)")
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		res := runCLI("completion", shell)
		require.Equal(t, 0, res.code, res.stderr)
		assert.Contains(t, res.stdout, "tierflow", shell)
		assert.Greater(t, len(res.stdout), 1000, "%s script", shell)
	}
	bash := runCLI("completion", "bash").stdout
	assert.Contains(t, bash, "complete -o default -F __start_tierflow tierflow")

	// The script asks the binary; the answers come from the domain's lists.
	complete := func(args ...string) []string {
		res := runCLI(append([]string{cobra.ShellCompNoDescRequestCmd}, args...)...)
		require.Equal(t, 0, res.code, res.stderr)
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		return lines[:len(lines)-1] // the last line is the directive, ":4"
	}
	assert.Equal(t, actionNames(), complete("decide", "zendesk-1", ""))
	assert.Equal(t, []string{"escalate"}, complete("decide", "zendesk-1", "esc"))
	assert.Equal(t, eventKindNames(), complete("event", "zendesk-1", ""))
	assert.Equal(t, statusNames(), complete("list", "--status", ""))
	assert.Equal(t, []string{"functional", "hierarchical"}, complete("decide", "zendesk-1", "escalate", "--mode", ""))
	assert.Contains(t, complete(""), "policy")
	assert.Contains(t, complete("policy", ""), "simulate")
}

// docs/cli is generated ("go generate ./starter"); this fails when a command,
// flag or help text changed without regenerating it.
func TestDocsAreUpToDate(t *testing.T) {
	dir := t.TempDir()
	res := runCLI("docs", "--dir", dir)
	require.Equal(t, 0, res.code, res.stderr)

	generated, err := filepath.Glob(filepath.Join(dir, "*.md"))
	require.NoError(t, err)
	committed, err := filepath.Glob(filepath.Join("..", "docs", "cli", "*.md"))
	require.NoError(t, err)
	base := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	require.Equal(t, base(generated), base(committed), "docs/cli is stale: run go generate ./starter")
	assert.Contains(t, base(generated), "tierflow_policy_simulate.md")
	assert.Contains(t, base(generated), "tierflow_completion_bash.md")
	for _, page := range generated {
		want, err := os.ReadFile(page)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("..", "docs", "cli", filepath.Base(page)))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "docs/cli/%s is stale: run go generate ./starter", filepath.Base(page))
	}
}

func TestDocsPagesDoNotDependOnTheEnvironment(t *testing.T) {
	t.Setenv("TIERFLOW_API", "http://api.example.com")
	t.Setenv("TIERFLOW_TOKEN", "secret-token")
	dir := t.TempDir()
	res := runCLI("docs", "--dir", dir)
	require.Equal(t, 0, res.code, res.stderr)
	for _, page := range []string{"tierflow.md", "tierflow_webhooks_listen.md"} {
		data, err := os.ReadFile(filepath.Join(dir, page))
		require.NoError(t, err)
		assert.NotContains(t, string(data), "api.example.com", page)
		assert.NotContains(t, string(data), "secret-token", "a token never shows in help or docs")
		host, _ := os.Hostname()
		if host != "" {
			assert.NotContains(t, string(data), "listen on "+host, page)
		}
	}
	assert.Equal(t, 2, runCLI("docs").code, "--dir is required")
}
