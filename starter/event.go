package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tierflow/tierflow"
)

func newEventCommand(e *env) *cobra.Command {
	var ev tierflow.CustomerEvent
	c := &cobra.Command{
		Use:   "event <case-id> <reply|requested_supervisor|external_complaint|withdrawn>",
		Short: "relay a customer event (reply, requested_supervisor, external_complaint, withdrawn)",
		Long: `Relay something the customer did to the case: a reply (resumes a case waiting for
the customer), a request for a supervisor, an external complaint, or a withdrawal.`,
		Example:           `  tierflow event zendesk-48213 reply --message "Here is the receipt" --event-id comment-991`,
		Args:              positional("<case-id>", "<kind>"),
		ValidArgsFunction: completeArgs(nil, eventKindNames()),
		RunE: func(c *cobra.Command, args []string) error {
			return runEvent(c, e, ev, args[0], args[1])
		},
	}
	c.Flags().StringVar(&ev.Message, "message", "", "what the customer said")
	c.Flags().StringVar(&ev.EventID, "event-id", "", "the CRM's id of the event (makes a repeated command harmless and lets the client retry)")
	return c
}

func runEvent(c *cobra.Command, e *env, ev tierflow.CustomerEvent, caseID, kind string) error {
	ev.Kind = tierflow.CustomerEventKind(kind)
	if !slices.Contains(tierflow.CustomerEventKinds, ev.Kind) {
		return usageErrorf(c, "unknown event %q; one of %s", kind, joinNames(eventKindNames()))
	}
	if err := e.client().SendCustomerEvent(c.Context(), caseID, ev); err != nil {
		return aboutCase(caseID, err)
	}
	fmt.Fprintf(e.stdout, "%s relayed to %s\n", ev.Kind, caseID)
	return nil
}
