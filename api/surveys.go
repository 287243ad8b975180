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

// surveyLookupTimeout bounds the case lookup of the survey page.
const surveyLookupTimeout = 2 * time.Second

// surveyAnswer is the JSON body of POST /v1/surveys/{token}; resolved is a pointer so
// that a missing answer is told from "no".
type surveyAnswer struct {
	Score    int    `json:"score"`
	Resolved *bool  `json:"resolved"`
	Comment  string `json:"comment,omitempty"`
}

// response validates the answer and returns it as the domain's SurveyResponse.
func (a surveyAnswer) response() (tierflow.SurveyResponse, error) {
	resp := tierflow.SurveyResponse{Score: a.Score, Comment: strings.TrimSpace(a.Comment)}
	err := resp.Validate()
	if a.Resolved == nil {
		field := tierflow.FieldError{Field: "resolved", Message: "is required (yes or no)"}
		var e *tierflow.Error
		if errors.As(err, &e) {
			e.Fields = append(e.Fields, field)
		} else {
			err = &tierflow.Error{Code: tierflow.CodeInvalid, Message: "invalid survey response", Fields: []tierflow.FieldError{field}}
		}
	} else {
		resp.Resolved = *a.Resolved
	}
	return resp, err
}

// surveyPage: GET /v1/surveys/{token}, a plain HTML form that works without JavaScript.
func (s *server) surveyPage(w http.ResponseWriter, r *http.Request) {
	if err := s.throttle(w, s.limits.survey, s.clientKey(r)); err != nil {
		s.surveyErrorPage(w, r, err)
		return
	}
	link, err := s.verifySurvey(r)
	if err != nil {
		s.surveyErrorPage(w, r, err)
		return
	}
	page := surveyPageData{Action: r.URL.Path}
	if view, ok := s.surveyCase(r.Context(), link.CaseID); ok {
		page.Reference, page.Subject = view.ExternalID, view.Subject
		if err := otherRound(view, link); err != nil {
			s.surveyErrorPage(w, r, err)
			return
		}
		switch status := surveyStatus(view); status {
		case tierflow.SurveyAnswered:
			s.surveyErrorPage(w, r, tierflow.Errorf(tierflow.CodeConflict, "this survey was already answered"))
			return
		case tierflow.SurveyExpired, tierflow.SurveyCancelled:
			s.surveyErrorPage(w, r, tierflow.Errorf(tierflow.CodeGone, "this survey is %s", status))
			return
		}
	}
	renderHTML(w, http.StatusOK, surveyFormTemplate, page)
}

// otherRound refuses a link signed for another survey round than the case's
// current survey (an old link after a reopen): 410, that survey is over. The
// workflow refuses the answer too; this only spares the customer a form it would
// refuse. A case recorded before rounds (round 0) is left to the workflow.
func otherRound(v tierflow.CaseView, link tierflow.SurveyLink) error {
	if v.Survey == nil || v.Survey.Round == 0 || v.Survey.Round == link.Round {
		return nil
	}
	return tierflow.Errorf(tierflow.CodeGone, "this link belongs to an earlier survey of the case")
}

func surveyStatus(v tierflow.CaseView) tierflow.SurveyStatus {
	if v.Survey == nil {
		return ""
	}
	return v.Survey.Status
}

// surveyCase looks the case up for the page's heading, briefly: failures only cost
// the heading.
func (s *server) surveyCase(ctx context.Context, caseID string) (tierflow.CaseView, bool) {
	live, cancel := context.WithTimeout(ctx, surveyLookupTimeout)
	defer cancel()
	if view, err := s.Cases.Get(live, caseID); err == nil {
		return view, true
	}
	view, err := s.Records.GetCase(ctx, caseID)
	return view, err == nil
}

// answerSurvey: POST /v1/surveys/{token}, from the page's form (answered in HTML) or
// as JSON (answered in JSON).
func (s *server) answerSurvey(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := mt == "application/x-www-form-urlencoded"
	fail := func(err error) {
		if form {
			s.surveyErrorPage(w, r, err)
		} else {
			s.writeError(w, r, err)
		}
	}
	if err := s.throttle(w, s.limits.survey, s.clientKey(r)); err != nil {
		fail(err)
		return
	}
	link, err := s.verifySurvey(r)
	if err != nil {
		fail(err)
		return
	}
	var (
		answer surveyAnswer
		resp   tierflow.SurveyResponse
	)
	switch {
	case form:
		answer, err = parseSurveyForm(w, r)
	case isJSON(r.Header.Get("Content-Type")):
		err = decodeJSONBody(w, r, &answer)
	default:
		err = &tierflow.Error{Code: codeUnsupportedType, Message: "send the survey as a form or as application/json"}
	}
	if err == nil {
		resp, err = answer.response()
		resp.Round = link.Round // the workflow takes it only for the survey of that round
	}
	if err != nil {
		if form && tierflow.ErrorCode(err) == tierflow.CodeInvalid {
			s.Logger.Info("survey form incomplete", "request_id", requestID(r.Context()))
			renderHTML(w, http.StatusUnprocessableEntity, surveyFormTemplate,
				surveyPageData{Action: r.URL.Path, Error: "Please choose a score from 1 to 5 and say whether your issue was resolved."})
			return
		}
		fail(err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.UpdateTimeout)
	defer cancel()
	if _, err := s.Cases.AnswerSurvey(ctx, link.CaseID, resp); err != nil {
		if tierflow.ErrorCode(err) == tierflow.CodeNotFound {
			err = s.closedSurveyError(r.Context(), link.CaseID)
		}
		fail(err)
		return
	}
	if form {
		renderHTML(w, http.StatusOK, surveyThanksTemplate, nil)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"recorded"})
}

// verifySurvey checks the token's signature against every survey key (404) and its
// expiry (410), and returns the case and survey round it names.
func (s *server) verifySurvey(r *http.Request) (tierflow.SurveyLink, error) {
	return tierflow.VerifySurveyToken(s.SurveyKeys, r.PathValue("token"), s.Now())
}

// parseSurveyForm reads the page's form: score 1-5, resolved yes/no, comment.
func parseSurveyForm(w http.ResponseWriter, r *http.Request) (surveyAnswer, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return surveyAnswer{}, &tierflow.Error{Code: codeTooLarge, Message: "the form is too large"}
		}
		return surveyAnswer{}, tierflow.Errorf(tierflow.CodeMalformed, "the form could not be read")
	}
	var a surveyAnswer
	a.Score, _ = strconv.Atoi(r.PostForm.Get("score"))
	switch strings.ToLower(r.PostForm.Get("resolved")) {
	case "yes", "true":
		yes := true
		a.Resolved = &yes
	case "no", "false":
		no := false
		a.Resolved = &no
	}
	a.Comment = r.PostForm.Get("comment")
	return a, nil
}

// surveyErrorPage answers a survey failure with a page a customer understands.
func (s *server) surveyErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		s.Logger.Error("survey failed", "request_id", requestID(r.Context()), "error", err.Error())
	}
	msg := map[int]string{
		http.StatusNotFound:        "This survey link is not valid. Please use the link from your email.",
		http.StatusGone:            "This survey has expired. Thank you all the same.",
		http.StatusConflict:        "You have already answered this survey. Thank you!",
		http.StatusTooManyRequests: "Too many requests from your network. Please try again in a minute.",
	}[p.Status]
	if msg == "" {
		msg = "We could not record your answer right now. Please try again in a few minutes."
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	renderHTML(w, p.Status, surveyMessageTemplate, surveyPageData{Title: p.Title, Message: msg})
}

// closedSurveyError explains why a case whose workflow has ended takes no answer:
// answered already (409, as api.md promises) or closed without one (410).
func (s *server) closedSurveyError(ctx context.Context, caseID string) error {
	if v, err := s.Records.GetCase(ctx, caseID); err == nil && v.Survey != nil && v.Survey.Status == tierflow.SurveyAnswered {
		return tierflow.Errorf(tierflow.CodeConflict, "this survey was already answered; thank you")
	}
	return tierflow.Errorf(tierflow.CodeGone, "this survey is closed")
}
