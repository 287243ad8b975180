package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

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
}

// client returns an API client for the --api and --token in force. A person is
// waiting, so it retries less than the client's default.
func (e *env) client() *client.Client {
	return client.New(e.api, e.token, client.WithRetries(3),
		client.WithUserAgent("tierflow-cli/1 "+client.DefaultUserAgent))
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"open", "open a case from flags, a JSON file, or a JSON-lines bulk import", runOpen},
		{"decide", "take a decision on a case (acknowledge, escalate, resolve...)", runDecide},
		{"event", "relay a customer event (reply, requested_supervisor, external_complaint, withdrawn)", runEvent},
		{"show", "show a case: status, deadlines, breaches, approval, then its timeline", runShow},
		{"list", "list cases as a table, with filters", runList},
		{"kpis", "print the KPIs of cases opened in a period", runKPIs},
		{"webhooks", "listen: a local receiver that subscribes, verifies and prints case events", runWebhooks},
	}
}

// run is the whole program: it parses args, runs one command and returns the exit
// status. Errors go to stderr as readable lines, never as stack traces.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e := &env{stdout: stdout, stderr: stderr, now: time.Now,
		api: envOr("TIERFLOW_API", defaultAPI), token: os.Getenv("TIERFLOW_TOKEN")}

	global := flag.NewFlagSet("tierflow", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.StringVar(&e.api, "api", e.api, "API address (env TIERFLOW_API)")
	global.StringVar(&e.token, "token", e.token, "bearer token (env TIERFLOW_TOKEN)")
	global.Usage = func() { printUsage(stderr, global) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := global.Args()
	if len(rest) == 0 {
		printUsage(stderr, global)
		return exitUsage
	}
	name := rest[0]
	if name == "help" {
		printUsage(stdout, global)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return report(e, c.run(ctx, e, rest[1:]))
		}
	}
	fmt.Fprintf(stderr, "tierflow: unknown command %q (run 'tierflow --help')\n", name)
	return exitUsage
}

func printUsage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprintln(w, "Usage: tierflow [--api URL] [--token TOKEN] <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.synopsis)
	}
	fmt.Fprintln(w, "\nGlobal flags (also accepted after the command):")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprintln(w, "\nRun 'tierflow <command> --help' for a command's flags.")
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// newFlagSet returns a command's flag set, with --api and --token accepted after the
// command name too.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("tierflow "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.api, "api", e.api, "API address (env TIERFLOW_API)")
	fs.StringVar(&e.token, "token", e.token, "bearer token (env TIERFLOW_TOKEN)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tierflow %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags wherever they appear among the positional arguments (the
// standard flag package stops at the first positional one) and returns the
// positional ones; everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, errFlagsPrinted
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(fs *flag.FlagSet, got []string, names ...string) error {
	if len(got) == len(names) {
		return nil
	}
	if len(got) < len(names) {
		return usageErrorf(fs, "missing %s", strings.Join(names[len(got):], " and "))
	}
	return usageErrorf(fs, "unexpected argument %q", got[len(names)])
}
