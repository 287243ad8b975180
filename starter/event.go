package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tierflow/tierflow"
)

const eventSynopsis = `event <case-id> <reply|requested_supervisor|external_complaint|withdrawn> [--message TEXT] [--event-id ID]`

func runEvent(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "event", eventSynopsis)
	var ev tierflow.CustomerEvent
	fs.StringVar(&ev.Message, "message", "", "what the customer said")
	fs.StringVar(&ev.EventID, "event-id", "", "the CRM's id of the event (makes a repeated command harmless and lets the client retry)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, rest, "<case-id>", "<kind>"); err != nil {
		return err
	}
	caseID := rest[0]
	ev.Kind = tierflow.CustomerEventKind(rest[1])
	known := make([]string, len(tierflow.CustomerEventKinds))
	for i, k := range tierflow.CustomerEventKinds {
		known[i] = string(k)
	}
	if !slices.Contains(tierflow.CustomerEventKinds, ev.Kind) {
		return usageErrorf(fs, "unknown event %q; one of %s", rest[1], strings.Join(known, ", "))
	}
	if err := e.client().SendCustomerEvent(ctx, caseID, ev); err != nil {
		return aboutCase(caseID, err)
	}
	fmt.Fprintf(e.stdout, "%s relayed to %s\n", ev.Kind, caseID)
	return nil
}
