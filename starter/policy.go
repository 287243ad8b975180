package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow/client"
	"github.com/tierflow/tierflow/simulate"
)

// newPolicyCommand is the "policy" group: what a policy would do (simulate) and
// moving cases in flight to another policy version (migrate).
func newPolicyCommand(e *env) *cobra.Command {
	return newGroupCommand("policy", "work with policies: simulate a candidate on past cases, migrate cases in flight",
		newPolicySimulateCommand(e),
		newPolicyMigrateCommand(e),
	)
}

// simulateOptions are the flags of "policy simulate".
type simulateOptions struct {
	file, name, from, to, source string
	asJSON                       bool
}

func newPolicySimulateCommand(e *env) *cobra.Command {
	var o simulateOptions
	c := &cobra.Command{
		Use:   "simulate (--policy FILE | --name POLICY) --from DAY --to DAY",
		Short: "replay past cases against a candidate policy and compare with what happened",
		Long: `Replay the recorded history of the cases opened in [--from, --to) (of --source,
when given) against a candidate policy's clocks and calendars, and print what
actually happened next to what the candidate would have done: breaches per tier
and clock, automatic escalations, warnings, staff and customer emails, cases past
the close target; then each case whose fate would change, with the candidate's
deadline explanations. The candidate is a policy file (--policy, - for stdin),
checked by the API's policy loader, or a loaded policy (--name). A file named like
a loaded policy also gets its plan: the settings it would change, clock by clock.
Nothing is changed. Needs a supervisor or executive token.`,
		Example: `  tierflow policy simulate --policy slower.yaml --from 2026-11-01 --to 2026-12-01
  tierflow policy simulate --name fast --from 2026-11-01 --to 2026-11-08 --source zendesk --json`,
		Args: positional(),
		RunE: func(c *cobra.Command, _ []string) error { return runPolicySimulate(c, e, o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.file, "policy", "", "the candidate policy file (YAML, - for stdin)")
	fs.StringVar(&o.name, "name", "", "the candidate: a policy the API has loaded")
	fs.StringVar(&o.from, "from", "", "first day or instant of the window, e.g. 2026-11-01 (required)")
	fs.StringVar(&o.to, "to", "", "end of the window, exclusive (required)")
	fs.StringVar(&o.source, "source", "", "only the cases of this CRM source")
	fs.BoolVar(&o.asJSON, "json", false, "print the API's report as JSON")
	_ = c.MarkFlagFilename("policy", "yaml", "yml")
	return c
}

func runPolicySimulate(c *cobra.Command, e *env, o simulateOptions) error {
	switch {
	case o.file != "" && o.name != "":
		return usageErrorf(c, "use --policy or --name, not both")
	case o.file == "" && o.name == "":
		return usageErrorf(c, "name the candidate: --policy FILE or --name POLICY")
	case o.from == "" || o.to == "":
		return usageErrorf(c, "--from and --to are required")
	}
	from, to, err := period(c, o.from, o.to, e.now())
	if err != nil {
		return err
	}
	req := client.SimulationRequest{Policy: o.name, From: from, To: to, Source: o.source}
	if o.file != "" {
		if req.PolicyYAML, err = readPolicyFile(o.file); err != nil {
			return err
		}
	}
	answer, err := e.client().SimulatePolicy(c.Context(), req)
	if err != nil {
		return err
	}
	if o.asJSON {
		return printJSON(e.stdout, answer)
	}
	if err := simulate.WriteTable(e.stdout, answer.Report); err != nil {
		return err
	}
	if len(answer.Plan) > 0 {
		name, _, _ := strings.Cut(answer.Policy, "@")
		fmt.Fprintf(e.stdout, "Plan against the loaded policy %s:\n", name)
		return simulate.WritePlan(e.stdout, answer.Plan)
	}
	return nil
}

// readPolicyFile returns a policy file's text, sent as is: the API's policy
// loader checks it, so that the CLI and the server never disagree on a policy.
func readPolicyFile(path string) (string, error) {
	data, err := readFileOrStdin(path)
	if err != nil {
		return "", fmt.Errorf("read policy file: %w", err)
	}
	if len(data) == 0 {
		return "", fmt.Errorf("policy file %s is empty", path)
	}
	return string(data), nil
}
