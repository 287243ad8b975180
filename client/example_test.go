package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// A CRM backend escalates a Zendesk ticket, then relays the customer's reply. The
// fake API stands in for a Tierflow deployment (use its address and your token).
func Example() {
	api := newFakeAPI(nil)
	defer api.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tf := client.New(api.URL, "dev-integration", client.WithUserAgent("acme-crm/1.0"))

	view, created, err := tf.OpenCase(ctx, tierflow.OpenCaseRequest{
		Source:           "zendesk",
		ExternalID:       "48213",
		Customer:         tierflow.Customer{ID: "C-991", Name: "Ada Lovelace", Email: "ada@example.com"},
		Subject:          "Refund not received",
		Category:         "billing",
		Priority:         tierflow.PriorityHigh,
		Trigger:          tierflow.TriggerUnresolved,
		Department:       "billing",
		OpenedAt:         time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
		FrontlineSummary: "Checked payment log, charge is settled, no authority to refund twice.",
	})
	if err != nil {
		fmt.Println("open failed:", err)
		return
	}
	fmt.Printf("case %s created=%t status=%s tier=%d\n", view.ID, created, view.Status, view.Tier)

	// The customer answered on the ticket: relay it with the CRM's own comment ID so
	// that a retry (ours or the client's) is applied once.
	err = tf.SendCustomerEvent(ctx, view.ID, tierflow.CustomerEvent{
		Kind:    tierflow.CustomerReply,
		EventID: "zendesk-comment-99120",
		Message: "Here is my bank statement.",
	})
	if err != nil {
		fmt.Println("event failed:", err)
		return
	}
	fmt.Println("reply relayed")
	// Output:
	// case zendesk-48213 created=true status=open tier=1
	// reply relayed
}

// Opening the same ticket twice is harmless; opening it with different content is a
// conflict the CRM should look at.
func ExampleClient_OpenCase() {
	api := newFakeAPI(nil)
	defer api.Close()
	tf := client.New(api.URL, "dev-integration")
	ctx := context.Background()

	req := testOpenRequest("48213")
	_, created, _ := tf.OpenCase(ctx, req)
	fmt.Println("first call created:", created)
	_, created, _ = tf.OpenCase(ctx, req)
	fmt.Println("second call created:", created)

	req.Priority = tierflow.PriorityUrgent
	_, _, err := tf.OpenCase(ctx, req)
	fmt.Println("changed body is a conflict:", client.IsConflict(err))
	// Output:
	// first call created: true
	// second call created: false
	// changed body is a conflict: true
}

// A 422 answer lists every invalid field.
func ExampleFieldErrors() {
	api := newFakeAPI(nil)
	defer api.Close()
	req := testOpenRequest("48213")
	req.Customer.Email = "not an address"

	_, _, err := client.New(api.URL, "dev-integration").OpenCase(context.Background(), req)
	for _, f := range client.FieldErrors(err) {
		fmt.Printf("%s: %s\n", f.Field, f.Message)
	}
	// Output:
	// customer.email: must be an email address
}
