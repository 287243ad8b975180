package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tierflow/tierflow"
)

const openExamples = `  tierflow open --source zendesk --external-id 48213 --subject "Refund not received" \
    --priority high --trigger unresolved --customer-id C-991 --customer-email ada@example.com
  tierflow open --file case.json
  tierflow open --bulk cases.jsonl --concurrency 4`

// caseFlags are the flags that describe a case (as opposed to --file or --bulk).
type caseFlags struct {
	req       tierflow.OpenCaseRequest
	priority  string
	trigger   string
	startTier int
	openedAt  string
}

func (f *caseFlags) register(fs *pflag.FlagSet) {
	r := &f.req
	fs.StringVar(&r.Source, "source", "", "the CRM's name, e.g. zendesk")
	fs.StringVar(&r.ExternalID, "external-id", "", "the CRM's id of the issue")
	fs.StringVar(&r.Subject, "subject", "", "subject of the issue")
	fs.StringVar(&r.Description, "description", "", "description of the issue")
	fs.StringVar(&r.Category, "category", "", "category, e.g. billing")
	fs.StringVar(&f.priority, "priority", "", "low, normal, high or urgent")
	fs.StringVar(&r.Channel, "channel", "", "channel, e.g. phone, email, chat")
	fs.StringVar(&f.trigger, "trigger", "", "unresolved, complexity, customer_request, sla_breach, emergency or external_complaint")
	fs.StringVar(&r.Customer.ID, "customer-id", "", "the customer's id in the CRM")
	fs.StringVar(&r.Customer.Name, "customer-name", "", "the customer's name")
	fs.StringVar(&r.Customer.Email, "customer-email", "", "the customer's email address")
	fs.StringVar(&r.Customer.Locale, "customer-locale", "", "the customer's locale, e.g. en")
	fs.BoolVar(&r.Customer.VIP, "vip", false, "the customer is a VIP")
	fs.StringVar(&r.Department, "department", "", "department, e.g. billing")
	fs.IntVar(&f.startTier, "start-tier", 0, "start at this tier (1-4) instead of the policy's rules")
	fs.StringVar(&r.FrontlineSummary, "summary", "", "what the frontline tried and proposes")
	fs.StringVar(&r.Policy, "policy", "", "policy name (default: the server's)")
	fs.StringVar(&r.CRMURL, "crm-url", "", "link to the issue in the CRM")
	fs.StringVar(&f.openedAt, "opened-at", "", "when the CRM opened the issue, RFC 3339 (default now)")
}

// request builds the open request from the flags.
func (f *caseFlags) request(c *cobra.Command, now time.Time) (tierflow.OpenCaseRequest, error) {
	req := f.req
	if req.Source == "" || req.ExternalID == "" {
		return req, usageErrorf(c, "--source and --external-id are required (or use --file or --bulk)")
	}
	req.Priority, req.Trigger = tierflow.Priority(f.priority), tierflow.Trigger(f.trigger)
	if f.startTier != 0 {
		t := tierflow.Tier(f.startTier)
		if !t.Valid() {
			return req, usageErrorf(c, "--start-tier must be 1 to 4, not %d", f.startTier)
		}
		req.StartTier = &t
	}
	req.OpenedAt = now.UTC().Truncate(time.Second)
	if f.openedAt != "" {
		t, err := time.Parse(time.RFC3339, f.openedAt)
		if err != nil {
			return req, usageErrorf(c, "--opened-at %q is not an RFC 3339 time like 2026-11-20T09:15:00Z", f.openedAt)
		}
		req.OpenedAt = t.UTC()
	}
	return req, nil
}

// openOptions are the open command's flags besides the case's own.
type openOptions struct {
	cases       caseFlags
	file, bulk  string
	concurrency int
	asJSON      bool
}

func newOpenCommand(e *env) *cobra.Command {
	var o openOptions
	c := &cobra.Command{
		Use:   "open --source S --external-id ID --subject TEXT --priority P --trigger T --customer-email E",
		Short: "open a case from flags, a JSON file, or a JSON-lines bulk import",
		Long: `Open (escalate) a case: from flags, from a JSON file (--file, - for stdin), or
many from a JSON-lines file (--bulk), with a progress bar and the failures by
line number. Opening the same case twice is harmless: the second time reports
"already open".`,
		Example: openExamples,
		Args:    positional(),
		RunE:    func(c *cobra.Command, _ []string) error { return runOpen(c, e, &o) },
	}
	fs := c.Flags()
	o.cases.register(fs)
	fs.StringVar(&o.file, "file", "", "read the case from a JSON file (- for stdin)")
	fs.StringVar(&o.bulk, "bulk", "", "import cases from a JSON-lines file, one case per line")
	fs.IntVar(&o.concurrency, "concurrency", 4, "with --bulk, how many cases to open at once")
	fs.BoolVar(&o.asJSON, "json", false, "print the case as JSON")
	_ = c.MarkFlagFilename("file", "json")
	_ = c.MarkFlagFilename("bulk", "jsonl", "json")
	completeWords(c, "priority", priorityNames())
	completeWords(c, "trigger", triggerNames())
	return c
}

func runOpen(c *cobra.Command, e *env, o *openOptions) error {
	ctx := c.Context()
	caseFlagSet := false
	c.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "file", "bulk", "concurrency", "json", "api", "token":
		default:
			caseFlagSet = true
		}
	})
	switch {
	case o.file != "" && o.bulk != "":
		return usageErrorf(c, "use --file or --bulk, not both")
	case (o.file != "" || o.bulk != "") && caseFlagSet:
		return usageErrorf(c, "the case flags cannot be combined with --file or --bulk")
	case o.bulk != "":
		if o.concurrency < 1 || o.concurrency > 64 {
			return usageErrorf(c, "--concurrency must be 1 to 64")
		}
		return runBulk(ctx, e, o.bulk, o.concurrency)
	}

	var req tierflow.OpenCaseRequest
	var err error
	if o.file != "" {
		req, err = readCaseFile(o.file)
	} else {
		req, err = o.cases.request(c, e.now())
	}
	if err != nil {
		return err
	}
	view, created, err := e.client().OpenCase(ctx, req)
	if err != nil {
		return aboutCase(tierflow.CaseID(req.Source, req.ExternalID), err)
	}
	if o.asJSON {
		return printJSON(e.stdout, view)
	}
	verb := "opened"
	if !created {
		verb = "already open:"
	}
	fmt.Fprintf(e.stdout, "%s %s (status %s, tier %d %s, department %s)\n",
		verb, view.ID, view.Status, view.Tier, view.Tier, orDash(view.Department))
	return nil
}

// readCaseFile reads one open request from a JSON file, refusing unknown fields so
// that a typo does not silently drop a value.
func readCaseFile(path string) (tierflow.OpenCaseRequest, error) {
	var req tierflow.OpenCaseRequest
	data, err := readFileOrStdin(path)
	if err != nil {
		return req, fmt.Errorf("read case file: %w", err)
	}
	if err := decodeCase(data, &req); err != nil {
		return req, fmt.Errorf("%s: %w", path, err)
	}
	return req, nil
}

// readFileOrStdin reads the file a flag names, or standard input for "-".
func readFileOrStdin(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

func decodeCase(data []byte, req *tierflow.OpenCaseRequest) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("invalid JSON: more than one value")
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
