package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow/client"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the API or the network failed
	exitUsage = 2 // the command line was wrong
)

const defaultAPI = "http://localhost:8080"

// env is what every command works with.
type env struct {
	stdout, stderr io.Writer
	api, token     string
	now            func() time.Time
	// helpToStdout is set by the help command: "tierflow help" prints on stdout,
	// "--help" on stderr, as before the move to cobra.
	helpToStdout bool
}

// newEnv reads the API address and token from the environment; --api and --token
// override them (resolveGlobalFlags).
func newEnv(stdout, stderr io.Writer) *env {
	return &env{stdout: stdout, stderr: stderr, now: time.Now,
		api: envOr("TIERFLOW_API", defaultAPI), token: os.Getenv("TIERFLOW_TOKEN")}
}

// client returns an API client for the --api and --token in force. A person is
// waiting, so it retries less than the client's default.
func (e *env) client() *client.Client {
	return client.New(e.api, e.token, client.WithRetries(3),
		client.WithUserAgent("tierflow-cli/1 "+client.DefaultUserAgent))
}

// run is the whole program: it runs one command line and returns the exit status.
// Errors go to stderr as readable lines, never as stack traces.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e := newEnv(stdout, stderr)
	return report(e, execute(ctx, e, args))
}

// execute runs one command line with e; cancelling ctx stops the command.
func execute(ctx context.Context, e *env, args []string) error {
	root := newRootCommand(e)
	root.SetArgs(normalizeSingleDash(root, args))
	return root.ExecuteContext(ctx)
}

// Command groups of the root help.
const (
	groupCases       = "cases"
	groupPolicies    = "policies"
	groupIntegration = "integration"
)

// newRootCommand builds the command tree. Every command returns its errors (cobra
// prints none): report turns them into lines and an exit status.
func newRootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "tierflow [--api URL] [--token TOKEN] <command>",
		Short: "the command-line client of the Tierflow API",
		Long: `tierflow is the command-line client of the Tierflow API, for CRM integrators,
supervisors and operators: open cases (one, from a file, or a bulk JSON-lines
import), take decisions, relay customer events, read cases, timelines, lists and
KPIs, simulate a policy on past cases, and listen to webhooks.

The API address and token default to $TIERFLOW_API (else ` + defaultAPI + `)
and $TIERFLOW_TOKEN. Exit status: 0 success, 1 the API or the network failed,
2 the command line was wrong.`,
		Args:                       unknownCommand,
		RunE:                       func(c *cobra.Command, _ []string) error { return missingCommand(e, c) },
		PersistentPreRunE:          e.resolveGlobalFlags,
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true,
		SilenceUsage:               true,
		DisableAutoGenTag:          true, // the generated docs carry no date, so that they are reproducible
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.PersistentFlags().String("api", defaultAPI, "API address (env TIERFLOW_API)")
	root.PersistentFlags().String("token", "", "bearer token (env TIERFLOW_TOKEN)")
	root.SetFlagErrorFunc(flagError)
	root.SetHelpFunc(e.help)
	root.SetUsageFunc(func(c *cobra.Command) error { writeHelp(e.stderr, c); return nil })

	root.AddGroup(
		&cobra.Group{ID: groupCases, Title: "Cases:"},
		&cobra.Group{ID: groupPolicies, Title: "Reports and policies:"},
		&cobra.Group{ID: groupIntegration, Title: "Integration:"},
	)
	inGroup := func(id string, c *cobra.Command) *cobra.Command { c.GroupID = id; return c }
	root.AddCommand(
		inGroup(groupCases, newOpenCommand(e)),
		inGroup(groupCases, newDecideCommand(e)),
		inGroup(groupCases, newEventCommand(e)),
		inGroup(groupCases, newShowCommand(e)),
		inGroup(groupCases, newListCommand(e)),
		inGroup(groupPolicies, newKPIsCommand(e)),
		inGroup(groupPolicies, newPolicyCommand(e)),
		inGroup(groupIntegration, newWebhooksCommand(e)),
		newDocsCommand(),
	)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = "help about any command"
			showHelp := c.Run
			c.Run = func(c *cobra.Command, args []string) { e.helpToStdout = true; showHelp(c, args) }
		case "completion":
			c.Short = "print the shell completion script: bash, zsh, fish or powershell"
		}
	}
	return root
}

// resolveGlobalFlags applies --api and --token over the environment's values. It
// is the root's persistent pre-run: no subcommand may define its own.
func (e *env) resolveGlobalFlags(c *cobra.Command, _ []string) error {
	if f := c.Flag("api"); f != nil && f.Changed {
		e.api = f.Value.String()
	}
	if f := c.Flag("token"); f != nil && f.Changed {
		e.token = f.Value.String()
	}
	return nil
}

// unknownCommand refuses an argument to the root: it names no command.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := ""
	if suggestions := c.SuggestionsFor(args[0]); len(suggestions) > 0 {
		hint = "; did you mean " + strings.Join(suggestions, " or ") + "?"
	}
	return usageErrorf(c, "unknown command %q%s", args[0], hint)
}

// missingCommand prints the root help for "tierflow" alone, a usage error.
func missingCommand(e *env, c *cobra.Command) error {
	writeHelp(e.stderr, c)
	return errUsagePrinted
}

// newGroupCommand returns a command that only holds subcommands ("policy",
// "webhooks"): alone or with an unknown subcommand it is a usage error.
func newGroupCommand(use, short string, subcommands ...*cobra.Command) *cobra.Command {
	group := &cobra.Command{
		Use:   use + " <command>",
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var names []string
			for _, sub := range c.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			if len(args) == 0 {
				return usageErrorf(c, "missing %s", strings.Join(names, " or "))
			}
			return usageErrorf(c, "unknown subcommand %q (%s)", args[0], strings.Join(names, ", "))
		},
	}
	group.AddCommand(subcommands...)
	return group
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
