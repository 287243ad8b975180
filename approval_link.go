package tierflow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ApprovalLink is what a signed approve or reject link of an approval-request
// email names. The link is bound to one decision on one approval of one case, and
// to the tier and the department the request was sent to: that tier's authority
// decides, and the decision is recorded under that tier's approver identity
// (Approver).
type ApprovalLink struct {
	CaseID     string
	ApprovalID string
	// Tier is the tier the request was sent to (Approval.RequiredTier when the
	// email went out); after the request climbs, a newer email carries new links.
	Tier Tier
	// Department is the case's department when the email went out ("" for a case
	// without one): the email went to that department's staff of Tier, so the
	// link decides as one of them. A link whose case has since moved to another
	// department is spent (the API answers 410).
	Department string
	Decision   Action // ActionApprove or ActionReject
	Expires    time.Time
}

// ApprovalLinkMaxAge bounds the life of a link to a request at the top of the
// ladder, whose approval clock never runs out: a link in a mailbox must not stay
// usable forever.
const ApprovalLinkMaxAge = 7 * 24 * time.Hour

// ApprovalLinkExpiry is when the links of an approval request expire: with the
// approval clock (the request climbs a tier then, and the new tier's email carries
// new links), or ApprovalLinkMaxAge after the request at the top of the ladder.
func ApprovalLinkExpiry(a Approval) time.Time {
	if !a.ExpiresAt.IsZero() {
		return a.ExpiresAt.UTC()
	}
	return a.RequestedAt.Add(ApprovalLinkMaxAge).UTC()
}

// Approver is the identity a link's decision is recorded with: the approvers of
// the tier the request went to, not a person. The approval email is one message
// to every active approver of that tier and its queue address, so the link
// cannot know which of them clicked; naming the tier's queue is what the binding
// can vouch for. The approver serves the link's department, as every recipient
// does: agents and specialists must name one to decide (Principal.InDepartment).
// The approver may sign the comment.
func (l ApprovalLink) Approver() Principal {
	p := Principal{
		ID:   fmt.Sprintf("email-link:tier-%d", l.Tier),
		Name: fmt.Sprintf("Tier %d (%s) approver, by the approval email's link", l.Tier, l.Tier),
		Role: roleOfTier(l.Tier), Tier: l.Tier,
	}
	if l.Department != "" {
		p.Departments = []string{l.Department}
	}
	return p
}

// DecisionID is the decision ID of the link's decision: the same for the approve
// and the reject link of one request, so the case applies at most one of them,
// and a retried POST of the same link is the same decision.
func (l ApprovalLink) DecisionID() string {
	return fmt.Sprintf("email-link:%s:tier-%d", l.ApprovalID, l.Tier)
}

// Decide is the decision the link applies, with the approver's comment as its note.
func (l ApprovalLink) Decide(comment string) Decision {
	return Decision{Action: l.Decision, DecisionID: l.DecisionID(), ApprovalID: l.ApprovalID,
		Note: strings.TrimSpace(comment), Actor: l.Approver()}
}

func roleOfTier(t Tier) Role {
	switch t {
	case TierFrontline:
		return RoleAgent
	case TierSpecialist:
		return RoleSpecialist
	case TierSupervisor:
		return RoleSupervisor
	}
	return RoleExecutive
}

// approvalLinkVersion starts every token and names its payload format. "a2" added
// the department; "a1" tokens (no department) were only ever signed by tests and
// are refused as not valid.
const approvalLinkVersion = "a2"

// approvalLinkKeyLabel separates the link key from the survey key it is derived
// from (the way internal/updateauth derives its key). It names the key, not the
// payload format: a new format keeps the key.
const approvalLinkKeyLabel = "tierflow/approval-link/a1"

// ApprovalLinkKey is the link signing key derived from a survey key
// (TIERFLOW_SURVEY_KEYS): rotating the survey keys rotates it.
func ApprovalLinkKey(surveyKey []byte) []byte {
	m := hmac.New(sha256.New, surveyKey)
	m.Write([]byte(approvalLinkKeyLabel))
	return m.Sum(nil)
}

// SignApprovalToken returns the URL-safe token of link, signed with the link key
// of surveyKey (the newest survey key). Same inputs give the same token, so a
// retried email sends the same links.
func SignApprovalToken(surveyKey []byte, link ApprovalLink) string {
	payload := strings.Join([]string{approvalLinkVersion, string(link.Decision), strconv.Itoa(int(link.Tier)),
		strconv.FormatInt(link.Expires.Unix(), 10), link.ApprovalID, link.Department, link.CaseID}, "|")
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(approvalMAC(ApprovalLinkKey(surveyKey), payload))
}

// VerifyApprovalToken checks the token against the link key of every survey key
// (newest first: a key can rotate while links signed with the previous one are
// out) and returns what it names. A bad or forged token, or one signed with a key
// no longer in the list, is CodeNotFound; an expired one is CodeGone, returned
// with the link.
func VerifyApprovalToken(surveyKeys [][]byte, token string, now time.Time) (ApprovalLink, error) {
	link, ok := parseApprovalToken(surveyKeys, token)
	if !ok {
		return ApprovalLink{}, Errorf(CodeNotFound, "this approval link is not valid")
	}
	if !now.Before(link.Expires) {
		return link, Errorf(CodeGone, "this approval link expired at %s", link.Expires.Format(time.RFC3339))
	}
	return link, nil
}

func parseApprovalToken(surveyKeys [][]byte, token string) (ApprovalLink, bool) {
	enc := base64.RawURLEncoding
	p, m, ok := strings.Cut(token, ".")
	if !ok || len(token) > 1024 {
		return ApprovalLink{}, false
	}
	raw, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil {
		return ApprovalLink{}, false
	}
	valid := false
	for _, k := range surveyKeys {
		if len(k) > 0 && hmac.Equal(mac, approvalMAC(ApprovalLinkKey(k), string(raw))) {
			valid = true // every key is tried: the time taken tells nothing
		}
	}
	if !valid {
		return ApprovalLink{}, false
	}
	// "a2|<decision>|<tier>|<expiry>|<approval id>|<department>|<case id>": the
	// case ID last, the only field that may hold a "|".
	f := strings.SplitN(string(raw), "|", 7)
	if len(f) != 7 || f[0] != approvalLinkVersion {
		return ApprovalLink{}, false
	}
	tier, err1 := strconv.Atoi(f[2])
	secs, err2 := strconv.ParseInt(f[3], 10, 64)
	link := ApprovalLink{Decision: Action(f[1]), Tier: Tier(tier), Expires: time.Unix(secs, 0).UTC(),
		ApprovalID: f[4], Department: f[5], CaseID: f[6]}
	if err1 != nil || err2 != nil || !link.Tier.Valid() || link.ApprovalID == "" || link.CaseID == "" ||
		(link.Decision != ActionApprove && link.Decision != ActionReject) {
		return ApprovalLink{}, false
	}
	return link, true
}

func approvalMAC(linkKey []byte, payload string) []byte {
	m := hmac.New(sha256.New, linkKey)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// ApprovalLinkUse is the record of a link's single use (the approval links
// table): a POST claims it before deciding, and settles it as used once the case
// applied the decision, or releases it when the case refused.
type ApprovalLinkUse struct {
	CaseID     string
	ApprovalID string
	Tier       Tier
	Decision   Action
	// State is "claimed" (a POST is deciding) or "used".
	State string
	// ClaimedAt fences the settling of a claim (see the store).
	ClaimedAt time.Time
}

// Approval link use states.
const (
	ApprovalLinkClaimed = "claimed"
	ApprovalLinkUsed    = "used"
)
