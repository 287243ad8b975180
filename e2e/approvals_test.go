package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// TestEndToEndApprovalFromTheMailbox (issue 12, parts 4 and 5): a compensation
// above the proposer's authority emails the tier that may approve it. The email,
// read from the dev mailbox, links the CRM ticket, the case in the Temporal UI
// and signed approve and reject links (never the raw API). Opening the approve
// link in Chromium shows a confirmation page and changes nothing; confirming
// approves the compensation, recorded with the link's identity and the comment;
// the link then answers 409, as does the same email's reject link. A tier-2
// request of a department's case is approved from its link too (the link decides
// as that department's specialists). A link of a request that climbed to the
// next tier answers 410 and changes nothing.
func TestEndToEndApprovalFromTheMailbox(t *testing.T) {
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	begin := time.Now()
	s := startStack(t)
	a := newAPI(s.APIURL)
	newFlow := func() *flow { return &flow{ctx: ctx, stack: s, api: a, chrome: chrome, started: begin} }

	t.Run("approved_from_the_email_in_chromium", newFlow().approveFromTheMailbox)
	t.Run("tier_2_approval_of_a_department_case", newFlow().approveAtTier2FromTheMailbox)
	t.Run("link_after_the_request_climbed", newFlow().linkAfterClimb)
	t.Logf("passed in %s", time.Since(begin).Round(time.Millisecond))
}

var (
	approveLinkRE = regexp.MustCompile(`(?m)^Approve: (\S+)$`)
	rejectLinkRE  = regexp.MustCompile(`(?m)^Reject:  (\S+)$`)
)

// approvalLinks reads the case's approval email (the first after afterID) and
// returns its text, its approve and its reject link.
func (f *flow) approvalLinks(t *testing.T, afterID int64) (mail tierflow.MailboxMessage, text, approve, reject string) {
	t.Helper()
	mail = f.waitForMailAfter(t, tierflow.MsgStaffApproval, afterID, 30*time.Second)
	text = f.mailText(t, mail.ID)
	am, rm := approveLinkRE.FindStringSubmatch(text), rejectLinkRE.FindStringSubmatch(text)
	require.Len(t, am, 2, "an approve link in:\n%s", text)
	require.Len(t, rm, 2, "a reject link in:\n%s", text)
	for _, l := range []string{am[1], rm[1]} {
		require.True(t, strings.HasPrefix(l, f.stack.APIURL+"/v1/approvals/"), "link %q points at the API's approvals", l)
	}
	return mail, text, am[1], rm[1]
}

// approveFromTheMailbox: 1,500.00 is above tier 3's authority: tier 4 decides,
// where the request never climbs.
func (f *flow) approveFromTheMailbox(t *testing.T) {
	crm := f.openWithCRMLink(t, "E2E-INBOX")
	f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{"action": "acknowledge", "decision_id": "inbox-ack"})
	v := f.api.mustDecide(f.ctx, t, tokAgent, f.caseID, map[string]any{
		"action": "propose_compensation", "decision_id": "inbox-comp", "amount_cents": 150000, "currency": "EUR",
		"description": "goodwill for the double charge"})
	require.NotNil(t, v.PendingApproval)
	require.Equal(t, tierflow.TierExecutive, v.PendingApproval.RequiredTier)
	ap := *v.PendingApproval

	_, text, approve, reject := f.approvalLinks(t, 0)
	assert.Contains(t, text, "Ticket in the CRM:     "+crm, "the CRM ticket, from the open request")
	assert.Contains(t, text, "Case in Temporal UI:   "+f.stack.UIURL+"/namespaces/default/workflows/case-"+f.caseID)
	assert.NotContains(t, text, "/v1/cases/", "never the raw API")

	// The reject link's page, opened (by a person or a mail scanner), decides nothing.
	page := f.api.do(f.ctx, t, "", http.MethodGet, strings.TrimPrefix(reject, f.stack.APIURL), nil).
		expect(t, http.StatusOK, "the reject link's page")
	assert.Contains(t, string(page.Body), "Reject this compensation?")
	require.NotNil(t, f.api.getCase(f.ctx, t, tokSupervisor, f.caseID).PendingApproval, "a GET changes nothing")

	after := f.approveInBrowser(t, approve, "Approved by phone with the customer - J. Exec")
	assert.Contains(t, after, "Approved")
	assert.Contains(t, after, "1500.00 EUR")

	v = f.api.getCase(f.ctx, t, tokSupervisor, f.caseID)
	assert.Nil(t, v.PendingApproval, "decided")
	require.Len(t, v.Compensation, 1)
	assert.Equal(t, tierflow.CompensationApproved, v.Compensation[0].Status)
	assert.Equal(t, "email-link:tier-4", v.Compensation[0].ApprovedBy, "the identity the link is bound to")
	assert.Equal(t, tierflow.StatusInProgress, v.Status)
	approvals := eventsOf(f.waitForEvents(t, 15*time.Second, tierflow.EventApproved), tierflow.EventApproved)
	require.Len(t, approvals, 1)
	approved := approvals[0]
	assert.Equal(t, "email-link:tier-4", approved.Actor.ID)
	assert.Equal(t, tierflow.TierExecutive, approved.Actor.Tier)
	assert.Equal(t, "Approved by phone with the customer - J. Exec", approved.Reason, "the comment is the decision's note")
	assert.Equal(t, ap.ID, approved.Details[tierflow.DetailApprovalID])

	for name, link := range map[string]string{"approve": approve, "reject": reject} {
		r := f.postApprovalForm(t, link, name, "again")
		assert.Equal(t, http.StatusConflict, r.Status, "a second use of the %s link: %s", name, r.Body)
		assert.Contains(t, string(r.Body), "already decided")
	}
	require.Len(t, f.api.getCase(f.ctx, t, tokSupervisor, f.caseID).Compensation, 1)
}

// approveAtTier2FromTheMailbox: 120.00 on a billing case waits for tier 2, whose
// staff must serve billing to decide it; the email's approve link does, before
// the request's 15-second clock runs out.
func (f *flow) approveAtTier2FromTheMailbox(t *testing.T) {
	f.openWithCRMLink(t, "E2E-INBOX-TIER2")
	require.Equal(t, "billing", f.view.Department)
	ap := f.proposeAboveTier1(t, "inbox-tier2")
	require.Equal(t, tierflow.TierSpecialist, ap.RequiredTier)
	_, _, approve, _ := f.approvalLinks(t, 0)

	page := f.api.do(f.ctx, t, "", http.MethodGet, strings.TrimPrefix(approve, f.stack.APIURL), nil).
		expect(t, http.StatusOK, "tier 2's approve page")
	assert.Contains(t, string(page.Body), "Approve this compensation?")
	r := f.postApprovalForm(t, approve, "approve", "refund confirmed - billing specialist")
	require.Equal(t, http.StatusOK, r.Status, "tier 2's approval of a billing case from its email: %s", r.Body)
	assert.Contains(t, string(r.Body), "Approved")

	v := f.api.getCase(f.ctx, t, tokSupervisor, f.caseID)
	assert.Nil(t, v.PendingApproval, "decided")
	require.Len(t, v.Compensation, 1)
	assert.Equal(t, tierflow.CompensationApproved, v.Compensation[0].Status)
	assert.Equal(t, "email-link:tier-2", v.Compensation[0].ApprovedBy)
	approvals := eventsOf(f.waitForEvents(t, 15*time.Second, tierflow.EventApproved), tierflow.EventApproved)
	require.Len(t, approvals, 1)
	assert.Equal(t, "email-link:tier-2", approvals[0].Actor.ID)
	assert.Equal(t, tierflow.RoleSpecialist, approvals[0].Actor.Role)
	assert.Equal(t, "refund confirmed - billing specialist", approvals[0].Reason, "the comment is the decision's note")
}

// linkAfterClimb: 120.00 waits for tier 2; nobody decides in 15 seconds and the
// request climbs to tier 3, whose email carries new links. Tier 2's link answers
// 410 and changes nothing.
func (f *flow) linkAfterClimb(t *testing.T) {
	f.openWithCRMLink(t, "E2E-INBOX-CLIMB")
	ap := f.proposeAboveTier1(t, "inbox-climb")
	first, _, approve, _ := f.approvalLinks(t, 0)
	f.waitForEvents(t, 45*time.Second, tierflow.EventApprovalClimbed)
	_, _, newApprove, _ := f.approvalLinks(t, first.ID)
	require.NotEqual(t, approve, newApprove, "the new tier's email has its own links")

	path := strings.TrimPrefix(approve, f.stack.APIURL)
	page := f.api.do(f.ctx, t, "", http.MethodGet, path, nil)
	assert.Equal(t, http.StatusGone, page.Status, "tier 2's page after the climb: %s", page.Body)
	assert.NotContains(t, string(page.Body), "<form")
	r := f.postApprovalForm(t, approve, "approve", "too late")
	assert.Equal(t, http.StatusGone, r.Status, "tier 2's approval after the climb: %s", r.Body)
	v := f.api.getCase(f.ctx, t, tokSupervisor, f.caseID)
	require.NotNil(t, v.PendingApproval, "still pending")
	assert.Equal(t, ap.ID, v.PendingApproval.ID)
	assert.Greater(t, v.PendingApproval.RequiredTier, tierflow.TierSpecialist)
	assert.Equal(t, tierflow.CompensationPending, v.Compensation[0].Status)
}

// openWithCRMLink opens a fast case whose request links its CRM ticket, and
// returns that link.
func (f *flow) openWithCRMLink(t *testing.T, prefix string) string {
	t.Helper()
	ext := prefix + "-" + strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	crm := "https://example.zendesk.com/agent/tickets/" + ext
	f.open = tierflow.OpenCaseRequest{
		Source: "zendesk", ExternalID: ext, CRMURL: crm,
		Customer: tierflow.Customer{ID: "C-" + ext, Name: "Grace Hopper", Email: strings.ToLower(ext) + "@example.com", Locale: "en"},
		Subject:  "Charged twice for order 8812", Description: "The customer sees two charges for one order.",
		Category: "billing", Priority: tierflow.PriorityNormal, Channel: "email", Department: "billing",
		OpenedAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second), Trigger: tierflow.TriggerUnresolved,
		FrontlineSummary: "Two settled charges in the payment log.", Policy: "fast",
	}
	v := f.api.do(f.ctx, t, tokIntegration, http.MethodPost, "/v1/cases", f.open).
		expect(t, http.StatusCreated, "open").caseView(t)
	f.caseID, f.view = v.ID, v
	return crm
}

// postApprovalForm confirms a link the way the page's form does.
func (f *flow) postApprovalForm(t *testing.T, link, decision, comment string) response {
	t.Helper()
	form := url.Values{"decision": {decision}, "comment": {comment}}.Encode()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, link, strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.api.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// approveInBrowser opens the approve link in Chromium, checks the confirmation
// page, writes the comment, confirms, saves a screenshot of the result in
// testartifacts/ and returns the result page's text.
func (f *flow) approveInBrowser(t *testing.T, link, comment string) string {
	t.Helper()
	tab := newBrowser(f.ctx, t, f.chrome)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	var confirm, after string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(`form button[type="submit"]`, chromedp.ByQuery),
		chromedp.Text(`body`, &confirm, chromedp.ByQuery),
	))
	for _, want := range []string{"Approve this compensation?", "1500.00 EUR", "goodwill for the double charge", idAgent, "Tier 4 (executive)"} {
		assert.Contains(t, confirm, want, "the confirmation page shows %q", want)
	}
	f.saveScreenshot(ctx, t, "e2e-approval-link-confirm.png")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#comment`, comment, chromedp.ByQuery),
		chromedp.Click(`form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[contains(., "Approved")]`, chromedp.BySearch),
		chromedp.Text(`body`, &after, chromedp.ByQuery),
	))
	f.saveScreenshot(ctx, t, "e2e-approval-link-approved.png")
	return after
}

// saveScreenshot writes a full-page PNG under <repo>/testartifacts/ (overwritten
// by every run).
func (f *flow) saveScreenshot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	dir := filepath.Join(f.stack.Root, "testartifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)))
	require.NotEmpty(t, png)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}
