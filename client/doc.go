// Package client is the Go client of the Tierflow HTTP API (v1) for CRM backends,
// supervisors' tools and dashboards.
//
// A CRM opens a case when it escalates an issue, relays what the customer does
// (replies, requests for a supervisor, complaints), and may read cases, timelines and
// KPIs:
//
//	c := client.New("https://tierflow.example.com", token)
//	view, created, err := c.OpenCase(ctx, req)
//	err = c.SendCustomerEvent(ctx, view.ID, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "comment-7"})
//
// Every call takes a context. Failed calls return a *APIError decoded from the
// server's problem+json answer; IsNotFound, IsConflict and friends classify it.
//
// Only calls that are safe to repeat are retried, and only on network errors, 429 and
// 503 answers: reads, OpenCase (the server deduplicates by source and external_id),
// Decide (the client sets a decision_id when the caller did not, so the server
// applies the decision once) and customer events that carry an event_id. Waits grow
// exponentially up to a cap, honour Retry-After and stop when the context ends.
package client
