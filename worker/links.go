package main

import (
	"context"
	"fmt"
	"net/url"

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
	return staffLinks{c: c, uiURL: cfg.TemporalUIURL, namespace: ns, memo: dc}
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
