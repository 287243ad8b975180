package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// help is every command's help function: "--help" prints on stderr, the help
// command on stdout.
func (e *env) help(c *cobra.Command, _ []string) {
	w := e.stderr
	if e.helpToStdout {
		w = e.stdout
	}
	writeHelp(w, c)
}

// writeHelp renders one command's help, the same shape for every command: its
// usage line, its description, examples, subcommands by group, its own flags, the
// global ones.
func writeHelp(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "Usage: %s\n", c.UseLine())
	if text := c.Long; text != "" || c.Short != "" {
		if text == "" {
			text = c.Short
		}
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(text, "\n"))
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	if c.HasAvailableSubCommands() {
		writeSubcommands(w, c)
	}
	global := "Global flags:"
	if !c.HasParent() {
		global = "Global flags (also accepted after the command):"
		fmt.Fprintf(w, "\n%s\n%s", global, c.LocalFlags().FlagUsages())
	} else {
		if c.HasAvailableLocalFlags() {
			fmt.Fprintf(w, "\nFlags:\n%s", c.LocalFlags().FlagUsages())
		}
		if c.HasAvailableInheritedFlags() {
			fmt.Fprintf(w, "\n%s\n%s", global, c.InheritedFlags().FlagUsages())
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", c.CommandPath())
	}
}

// writeSubcommands lists the available subcommands under their group titles, the
// ungrouped ones last.
func writeSubcommands(w io.Writer, c *cobra.Command) {
	width := 0
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() || sub.Name() == "help" {
			width = max(width, len(sub.Name()))
		}
	}
	list := func(title, groupID string) {
		var lines []string
		for _, sub := range c.Commands() {
			if (sub.IsAvailableCommand() || sub.Name() == "help") && sub.GroupID == groupID {
				lines = append(lines, fmt.Sprintf("  %-*s  %s", width, sub.Name(), sub.Short))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Join(lines, "\n"))
		}
	}
	for _, g := range c.Groups() {
		list(g.Title, g.ID)
	}
	other := "Other commands:"
	if len(c.Groups()) == 0 {
		other = "Commands:"
	}
	list(other, "")
}

// flagError turns a flag the command line got wrong into a usage error (exit 2).
// An unknown flag reads as it did with the standard flag package, which scripts
// and people may match: "flag provided but not defined: -colour".
func flagError(c *cobra.Command, err error) error {
	var notExist *pflag.NotExistError
	if errors.As(err, &notExist) {
		name := notExist.GetSpecifiedName()
		if group := notExist.GetSpecifiedShortnames(); group != "" {
			name = group
		}
		return usageErrorf(c, "flag provided but not defined: -%s", name)
	}
	return usageErrorf(c, "%v", err)
}

// positional returns a cobra argument check that wants exactly the named
// positional arguments ("missing <case-id>", "unexpected argument \"x\"").
func positional(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		if len(args) < len(names) {
			return usageErrorf(c, "missing %s", strings.Join(names[len(args):], " and "))
		}
		return usageErrorf(c, "unexpected argument %q", args[len(names)])
	}
}

// normalizeSingleDash rewrites "-name" and "-name=value" to "--name..." when name
// is a long flag of the command tree: the standard flag package the CLI used
// before cobra accepted both spellings, and scripts may use either. A flag's value
// ("--message -reason") and everything after "--" are left alone.
func normalizeSingleDash(root *cobra.Command, args []string) []string {
	takesValue := map[string]bool{"help": false}
	var collect func(c *cobra.Command)
	collect = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) { takesValue[f.Name] = f.NoOptDefVal == "" }
		c.LocalFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			collect(sub)
		}
	}
	collect(root)

	out := make([]string, 0, len(args))
	valueNext := false
	for i, arg := range args {
		if valueNext {
			out, valueNext = append(out, arg), false
			continue
		}
		if arg == "--" {
			return append(out, args[i:]...)
		}
		if len(arg) > 2 && arg[0] == '-' && arg[1] != '-' {
			name, _, _ := strings.Cut(arg[1:], "=")
			if _, ok := takesValue[name]; ok {
				arg = "-" + arg
			}
		}
		if name, isLong := strings.CutPrefix(arg, "--"); isLong && !strings.Contains(name, "=") {
			valueNext = takesValue[name]
		}
		out = append(out, arg)
	}
	return out
}
