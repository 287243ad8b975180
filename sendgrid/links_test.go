package sendgrid

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// Staff emails link to where staff act: the CRM ticket and the case in the
// Temporal UI; an approval request also to its signed approve and reject links.
func TestStaffEmailsLinkWhereStaffAct(t *testing.T) {
	r := newTestRenderer(t)
	for _, kind := range tierflow.MessageKinds {
		if kind.Audience() != tierflow.AudienceStaff {
			continue
		}
		t.Run(string(kind), func(t *testing.T) {
			e := sample(kind)
			_, text, html, err := r.Render(e)
			require.NoError(t, err)
			assert.Contains(t, text, "Ticket in the CRM:     "+e.Data.CRMURL)
			assert.Contains(t, text, "Case in Temporal UI:   "+e.Data.WorkflowURL)
			assert.Contains(t, html, `href="`+e.Data.CRMURL+`"`)
			assert.Contains(t, html, `href="`+e.Data.WorkflowURL+`"`)
			assert.NotContains(t, text+html, "/v1/cases/", "never the raw API URL")
			approval := kind == tierflow.MsgStaffApproval
			for _, link := range []string{e.Data.ApproveURL, e.Data.RejectURL} {
				assert.Equal(t, approval, strings.Contains(text, link), "text: approval links only in approval requests")
				assert.Equal(t, approval, strings.Contains(html, `href="`+link+`"`), "html: approval links only in approval requests")
			}
		})
	}
}

func TestApprovalRequestLinks(t *testing.T) {
	r := newTestRenderer(t)
	e := sample(tierflow.MsgStaffApproval)
	_, text, html, err := r.Render(e)
	require.NoError(t, err)
	assert.Contains(t, text, "Approve: "+e.Data.ApproveURL)
	assert.Contains(t, text, "Reject:  "+e.Data.RejectURL)
	assert.Contains(t, text, "approve or reject the compensation with a link below")
	assert.Contains(t, text, "The links work once, only for this request, until Tuesday 24 November 2026 at 14:00 UTC")
	assert.Contains(t, html, "Approve&hellip;</a>")
	assert.Contains(t, html, "Reject&hellip;</a>")

	// Without links (the worker has no survey key: it refuses to start; or an
	// email rendered for the gallery), the email says to open the case instead.
	e.Data.ApproveURL, e.Data.RejectURL, e.Data.CRMURL = "", "", ""
	_, text, html, err = r.Render(e)
	require.NoError(t, err)
	assert.NotContains(t, text, "Approve:")
	assert.NotContains(t, html, "Approve&hellip;")
	assert.Contains(t, text, "open the case, then approve or reject")
	assert.NotContains(t, text, "Ticket in the CRM")
	assert.Contains(t, text, "Case in Temporal UI")
}
