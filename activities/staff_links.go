package activities

import (
	"context"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tierflow/tierflow"
)

// StaffLinks are the places where staff act on a case, linked from every staff
// email: the worker builds them from its configuration (the Temporal UI's public
// URL, the workflow's memo). The raw API URL of a case is never linked: a person
// clicking it gets a 401.
type StaffLinks interface {
	// WorkflowURL is the case's page in the Temporal UI; "" when no UI URL is
	// configured.
	WorkflowURL(caseID string) string
	// CRMURL is the CRM ticket of the case's open request; "" when the request
	// named none.
	CRMURL(ctx context.Context, caseID string) (string, error)
}

// crmLookupTimeout bounds the CRM link's lookup: a slow lookup costs the link,
// never the email.
const crmLookupTimeout = 3 * time.Second

// fillStaffLinks adds the CRM and Temporal UI links to a staff message. A failed
// lookup leaves the CRM link out (logged) rather than failing the email: the
// message still says which case it is about.
func (a *Activities) fillStaffLinks(ctx context.Context, caseID string, data *tierflow.MessageData) {
	if a.StaffLinks == nil {
		return
	}
	if data.WorkflowURL == "" {
		data.WorkflowURL = a.StaffLinks.WorkflowURL(caseID)
	}
	if data.CRMURL != "" {
		return
	}
	lookup, cancel := context.WithTimeout(ctx, crmLookupTimeout)
	defer cancel()
	crm, err := a.StaffLinks.CRMURL(lookup, caseID)
	if err != nil {
		activity.GetLogger(ctx).Warn("staff email without its CRM link: lookup failed", "case_id", caseID, "error", err)
		return
	}
	data.CRMURL = crm
}

// fillApprovalLinks signs the approve and reject links of an approval request
// with the newest survey key's link key (tierflow.ApprovalLink): bound to the
// case, the approval, the tier and the department the request went to (the
// recipients', department) and the decision, expiring with the approval clock.
// The tokens depend only on these, so every attempt sends the same links.
func (a *Activities) fillApprovalLinks(caseID, department string, data *tierflow.MessageData) error {
	ap := data.Approval
	if ap == nil || ap.ID == "" || !ap.RequiredTier.Valid() {
		return invalidInput("approval email for case %s needs the approval (id and required tier)", caseID)
	}
	if len(a.SurveyKeys) == 0 || len(a.SurveyKeys[0]) == 0 {
		return invalidInput("survey signing key is not configured (approval links are signed with a key derived from it)")
	}
	base := strings.TrimRight(a.SurveyBaseURL, "/") + "/v1/approvals/"
	link := tierflow.ApprovalLink{CaseID: caseID, ApprovalID: ap.ID, Tier: ap.RequiredTier, Department: department,
		Expires: tierflow.ApprovalLinkExpiry(*ap)}
	link.Decision = tierflow.ActionApprove
	data.ApproveURL = base + tierflow.SignApprovalToken(a.SurveyKeys[0], link)
	link.Decision = tierflow.ActionReject
	data.RejectURL = base + tierflow.SignApprovalToken(a.SurveyKeys[0], link)
	return nil
}
