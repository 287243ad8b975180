package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/client"
)

func TestStaffLinksWorkflowURL(t *testing.T) {
	links := newStaffLinks(nil, config{TemporalUIURL: "https://temporal.example.com"}, client.Options{Namespace: "support prod"})
	assert.Equal(t, "https://temporal.example.com/namespaces/support%20prod/workflows/case-zendesk-4711",
		links.WorkflowURL("zendesk-4711"))
	assert.Equal(t, "http://localhost:8233/namespaces/default/workflows/case-a.b_c",
		newStaffLinks(nil, config{TemporalUIURL: "http://localhost:8233"}, client.Options{}).WorkflowURL("a.b_c"),
		"the SDK's default namespace")
	assert.Empty(t, newStaffLinks(nil, config{}, client.Options{}).WorkflowURL("zendesk-1"), "no UI configured: no link")
}
