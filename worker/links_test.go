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

func TestCRMCacheRemembersUpToItsSizeThenForgetsTheOldest(t *testing.T) {
	c := newCRMCache(2)
	_, ok := c.get("a")
	assert.False(t, ok, "empty")
	c.put("a", "https://crm.example.com/a")
	c.put("b", "") // a case without crm_url is remembered too
	u, ok := c.get("a")
	assert.True(t, ok)
	assert.Equal(t, "https://crm.example.com/a", u)
	u, ok = c.get("b")
	assert.True(t, ok)
	assert.Empty(t, u)
	c.put("a", "https://crm.example.com/changed") // already known: kept as first learned
	u, _ = c.get("a")
	assert.Equal(t, "https://crm.example.com/a", u)
	c.put("c", "https://crm.example.com/c")
	_, ok = c.get("a")
	assert.False(t, ok, "the oldest is forgotten past the size")
	for _, id := range []string{"b", "c"} {
		_, ok = c.get(id)
		assert.True(t, ok, id)
	}
	c.put("d", "")
	_, ok = c.get("b")
	assert.False(t, ok, "then the next oldest")
	assert.Len(t, c.urls, 2)
}
