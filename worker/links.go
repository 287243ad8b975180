package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/tierflow/tierflow/workflows"
)

// staffLinks builds the links of staff emails (activities.StaffLinks): the case's
// page in the Temporal UI (TIERFLOW_TEMPORAL_UI_URL) and the CRM ticket, read
// from the case workflow's memo (crm_url, written when the case opened), so that
// no workflow has to carry it into every email.
type staffLinks struct {
	c client.Client
	// uiURL is the Temporal UI's public base URL without a trailing slash; ""
	// leaves the UI link out.
	uiURL     string
	namespace string
	// memo decodes the memo (the client's data converter: the codec encrypts it).
	memo converter.DataConverter
	// known holds the crm_url of cases already described: the memo's crm_url is
	// written when the case opens and never changes, and a breach sends several
	// staff emails, each of which would otherwise describe the workflow again
	// (a history read on the Temporal server per email; issue 10).
	known *crmCache
}

func newStaffLinks(c client.Client, cfg config, opts client.Options) staffLinks {
	ns := opts.Namespace
	if ns == "" {
		ns = client.DefaultNamespace
	}
	dc := opts.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	return staffLinks{c: c, uiURL: cfg.TemporalUIURL, namespace: ns, memo: dc, known: newCRMCache(crmCacheSize)}
}

// WorkflowURL is <TIERFLOW_TEMPORAL_UI_URL>/namespaces/<ns>/workflows/<workflow id>.
func (l staffLinks) WorkflowURL(caseID string) string {
	if l.uiURL == "" {
		return ""
	}
	return l.uiURL + "/namespaces/" + url.PathEscape(l.namespace) + "/workflows/" + url.PathEscape(workflows.WorkflowID(caseID))
}

// CRMURL is the crm_url of the case workflow's memo; "" when the case has none.
func (l staffLinks) CRMURL(ctx context.Context, caseID string) (string, error) {
	if crm, ok := l.known.get(caseID); ok {
		return crm, nil
	}
	crm, err := l.describeCRMURL(ctx, caseID)
	if err == nil {
		l.known.put(caseID, crm)
	}
	return crm, err
}

func (l staffLinks) describeCRMURL(ctx context.Context, caseID string) (string, error) {
	d, err := l.c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(caseID), "")
	if err != nil {
		return "", fmt.Errorf("describe case %s: %w", caseID, err)
	}
	p := d.GetWorkflowExecutionInfo().GetMemo().GetFields()["crm_url"]
	if p == nil {
		return "", nil
	}
	// The SDK writes a memo with the client's converter, or the default one when
	// that fails (or before its SDKFlagMemoUserDCEncode): read it either way.
	var crm string
	if err := l.memo.FromPayload(p, &crm); err != nil {
		if derr := converter.GetDefaultDataConverter().FromPayload(p, &crm); derr != nil {
			return "", fmt.Errorf("read the crm_url memo of case %s: %w", caseID, err)
		}
	}
	if u, err := url.Parse(crm); crm != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http")) {
		return "", fmt.Errorf("case %s: the crm_url memo is not an http(s) URL", caseID)
	}
	return crm, nil
}

// crmCacheSize bounds the crm_url cache: about 100 bytes a case.
const crmCacheSize = 20000

// crmCache is a bounded map of case ID to crm_url; past its size it forgets the
// case it learned first. Safe for concurrent use (the mailer's activities).
type crmCache struct {
	mu    sync.Mutex
	max   int
	urls  map[string]string
	order []string // ring of the keys, oldest at next
	next  int
}

func newCRMCache(max int) *crmCache {
	return &crmCache{max: max, urls: make(map[string]string, max)}
}

func (c *crmCache) get(caseID string) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.urls[caseID]
	return u, ok
}

func (c *crmCache) put(caseID, crm string) {
	if c == nil || c.max < 1 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.urls[caseID]; ok {
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, caseID)
	} else {
		delete(c.urls, c.order[c.next])
		c.order[c.next] = caseID
		c.next = (c.next + 1) % c.max
	}
	c.urls[caseID] = crm
}
