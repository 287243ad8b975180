package main

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tierflow/tierflow"
)

// ApprovalLinkStore keeps the single use of the approval emails' signed links
// (postgres.Store, migration 005): a POST claims the request's row before it
// decides and settles it after (see postgres/approval_links.go).
type ApprovalLinkStore interface {
	ClaimApprovalLink(ctx context.Context, link tierflow.ApprovalLink, now time.Time, staleAfter time.Duration) (tierflow.ApprovalLinkUse, bool, error)
	ApprovalLinkUse(ctx context.Context, link tierflow.ApprovalLink) (tierflow.ApprovalLinkUse, bool, error)
	SettleApprovalLink(ctx context.Context, claim tierflow.ApprovalLinkUse, used bool, now time.Time) error
}

// approvalPage: GET /v1/approvals/{token}, the confirmation page of an approve or
// reject link: what is decided, the amount, who proposed it, a comment field and a
// form that posts back to the same URL. It only reads: mail scanners and link
// previews that open every link decide nothing.
func (s *server) approvalPage(w http.ResponseWriter, r *http.Request) {
	link, err := s.approvalLinkOf(w, r)
	var view tierflow.CaseView
	if err == nil {
		view, err = s.unusedPendingApproval(r.Context(), link)
	}
	if err != nil {
		s.approvalErrorPage(w, r, err)
		return
	}
	renderHTML(w, http.StatusOK, approvalFormTemplate, newApprovalPageData(r.URL.Path, link, view))
}

// decideApprovalLink: POST /v1/approvals/{token}, from the confirmation page's
// form. The decision goes through the same Update as POST /v1/cases/{id}/decisions
// (the workflow's validation: authority, pending approval), with the identity the
// link is bound to (tierflow.ApprovalLink.Approver). The link is single-use: a
// second POST answers 409.
func (s *server) decideApprovalLink(w http.ResponseWriter, r *http.Request) {
	link, err := s.approvalLinkOf(w, r)
	if err != nil {
		s.approvalErrorPage(w, r, err)
		return
	}
	decision, err := approvalFormDecision(w, r, link)
	var view tierflow.CaseView
	if err == nil {
		view, err = s.unusedPendingApproval(r.Context(), link)
	}
	if err != nil {
		s.approvalErrorPage(w, r, err)
		return
	}
	after, err := s.applyApprovalLink(r, link, decision)
	if err != nil {
		s.approvalErrorPage(w, r, err)
		return
	}
	s.Logger.Info("approval decided from its email link", "request_id", requestID(r.Context()), "case_id", link.CaseID,
		"approval_id", link.ApprovalID, "decision", string(link.Decision), "tier", int(link.Tier))
	page := newApprovalPageData(r.URL.Path, link, view)
	page.After = after
	renderHTML(w, http.StatusOK, approvalDoneTemplate, page)
}

// approvalLinkOf is the request's approval link: the page and its form share the
// survey pages' throttle, then the token must verify (signature, expiry).
func (s *server) approvalLinkOf(w http.ResponseWriter, r *http.Request) (tierflow.ApprovalLink, error) {
	if err := s.throttle(w, s.limits.survey, s.clientKey(r)); err != nil {
		return tierflow.ApprovalLink{}, err
	}
	return tierflow.VerifyApprovalToken(s.SurveyKeys, r.PathValue("token"), s.Now())
}

// unusedPendingApproval is the live case when the link can still decide: not
// used (refuseUsedLink, 409) and its request still the one pending
// (pendingApprovalOf, 409 or 410). Both reads, in that order, for the page and
// its form alike.
func (s *server) unusedPendingApproval(ctx context.Context, link tierflow.ApprovalLink) (tierflow.CaseView, error) {
	if err := s.refuseUsedLink(ctx, link); err != nil {
		return tierflow.CaseView{}, err
	}
	return s.pendingApprovalOf(ctx, link)
}

// applyApprovalLink claims the link's single use, sends its decision and settles
// the claim by the outcome: used once the case applied it, released when the case
// refused it (the link changed nothing). An uncertain outcome (a timeout, Temporal
// unavailable) leaves the claim to go stale: a later POST takes it over and sends
// the same decision ID, which the case applies at most once.
func (s *server) applyApprovalLink(r *http.Request, link tierflow.ApprovalLink, d tierflow.Decision) (tierflow.CaseView, error) {
	claim, err := s.claimApprovalLink(r.Context(), link)
	if err != nil {
		return tierflow.CaseView{}, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
	defer cancel()
	after, err := s.Cases.Decide(ctx, link.CaseID, d)
	if err != nil {
		err = s.messageError(r.Context(), link.CaseID, err)
		if problemFor(err).Status >= http.StatusInternalServerError {
			return tierflow.CaseView{}, err
		}
	}
	// Settled even when the client went away: a detached short write.
	settle, done := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer done()
	if serr := s.ApprovalLinks.SettleApprovalLink(settle, claim, err == nil, s.Now()); serr != nil {
		s.Logger.Warn("approval link not settled", "request_id", requestID(r.Context()), "case_id", link.CaseID,
			"approval_id", link.ApprovalID, "applied", err == nil, "error", serr.Error())
	}
	return after, err
}

// approvalFormDecision reads the confirmation form: the decision it confirms must
// be the link's (a form tampered into the other decision changes nothing), and the
// comment becomes the decision's note.
func approvalFormDecision(w http.ResponseWriter, r *http.Request, link tierflow.ApprovalLink) (tierflow.Decision, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return tierflow.Decision{}, &tierflow.Error{Code: codeUnsupportedType, Message: "confirm the decision with the page's form"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return tierflow.Decision{}, &tierflow.Error{Code: codeTooLarge, Message: "the form is too large"}
		}
		return tierflow.Decision{}, tierflow.Errorf(tierflow.CodeMalformed, "the form could not be read")
	}
	if got := tierflow.Action(r.PostForm.Get("decision")); got != link.Decision {
		return tierflow.Decision{}, &tierflow.Error{Code: tierflow.CodeInvalid, Message: "this link can only " + string(link.Decision) + " the compensation",
			Fields: []tierflow.FieldError{{Field: "decision", Message: "must be " + string(link.Decision) + ", the decision the link was sent for"}}}
	}
	d := link.Decide(r.PostForm.Get("comment"))
	if err := d.Validate(); err != nil {
		return tierflow.Decision{}, err
	}
	return d, nil
}

// refuseUsedLink answers 409 when a link of the request was used, or is being
// used right now (a claim that is not stale). It only reads.
func (s *server) refuseUsedLink(ctx context.Context, link tierflow.ApprovalLink) error {
	use, found, err := s.ApprovalLinks.ApprovalLinkUse(ctx, link)
	if err != nil || !found {
		return err
	}
	if use.State == tierflow.ApprovalLinkClaimed && use.ClaimedAt.Before(s.Now().Add(-s.staleClaimAfter())) {
		return nil // a dead request's claim: the POST takes it over
	}
	return usedLinkError(use)
}

// staleClaimAfter is when a claim belongs to a request that died between its
// claim and its settling: twice the Update's timeout.
func (s *server) staleClaimAfter() time.Duration { return 2 * s.UpdateTimeout }

func usedLinkError(use tierflow.ApprovalLinkUse) error {
	if use.State == tierflow.ApprovalLinkUsed {
		return tierflow.Errorf(tierflow.CodeConflict, "this approval request was already decided from its email (%s); a link works once", use.Decision)
	}
	return tierflow.Errorf(tierflow.CodeConflict, "a decision from this approval email is being applied right now")
}

// claimApprovalLink claims the request's single use; a stale claim is taken over.
func (s *server) claimApprovalLink(ctx context.Context, link tierflow.ApprovalLink) (tierflow.ApprovalLinkUse, error) {
	claim, ok, err := s.ApprovalLinks.ClaimApprovalLink(ctx, link, s.Now(), s.staleClaimAfter())
	if err != nil {
		return tierflow.ApprovalLinkUse{}, err
	}
	if !ok {
		return tierflow.ApprovalLinkUse{}, usedLinkError(claim)
	}
	return claim, nil
}

// pendingApprovalOf reads the live case and checks that the link's request is
// still the one pending: decided or withdrawn is 409; climbed to another tier is
// 410 (the link expires with the approval clock, and the new tier got an email
// with its own links; this also covers clock skew at the expiry); a case moved to
// another department is 410 too (the link decides as the old department's staff,
// who no longer handle it; the new department's staff decide in the API).
func (s *server) pendingApprovalOf(ctx context.Context, link tierflow.ApprovalLink) (tierflow.CaseView, error) {
	live, cancel := context.WithTimeout(ctx, surveyLookupTimeout)
	defer cancel()
	view, err := s.Cases.Get(live, link.CaseID)
	if err != nil {
		return tierflow.CaseView{}, s.messageError(ctx, link.CaseID, err)
	}
	ap := view.PendingApproval
	switch {
	case ap == nil || ap.ID != link.ApprovalID:
		return view, tierflow.Errorf(tierflow.CodeConflict, "this compensation is no longer waiting for approval: it was decided or withdrawn")
	case ap.RequiredTier != link.Tier:
		return view, tierflow.Errorf(tierflow.CodeGone,
			"this approval request moved to tier %d when its time ran out; tier %d decides it from the newer email", ap.RequiredTier, ap.RequiredTier)
	case !strings.EqualFold(view.Department, link.Department):
		return view, tierflow.Errorf(tierflow.CodeGone,
			"this case moved to another department after the approval email was sent; that department's staff decide the request")
	}
	return view, nil
}

// approvalErrorPage answers a failure with a page a person understands: the
// problem's detail for what they can act on, never internal text.
func (s *server) approvalErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	msg := p.Detail
	switch {
	case p.Status == http.StatusNotFound:
		msg = "This approval link is not valid. Please use a link from an approval email."
	case p.Status == http.StatusTooManyRequests:
		msg = "Too many requests from your network. Please try again in a minute."
	case p.Status >= 500:
		s.Logger.Error("approval link failed", "request_id", requestID(r.Context()), "error", err.Error())
		msg = "The decision could not be confirmed right now. Please open the link again in a few minutes: it says whether the decision was applied."
		if p.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		}
	}
	// A refusal changed nothing; after a failure the outcome may be unknown.
	unchanged := p.Status < http.StatusInternalServerError
	renderHTML(w, p.Status, approvalMessageTemplate, approvalPageData{Title: p.Title, Message: msg, Fields: p.Errors, Unchanged: unchanged})
}
