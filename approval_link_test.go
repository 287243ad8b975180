package tierflow

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestApprovalTokenRoundTripAndRefusals(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	key, old := []byte("survey-key-0123456789abcdef"), []byte("previous-survey-key-0123456")
	link := ApprovalLink{CaseID: "zendesk-4711.a_b", ApprovalID: "apr-12", Tier: TierSupervisor, Department: "billing",
		Decision: ActionReject, Expires: now.Add(time.Hour)}
	token := SignApprovalToken(key, link)
	if token != SignApprovalToken(key, link) {
		t.Fatal("the same link must sign to the same token (a retried email sends the same link)")
	}
	got, err := VerifyApprovalToken([][]byte{old, key}, token, now)
	if err != nil || got != link {
		t.Fatalf("verify = %+v, %v; want %+v", got, err, link)
	}
	if _, err := VerifyApprovalToken([][]byte{key}, token, link.Expires); ErrorCode(err) != CodeGone {
		t.Errorf("at its expiry: %v, want CodeGone", err)
	}
	if _, err := VerifyApprovalToken([][]byte{old}, token, now); ErrorCode(err) != CodeNotFound {
		t.Errorf("key no longer configured: %v, want CodeNotFound", err)
	}
	// The survey key itself never verifies an approval link: the link key is derived.
	payload, _, _ := strings.Cut(token, ".")
	if _, err := VerifyApprovalToken([][]byte{key}, payload+"."+strings.Split(SignSurveyToken(key, SurveyLink{CaseID: "x", Round: 1, Expires: now}), ".")[2], now); ErrorCode(err) != CodeNotFound {
		t.Errorf("a survey MAC: %v, want CodeNotFound", err)
	}
	for name, mutate := range map[string]func(*ApprovalLink){
		"other decision":   func(l *ApprovalLink) { l.Decision = ActionApprove },
		"other tier":       func(l *ApprovalLink) { l.Tier = TierExecutive },
		"later expiry":     func(l *ApprovalLink) { l.Expires = l.Expires.Add(time.Hour) },
		"other department": func(l *ApprovalLink) { l.Department = "shipping" },
		"no department":    func(l *ApprovalLink) { l.Department = "" },
	} {
		l := link
		mutate(&l)
		// Each binding is signed: a payload changed to name l fails with the original MAC.
		forged := strings.SplitN(SignApprovalToken(key, l), ".", 2)[0] + "." + strings.SplitN(token, ".", 2)[1]
		if _, err := VerifyApprovalToken([][]byte{key}, forged, now); ErrorCode(err) != CodeNotFound {
			t.Errorf("%s: %v, want CodeNotFound", name, err)
		}
	}
	// A first-format token (no department), correctly signed, is not valid.
	a1 := "a1|reject|3|" + strconv.FormatInt(link.Expires.Unix(), 10) + "|apr-12|zendesk-4711.a_b"
	a1Token := base64.RawURLEncoding.EncodeToString([]byte(a1)) + "." +
		base64.RawURLEncoding.EncodeToString(approvalMAC(ApprovalLinkKey(key), a1))
	for _, bad := range []string{"", ".", "abc", "abc.def", token + "x", strings.Repeat("a", 2000), a1Token} {
		if _, err := VerifyApprovalToken([][]byte{key}, bad, now); ErrorCode(err) != CodeNotFound {
			t.Errorf("%q: %v, want CodeNotFound", bad, err)
		}
	}
}

func TestApprovalLinkBinding(t *testing.T) {
	requested := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	climbing := Approval{ID: "apr-3", RequiredTier: TierSpecialist, RequestedAt: requested, ExpiresAt: requested.Add(4 * time.Hour)}
	if got := ApprovalLinkExpiry(climbing); !got.Equal(climbing.ExpiresAt) {
		t.Errorf("expiry = %v, want the approval clock %v", got, climbing.ExpiresAt)
	}
	top := Approval{ID: "apr-3", RequiredTier: TierExecutive, RequestedAt: requested}
	if got := ApprovalLinkExpiry(top); !got.Equal(requested.Add(ApprovalLinkMaxAge)) {
		t.Errorf("top-of-ladder expiry = %v, want a week after the request", got)
	}
	approve := ApprovalLink{CaseID: "c-1", ApprovalID: "apr-3", Tier: TierSpecialist, Department: "billing", Decision: ActionApprove}
	reject := approve
	reject.Decision = ActionReject
	if approve.DecisionID() != reject.DecisionID() {
		t.Error("the approve and reject links of one request must share a decision ID (at most one applies)")
	}
	d := approve.Decide("  fine  ")
	if err := d.Validate(); err != nil {
		t.Fatalf("the link's decision must be valid: %v", err)
	}
	if d.Note != "fine" || d.Actor.Role != RoleSpecialist || d.Actor.Tier != TierSpecialist || d.ApprovalID != "apr-3" {
		t.Errorf("decision = %+v", d)
	}
	// The email went to the department's specialists: the link decides as one.
	if !d.Actor.InDepartment("billing") || d.Actor.InDepartment("shipping") {
		t.Errorf("a tier-2 link of a billing case decides as %+v: it must serve billing, and only billing", d.Actor)
	}
	noDept := approve
	noDept.Department = ""
	if a := noDept.Approver(); a.Departments != nil || !a.InDepartment("") {
		t.Errorf("a link of a case without a department decides as %+v", a)
	}
}
