package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tierflow/tierflow"
)

const openSynopsis = `open --source S --external-id ID --subject TEXT --priority P --trigger T --customer-email E [flags]
       tierflow open --file case.json
       tierflow open --bulk cases.jsonl [--concurrency 4]`

// caseFlags are the flags that describe a case (as opposed to --file or --bulk).
type caseFlags struct {
	req       tierflow.OpenCaseRequest
	priority  string
	trigger   string
	startTier int
	openedAt  string
}

func (f *caseFlags) register(fs *flag.FlagSet) {
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
func (f *caseFlags) request(fs *flag.FlagSet, now time.Time) (tierflow.OpenCaseRequest, error) {
	req := f.req
	if req.Source == "" || req.ExternalID == "" {
		return req, usageErrorf(fs, "--source and --external-id are required (or use --file or --bulk)")
	}
	req.Priority, req.Trigger = tierflow.Priority(f.priority), tierflow.Trigger(f.trigger)
	if f.startTier != 0 {
		t := tierflow.Tier(f.startTier)
		if !t.Valid() {
			return req, usageErrorf(fs, "--start-tier must be 1 to 4, not %d", f.startTier)
		}
		req.StartTier = &t
	}
	req.OpenedAt = now.UTC().Truncate(time.Second)
	if f.openedAt != "" {
		t, err := time.Parse(time.RFC3339, f.openedAt)
		if err != nil {
			return req, usageErrorf(fs, "--opened-at %q is not an RFC 3339 time like 2026-11-20T09:15:00Z", f.openedAt)
		}
		req.OpenedAt = t.UTC()
	}
	return req, nil
}

func runOpen(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "open", openSynopsis)
	var cf caseFlags
	cf.register(fs)
	file := fs.String("file", "", "read the case from a JSON file (- for stdin)")
	bulk := fs.String("bulk", "", "import cases from a JSON-lines file, one case per line")
	concurrency := fs.Int("concurrency", 4, "with --bulk, how many cases to open at once")
	asJSON := fs.Bool("json", false, "print the case as JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, rest); err != nil {
		return err
	}
	caseFlagSet := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "file", "bulk", "concurrency", "json", "api", "token":
		default:
			caseFlagSet = true
		}
	})
	switch {
	case *file != "" && *bulk != "":
		return usageErrorf(fs, "use --file or --bulk, not both")
	case (*file != "" || *bulk != "") && caseFlagSet:
		return usageErrorf(fs, "the case flags cannot be combined with --file or --bulk")
	case *bulk != "":
		if *concurrency < 1 || *concurrency > 64 {
			return usageErrorf(fs, "--concurrency must be 1 to 64")
		}
		return runBulk(ctx, e, *bulk, *concurrency)
	}

	var req tierflow.OpenCaseRequest
	if *file != "" {
		req, err = readCaseFile(*file)
	} else {
		req, err = cf.request(fs, e.now())
	}
	if err != nil {
		return err
	}
	view, created, err := e.client().OpenCase(ctx, req)
	if err != nil {
		return aboutCase(tierflow.CaseID(req.Source, req.ExternalID), err)
	}
	if *asJSON {
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
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return req, fmt.Errorf("read case file: %w", err)
	}
	if err := decodeCase(data, &req); err != nil {
		return req, fmt.Errorf("%s: %w", path, err)
	}
	return req, nil
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
