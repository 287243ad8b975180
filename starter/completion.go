package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow"
)

// Shell completion: cobra's "tierflow completion bash|zsh|fish|powershell" prints
// the script; the script asks the binary (the hidden __complete command) for the
// words of a flag or an argument, which the functions below give from the
// domain's own lists, so that completion never drifts from what the API accepts.

// completeWords completes flag's value from words.
func completeWords(c *cobra.Command, flag string, words []string) {
	err := c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp))
	if err != nil {
		panic("completion of --" + flag + ": " + err.Error()) // a programming error: the flag is not defined
	}
}

// completeArgs completes the positional arguments: words[i] lists the values of
// argument i; nil means free text (no file names either).
func completeArgs(words ...[]string) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		if len(args) < len(words) {
			for _, w := range words[len(args)] {
				if strings.HasPrefix(w, prefix) {
					out = append(out, w)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func priorityNames() []string { return names(tierflow.Priorities) }
func triggerNames() []string  { return names(tierflow.Triggers) }
func statusNames() []string   { return names(tierflow.Statuses) }
func actionNames() []string   { return names(tierflow.Actions) }
func eventKindNames() []string {
	return names(tierflow.CustomerEventKinds)
}

// joinNames writes a list for a message: "a, b, c".
func joinNames(values []string) string { return strings.Join(values, ", ") }
