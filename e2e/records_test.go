package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierflow/tierflow"
)

// waitForMail waits for the case's first dev-mailbox message of kind.
func (f *flow) waitForMail(t *testing.T, kind tierflow.MessageKind, within time.Duration) tierflow.MailboxMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, within)
	defer cancel()
	var found tierflow.MailboxMessage
	poll(ctx, t, fmt.Sprintf("a %s email in the dev mailbox", kind), 500*time.Millisecond, func() (bool, string) {
		msgs, err := f.stack.Store.ListMail(ctx, f.caseID, 200)
		if err != nil {
			return false, err.Error()
		}
		var kinds []string
		for _, m := range msgs {
			if m.Kind == kind {
				found = m
				return true, ""
			}
			kinds = append(kinds, string(m.Kind))
		}
		return false, fmt.Sprintf("%d messages: %v", len(msgs), kinds)
	})
	return found
}

// mailText reads a kept message's text through the API's dev mailbox pages.
func (f *flow) mailText(t *testing.T, id int64) string {
	t.Helper()
	r := f.api.do(f.ctx, t, tokViewer, http.MethodGet, "/dev/mailbox/"+strconv.FormatInt(id, 10)+"/text", nil).
		expect(t, http.StatusOK, "dev mailbox message text")
	return string(r.Body)
}

var surveyLinkRE = regexp.MustCompile(`https?://[^\s"'<>]+/v1/surveys/[A-Za-z0-9_.=-]+`)

// surveyLink finds the signed survey link in an email's text.
func surveyLink(text string) string { return surveyLinkRE.FindString(text) }

// requiredTimeline is the order in which the flow's milestones must appear in the
// audit log ("escalated:<mode>" names an escalation by its mode).
var requiredTimeline = []string{
	string(tierflow.EventOpened),
	string(tierflow.EventAcknowledged),
	string(tierflow.EventEscalated) + ":functional",
	string(tierflow.EventApprovalRequested),
	string(tierflow.EventApproved),
	string(tierflow.EventEscalated) + ":hierarchical",
	string(tierflow.EventBreach),
	string(tierflow.EventEscalated) + ":automatic",
	string(tierflow.EventResolved),
	string(tierflow.EventSurveySent),
	string(tierflow.EventSurveyAnswered),
	string(tierflow.EventClosed),
}

func timelineName(ev tierflow.CaseEvent) string {
	if ev.Type == tierflow.EventEscalated {
		return string(ev.Type) + ":" + ev.Details[tierflow.DetailMode]
	}
	return string(ev.Type)
}

// closedWithRecords: the survey closed the case; the timeline and the KPIs say so.
func (f *flow) closedWithRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	poll(ctx, t, "the case to close", 500*time.Millisecond, func() (bool, string) {
		f.view = f.api.getCase(f.ctx, t, tokSupervisor, f.caseID)
		return f.view.Status == tierflow.StatusClosed, "status " + string(f.view.Status)
	})
	v := f.view
	assert.NotNil(t, v.ClosedAt)
	require.NotNil(t, v.Survey)
	assert.Equal(t, tierflow.SurveyAnswered, v.Survey.Status)
	assert.Equal(t, 5, v.Survey.Score)
	if assert.NotNil(t, v.Survey.Resolved) {
		assert.True(t, *v.Survey.Resolved)
	}
	assert.Equal(t, tierflow.TierExecutive, v.Tier)
	assert.GreaterOrEqual(t, v.Escalations, 3, "functional, hierarchical and automatic escalations")

	// The audit log is written by activities: wait until it holds the close.
	var events []tierflow.CaseEvent
	poll(ctx, t, "the closed event in the audit timeline", 500*time.Millisecond, func() (bool, string) {
		events = f.api.events(f.ctx, t, tokViewer, f.caseID)
		return slices.ContainsFunc(events, func(e tierflow.CaseEvent) bool { return e.Type == tierflow.EventClosed }),
			fmt.Sprintf("%d events", len(events))
	})
	names := make([]string, len(events))
	for i, ev := range events {
		names[i] = timelineName(ev)
		if i > 0 {
			assert.Greater(t, ev.Seq, events[i-1].Seq, "seq strictly increases (event %d, %s)", i, ev.Type)
			assert.False(t, ev.At.Before(events[i-1].At), "events are oldest first (event %d, %s)", i, ev.Type)
		}
	}
	t.Logf("timeline: %v", names)
	last := -1
	for _, want := range requiredTimeline {
		idx := slices.Index(names[last+1:], want)
		if !assert.GreaterOrEqual(t, idx, 0, "%s after position %d in the timeline %v", want, last, names) {
			continue
		}
		last += 1 + idx
	}
	assert.Equal(t, string(tierflow.EventClosed), names[len(names)-1], "closed is the last event")
	answered := 0
	for _, n := range names {
		if n == string(tierflow.EventSurveyAnswered) {
			answered++
		}
	}
	assert.Equal(t, 1, answered, "the survey is answered once")
	breach := events[slices.Index(names, string(tierflow.EventBreach))]
	assert.Equal(t, string(tierflow.ClockAcknowledge), breach.Details["clock"])
	assert.Equal(t, tierflow.TierSupervisor, breach.Tier)
	for _, ev := range events {
		if ev.Type == tierflow.EventEscalated && ev.Details["mode"] != "automatic" {
			assert.NotEmpty(t, ev.Summary, "a human hand-off carries its summary (%s)", ev.Details["mode"])
		}
	}

	f.checkKPIs(t)
}

// checkKPIs reads the report around now as a supervisor.
func (f *flow) checkKPIs(t *testing.T) {
	from := f.started.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var report tierflow.KPIReport
	f.api.do(f.ctx, t, tokSupervisor, http.MethodGet,
		"/v1/reports/kpis?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil).
		expect(t, http.StatusOK, "KPIs").decode(t, &report)
	k := report.Total
	t.Logf("KPIs: opened %d, escalated %d, to tier %v, breaches %v, CSAT %v, compensation %v",
		k.CasesOpened, k.EscalatedCases, k.EscalationsToTier, k.SLABreachesByTier, k.CSATDistribution, k.CompensationCents)
	if assert.NotNil(t, k.CSATAverage, "an answered survey gives a CSAT average") {
		assert.Greater(t, *k.CSATAverage, 0.0)
	}
	assert.GreaterOrEqual(t, k.CasesOpened, 1)
	assert.GreaterOrEqual(t, k.EscalatedCases, 1)
	assert.Greater(t, k.EscalationRate, 0.0)
	sum := 0
	for _, n := range k.EscalationsToTier {
		sum += n
	}
	assert.GreaterOrEqual(t, sum, 3, "escalations to tiers 2, 3 and 4: %v", k.EscalationsToTier)
	assert.GreaterOrEqual(t, k.SLABreachesByTier["3"], 1, "tier 3's breach: %v", k.SLABreachesByTier)
	assert.GreaterOrEqual(t, k.CSATDistribution["5"], 1, "the 5 of the survey: %v", k.CSATDistribution)
	assert.GreaterOrEqual(t, k.ResolvedCases, 1)
	assert.GreaterOrEqual(t, k.CompensationCents["EUR"], int64(50000))

	f.api.do(f.ctx, t, tokAgent, http.MethodGet,
		"/v1/reports/kpis?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil).
		expect(t, http.StatusForbidden, "KPIs as an agent")
}
