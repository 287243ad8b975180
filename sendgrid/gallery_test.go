package sendgrid

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// situation is one realistic email, with data shaped the way the workflow fills it
// (workflows/effects.go and its callers): only the fields a kind really gets.
type situation struct {
	name string
	kind tierflow.MessageKind
	edit func(*tierflow.MessageData)
}

// tierData is the common part every message of a case at tier t carries, with the
// team phrases of policyfile/default.yaml.
func tierData(t tierflow.Tier) tierflow.MessageData {
	teams := map[tierflow.Tier]string{1: "our customer service team", 2: "our specialist team",
		3: "a customer service supervisor", 4: "our executive office"}
	return tierflow.MessageData{CaseID: "zendesk-4711", Reference: "ZD-4711", Subject: "Charged twice for order 7731",
		CustomerName: "Ada Lovelace", Locale: "en-GB", Tier: t, TierName: t.String(), Team: teams[t],
		ETA: ptr(testNow.Add(4 * time.Hour))}
}

func situations() []situation {
	approved := []tierflow.Compensation{{ID: "c1", AmountCents: 50000, Currency: "eur",
		Description: "refund of the duplicate charge", Status: "approved"}}
	resolved := func(comp []tierflow.Compensation, explanation string) func(*tierflow.MessageData) {
		return func(m *tierflow.MessageData) {
			m.ETA, m.Compensation, m.Explanation = nil, comp, explanation
			m.Apology = m.Tier >= tierflow.TierSupervisor
			m.Resolution = "We refunded the duplicate charge of order 7731. It will show on your card statement within 5 working days."
		}
	}
	why := "A payment retry during a gateway outage on 20 November charged your card a second time. " +
		"We have fixed the retry so that it can no longer charge a card twice."
	dept := func(d string) func(*tierflow.MessageData) { return func(m *tierflow.MessageData) { m.Department = d } }
	return []situation{
		{"escalated_new_case_tier1", tierflow.MsgEscalated, nil},
		{"escalated_functional_billing", tierflow.MsgEscalated, dept("billing")},
		{"escalated_hierarchical_supervisor", tierflow.MsgEscalated, nil},
		{"escalated_automatic_after_breach", tierflow.MsgEscalated, nil},
		{"escalated_executive", tierflow.MsgEscalated, nil},
		{"progress_update_automatic", tierflow.MsgProgressUpdate, nil},
		{"progress_update_human", tierflow.MsgProgressUpdate, func(m *tierflow.MessageData) {
			m.Text = "We found the second payment in our logs and asked the bank to reverse it.\nYou do not need to do anything."
		}},
		{"info_request", tierflow.MsgInfoRequest, func(m *tierflow.MessageData) {
			m.Text = "Could you send us the last four digits of the card you paid with, and the date on your bank statement?"
		}},
		{"waiting_reminder", tierflow.MsgWaitingReminder, nil},
		{"eta_changed_paused_for_approval", tierflow.MsgETAChanged, func(m *tierflow.MessageData) {
			m.Reason, m.ETA = "Your case needs an internal approval before we can give you our answer.", nil
		}},
		{"eta_changed_approval_decided", tierflow.MsgETAChanged, func(m *tierflow.MessageData) {
			m.Reason = "The internal approval your case was waiting for has been decided."
		}},
		{"eta_changed_customer_replied", tierflow.MsgETAChanged, nil},
		{"resolution_tier1_plain", tierflow.MsgResolution, resolved(nil, "")},
		{"resolution_tier2_compensation", tierflow.MsgResolution, resolved(approved, "")},
		{"resolution_tier3_apology_compensation", tierflow.MsgResolution, resolved(approved, why)},
		{"resolution_tier4_apology_no_compensation", tierflow.MsgResolution, resolved(nil, why)},
		{"survey", tierflow.MsgSurvey, func(m *tierflow.MessageData) {
			m.ETA, m.ExpiresAt = nil, ptr(testNow.Add(14*24*time.Hour))
			m.SurveyURL = "https://support.example.com/v1/surveys/eyJrIjoiemVuZGVzay00NzExIn0.sig"
		}},
		{"survey_reminder", tierflow.MsgSurveyReminder, func(m *tierflow.MessageData) {
			m.ETA, m.ExpiresAt = nil, ptr(testNow.Add(11*24*time.Hour))
			m.SurveyURL = "https://support.example.com/v1/surveys/eyJrIjoiemVuZGVzay00NzExIn0.sig"
		}},
		{"reopened", tierflow.MsgReopened, nil},
		{"auto_resolved", tierflow.MsgAutoResolved, func(m *tierflow.MessageData) { m.ETA = nil }},
		{"staff_assignment_new_case", tierflow.MsgStaffAssignment, func(m *tierflow.MessageData) { m.Reason = "new case" }},
		{"staff_assignment_escalated_after_breach", tierflow.MsgStaffAssignment, func(m *tierflow.MessageData) {
			m.Reason = "escalated from tier 1: tier 1 acknowledge deadline missed"
		}},
		{"staff_warning_acknowledge", tierflow.MsgStaffWarning, func(m *tierflow.MessageData) {
			m.Clock, m.Deadline = tierflow.ClockAcknowledge, ptr(testNow.Add(55*time.Minute))
		}},
		{"staff_breach_resolve_tier2", tierflow.MsgStaffBreach, func(m *tierflow.MessageData) {
			m.Clock, m.Deadline = tierflow.ClockResolve, ptr(testNow.Add(-2*time.Minute))
			m.Reason, m.Department = "tier 2 resolve deadline missed", "billing"
		}},
		{"staff_breach_acknowledge_tier4", tierflow.MsgStaffBreach, func(m *tierflow.MessageData) {
			m.Clock, m.Deadline = tierflow.ClockAcknowledge, ptr(testNow.Add(-time.Minute))
			m.Reason = "tier 4 acknowledge deadline missed"
		}},
		{"staff_approval_tier3", tierflow.MsgStaffApproval, func(m *tierflow.MessageData) {
			m.Approval = &tierflow.Approval{ID: "ap-1", Compensation: "c1", AmountCents: 50000, Currency: "eur",
				Description: "refund of the duplicate charge", RequestedBy: "sam.specialist", RequiredTier: 3,
				RequestedAt: testNow, ExpiresAt: testNow.Add(4 * time.Hour)}
			m.Reason = "500.00 EUR requested by sam.specialist: refund of the duplicate charge"
		}},
		{"staff_approval_tier4_no_expiry", tierflow.MsgStaffApproval, func(m *tierflow.MessageData) {
			m.Approval = &tierflow.Approval{ID: "ap-2", Compensation: "c2", AmountCents: 250000, Currency: "usd",
				Description: "goodwill credit", RequestedBy: "kim.supervisor", RequiredTier: 4, RequestedAt: testNow}
			m.Reason = "2500.00 USD requested by kim.supervisor: goodwill credit"
		}},
		{"staff_close_target_warning", tierflow.MsgStaffCloseTarget, func(m *tierflow.MessageData) {
			m.Clock, m.Deadline = tierflow.ClockCloseTarget, ptr(testNow.Add(5*24*time.Hour))
		}},
		{"staff_close_target_breach", tierflow.MsgStaffCloseTarget, func(m *tierflow.MessageData) {
			m.Clock, m.Deadline = tierflow.ClockCloseTarget, ptr(testNow.Add(-time.Minute))
			m.Reason = "close target of 30d from opening missed"
		}},
	}
}

// galleryTier picks the tier a situation happens at, from its name.
func galleryTier(name string) tierflow.Tier {
	switch {
	case strings.Contains(name, "tier1") || strings.Contains(name, "new_case") || name == "staff_warning_acknowledge":
		return tierflow.TierFrontline
	case strings.Contains(name, "supervisor") || strings.Contains(name, "tier3") || name == "reopened" ||
		strings.Contains(name, "approval"):
		return tierflow.TierSupervisor
	case strings.Contains(name, "executive") || strings.Contains(name, "tier4") || strings.Contains(name, "close_target_breach"):
		return tierflow.TierExecutive
	}
	return tierflow.TierSpecialist
}

func (s situation) email() tierflow.Email {
	data := tierData(galleryTier(s.name))
	if s.edit != nil {
		s.edit(&data)
	}
	aud, to := tierflow.AudienceCustomer, []tierflow.Address{{Email: "ada@example.org", Name: "Ada Lovelace"}}
	if strings.HasPrefix(string(s.kind), "staff_") {
		aud, to = tierflow.AudienceStaff, []tierflow.Address{{Email: "tier2@support.example.com"}}
		data.CRMURL = "https://example.zendesk.com/agent/tickets/4711"
		data.WorkflowURL = "https://temporal.example.com/namespaces/default/workflows/case-zendesk-4711"
		if s.kind == tierflow.MsgStaffApproval {
			data.ApproveURL = "https://support.example.com/v1/approvals/approve-token"
			data.RejectURL = "https://support.example.com/v1/approvals/reject-token"
		}
	}
	return tierflow.Email{Key: "zendesk-4711/9/" + string(s.kind), CaseID: "zendesk-4711", Kind: s.kind,
		Audience: aud, To: to, Data: data}
}

// TestRenderGallery renders every kind in realistic situations and checks what any
// reader would object to. With TIERFLOW_GALLERY=<dir> it also writes each message
// (<name>.html, <name>.txt with the subject on top) and an index.html there, to be
// looked at in a browser.
func TestRenderGallery(t *testing.T) {
	r := newTestRenderer(t)
	dir := os.Getenv("TIERFLOW_GALLERY")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	seen := map[tierflow.MessageKind]bool{}
	var index strings.Builder
	index.WriteString("<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Tierflow emails</title><ul>\n")
	for _, s := range situations() {
		t.Run(s.name, func(t *testing.T) {
			e := s.email()
			subject, text, body, err := r.Render(e)
			require.NoError(t, err)
			seen[s.kind] = true
			checkReadable(t, e, subject, text, body)
			require.NoError(t, os.WriteFile(filepath.Join(dir, s.name+".txt"), []byte("Subject: "+subject+"\n\n"+text), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, s.name+".html"), []byte(body), 0o644))
			fmt.Fprintf(&index, "<li><a href=\"%s.html\">%s</a>: %s</li>\n", s.name, s.name, html.EscapeString(subject))
		})
	}
	index.WriteString("</ul></html>\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(index.String()), 0o644))
	for _, k := range tierflow.MessageKinds {
		assert.True(t, seen[k], "the gallery shows %s", k)
	}
}

// doubledRE catches phrases glued from two pieces that each brought an article or
// a possessive ("our a customer service supervisor").
var doubledRE = regexp.MustCompile(`(?i)\b(our|your|a|an|the)\s+(our|your|a|an|the)\b`)

// lowerStartRE catches a sentence that starts in lower case, as a policy phrase
// ("a customer service supervisor") put first in a sentence does.
var lowerStartRE = regexp.MustCompile(`(?m)(^|[.!?]\s+)[a-z]`)

// repeatedWord returns the first word written twice in a row ("the the"), if any.
// Lines and HTML blocks (see htmlText) are checked apart.
func repeatedWord(s string) string {
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '|' }) {
		words := strings.FieldsFunc(strings.ToLower(part), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
		})
		for i := 1; i < len(words); i++ {
			if words[i] == words[i-1] {
				return words[i] + " " + words[i]
			}
		}
	}
	return ""
}

var urlRE = regexp.MustCompile(`https?://\S+`)

// checkReadable asserts what any careful reader would object to in a message.
func checkReadable(t *testing.T, e tierflow.Email, subject, text, body string) {
	t.Helper()
	plainHTML := htmlText(body)
	for name, s := range map[string]string{"subject": subject, "text": text, "html": plainHTML} {
		assert.NotContains(t, s, "<no value>", name)
		assert.NotContains(t, s, "%!", name)
		assert.NotContains(t, s, "0001", name+": a zero time is never shown")
		assert.Empty(t, doubledRE.FindString(s), name+": doubled article")
		assert.Empty(t, repeatedWord(s), name+": repeated word")
		for _, p := range []string{" ,", " .", "..", "( ", " )", "()", ".,", ",."} {
			assert.NotContains(t, s, p, name+": broken punctuation")
		}
		for _, m := range lowerStartRE.FindAllString(urlRE.ReplaceAllString(s, "URL"), -1) {
			assert.Fail(t, "a sentence starts in lower case", "%s: %q in %q", name, m, s)
		}
		assert.NotContains(t, s, "ada@example.org", name+": no recipient address in the message")
	}
	assert.Contains(t, body, `<html lang="en">`)
	assert.LessOrEqual(t, len(subject), 90, "subject fits an inbox line")
	if e.Audience == tierflow.AudienceStaff {
		for _, link := range []string{e.Data.CRMURL, e.Data.WorkflowURL, e.Data.ApproveURL, e.Data.RejectURL} {
			if link != "" {
				assert.Contains(t, text, link, "staff text links where staff act")
				assert.Contains(t, body, `href="`+link+`"`, "staff html links where staff act")
			}
		}
		assert.NotContains(t, text+body, "/v1/cases/", "never the raw API (a person clicking it gets a 401)")
		assert.Contains(t, text, e.Data.Subject)
		return
	}
	for name, s := range map[string]string{"subject": subject, "text": text, "html": plainHTML} {
		assert.Contains(t, s, e.Data.Reference, name+": the customer's reference is shown")
		assert.NotContains(t, s, "@support.example.com", name+": no staff address to the customer")
		assert.NotContains(t, s, "zendesk-4711", name+": the customer gets their reference, not our id")
	}
	for name, s := range map[string]string{"text": text, "html": plainHTML} {
		assert.Contains(t, s, "Ada", name+": the customer is greeted by name")
		assert.Contains(t, s, "reply", name+": the customer is told how to answer")
		apology := strings.Contains(s, "sincerely sorry")
		if e.Kind == tierflow.MsgResolution {
			assert.Equal(t, e.Data.Tier >= tierflow.TierSupervisor, apology, name+": apology at tier 3+ only")
			if e.Data.Explanation != "" {
				assert.Contains(t, s, e.Data.Explanation, name)
			}
			for _, c := range e.Data.Compensation {
				assert.Contains(t, s, money(c.AmountCents, c.Currency), name)
			}
		}
	}
}

// htmlText is the visible text of an HTML message, roughly: inline tags dropped,
// block tags turned into " | " (so lines are checked apart), the common entities
// decoded, white space collapsed.
func htmlText(s string) string {
	if i := strings.Index(s, "<body"); i >= 0 {
		s = s[i:]
	}
	s = tagRE.ReplaceAllStringFunc(s, func(tag string) string {
		name := strings.ToLower(tagRE.FindStringSubmatch(tag)[1])
		if blockTags[name] {
			return " | "
		}
		return ""
	})
	out := strings.Join(strings.Fields(html.UnescapeString(s)), " ")
	out = regexp.MustCompile(`(\s*\|\s*)+`).ReplaceAllString(out, " | ")
	return strings.Trim(out, " |")
}

var tagRE = regexp.MustCompile(`</?([a-zA-Z0-9]+)[^>]*>`)

var blockTags = map[string]bool{"p": true, "br": true, "div": true, "table": true, "tr": true, "td": true,
	"th": true, "ul": true, "li": true, "h1": true, "h2": true, "h3": true, "blockquote": true, "body": true}
