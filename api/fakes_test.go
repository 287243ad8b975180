package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/workflows"
)

// fakeCases is a hand-written CaseService: cases live in a map; failures are injected
// per operation.
type fakeCases struct {
	mu           sync.Mutex
	cases        map[string]tierflow.CaseView
	fingerprints map[string]string
	opened       []OpenCommand
	decisions    []tierflow.Decision
	events       []tierflow.CustomerEvent
	surveys      []tierflow.SurveyResponse
	// err, when set for an operation ("open", "get", "decide", "event", "survey",
	// "ping"), is returned instead of acting.
	err map[string]error
	// getBlocks makes Get wait for its context to end (a Query nobody answers).
	getBlocks bool
	// queries counts Get calls (the workflow's query).
	queries int
}

func newFakeCases() *fakeCases {
	return &fakeCases{cases: map[string]tierflow.CaseView{}, fingerprints: map[string]string{}, err: map[string]error{}}
}

func (f *fakeCases) fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err[op] = err
}

func (f *fakeCases) put(v tierflow.CaseView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cases[v.ID] = v
}

func (f *fakeCases) snapshot(id string) (tierflow.CaseView, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cases[id], len(f.decisions) + len(f.events) + len(f.surveys) + len(f.opened)
}

func (f *fakeCases) Open(_ context.Context, cmd OpenCommand) (tierflow.CaseView, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err["open"]; err != nil {
		return tierflow.CaseView{}, false, err
	}
	if v, ok := f.cases[cmd.CaseID]; ok {
		if f.fingerprints[cmd.CaseID] != cmd.Fingerprint {
			return tierflow.CaseView{}, false, tierflow.Errorf(tierflow.CodeConflict, "case %s already exists with a different request", cmd.CaseID)
		}
		return v, false, nil
	}
	v := openedView(cmd, "run-1")
	v.EscalatedAt = cmd.Request.OpenedAt
	f.cases[cmd.CaseID] = v
	f.fingerprints[cmd.CaseID] = cmd.Fingerprint
	f.opened = append(f.opened, cmd)
	return v, true, nil
}

func (f *fakeCases) Get(ctx context.Context, id string) (tierflow.CaseView, error) {
	f.mu.Lock()
	f.queries++
	if f.getBlocks {
		f.mu.Unlock()
		<-ctx.Done()
		return tierflow.CaseView{}, fmt.Errorf("query case %s: %w", id, ctx.Err())
	}
	defer f.mu.Unlock()
	if err := f.err["get"]; err != nil {
		return tierflow.CaseView{}, err
	}
	v, ok := f.cases[id]
	if !ok {
		return v, tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
	}
	return v, nil
}

func (f *fakeCases) Decide(_ context.Context, id string, d tierflow.Decision) (tierflow.CaseView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err["decide"]; err != nil {
		return tierflow.CaseView{}, err
	}
	v, ok := f.cases[id]
	if !ok {
		return v, tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
	}
	f.decisions = append(f.decisions, d)
	if d.Action == tierflow.ActionAcknowledge {
		owner := d.Actor.ID
		v.Assignee, v.Status = &owner, tierflow.StatusInProgress
	}
	v.LastDecision = string(d.Action) + " by " + d.Actor.ID
	v.Seq++
	f.cases[id] = v
	return v, nil
}

func (f *fakeCases) CustomerEvent(_ context.Context, id string, e tierflow.CustomerEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err["event"]; err != nil {
		return err
	}
	if _, ok := f.cases[id]; !ok {
		return tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
	}
	f.events = append(f.events, e)
	return nil
}

func (f *fakeCases) AnswerSurvey(_ context.Context, id string, r tierflow.SurveyResponse) (tierflow.CaseView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.err["survey"]; err != nil {
		return tierflow.CaseView{}, err
	}
	v, ok := f.cases[id]
	if !ok {
		return v, tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
	}
	if v.Survey != nil && v.Survey.Status == "answered" {
		return v, tierflow.Errorf(tierflow.CodeConflict, "the survey was already answered")
	}
	resolved := r.Resolved
	v.Survey = &tierflow.SurveyState{Status: "answered", Score: r.Score, Resolved: &resolved, Comment: r.Comment}
	f.surveys = append(f.surveys, r)
	f.cases[id] = v
	return v, nil
}

func (f *fakeCases) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err["ping"]
}

// fakeRecords is a hand-written tierflow.CaseReader.
type fakeRecords struct {
	mu         sync.Mutex
	cases      map[string]tierflow.CaseView
	events     map[string][]tierflow.CaseEvent
	page       tierflow.CasePage
	lastFilter *tierflow.CaseFilter
	lastKPI    *tierflow.KPIQuery
	err        error
}

func newFakeRecords() *fakeRecords {
	return &fakeRecords{cases: map[string]tierflow.CaseView{}, events: map[string][]tierflow.CaseEvent{}}
}

func (f *fakeRecords) GetCase(_ context.Context, id string) (tierflow.CaseView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return tierflow.CaseView{}, f.err
	}
	v, ok := f.cases[id]
	if !ok {
		return v, tierflow.Errorf(tierflow.CodeNotFound, "no case %s", id)
	}
	return v, nil
}

// record writes v as the case's record, as RecordTransition does: only forward.
// The echo workers of the integration tests run it as a local activity.
func (f *fakeRecords) record(_ context.Context, v tierflow.CaseView) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.cases[v.ID]; !ok || v.Seq > old.Seq {
		f.cases[v.ID] = v
	}
	return nil
}

func (f *fakeRecords) ListCases(_ context.Context, filter tierflow.CaseFilter) (tierflow.CasePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastFilter = &filter
	return onlySources(f.page, filter.Sources), f.err
}

// onlySources keeps the cases of sources (all of them when sources is empty), as
// the Postgres filter does.
func onlySources(page tierflow.CasePage, sources []string) tierflow.CasePage {
	if len(sources) == 0 {
		return page
	}
	out := tierflow.CasePage{Cases: []tierflow.CaseView{}, NextCursor: page.NextCursor}
	for _, c := range page.Cases {
		if slices.Contains(sources, c.Source) {
			out.Cases = append(out.Cases, c)
		}
	}
	return out
}

// CaseEvents answers as postgres.Store does: not found when the case has neither
// events nor a case row.
func (f *fakeRecords) CaseEvents(_ context.Context, id string) ([]tierflow.CaseEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if _, ok := f.cases[id]; !ok && len(f.events[id]) == 0 {
		return nil, tierflow.Errorf(tierflow.CodeNotFound, "case %q not found", id)
	}
	return f.events[id], nil
}

func (f *fakeRecords) KPIs(_ context.Context, q tierflow.KPIQuery) (tierflow.KPIReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastKPI = &q
	if f.err != nil {
		return tierflow.KPIReport{}, f.err
	}
	p50 := tierflow.Duration{Duration: 90 * time.Minute}
	avg := 4.5
	total := tierflow.KPIs{
		CasesOpened: 10, EscalatedCases: 4, EscalationRate: 0.4,
		EscalationsToTier: map[string]int{"2": 3, "3": 1}, FirstTierResolutionRate: 0.6, ResolvedCases: 8,
		TimeToResolutionP50: &p50, ResolvedWithin30Days: 1, SLABreachesByTier: map[string]int{"1": 2},
		CSATAverage: &avg, CSATDistribution: map[string]int{"4": 1, "5": 1}, SurveyResponseRate: 0.25,
		CompensationCents: map[string]int64{"EUR": 5000}, TopCategories: []tierflow.CategoryCount{{Category: "billing", Cases: 3}},
	}
	report := tierflow.KPIReport{From: q.From, To: q.To, GroupBy: q.GroupBy, Total: total}
	if q.GroupBy != "" {
		g := total
		g.Group = "billing"
		report.Groups = []tierflow.KPIs{g}
	}
	return report, nil
}

// openedView is a new case as the fakes describe it (the workflow's first state,
// simplified): open at the policy's start tier, with nothing else happened yet.
func openedView(cmd OpenCommand, runID string) tierflow.CaseView {
	req := cmd.Request
	return tierflow.CaseView{
		ID: cmd.CaseID, Source: req.Source, ExternalID: req.ExternalID, Status: tierflow.StatusOpen,
		Tier: cmd.Policy.StartTierFor(req), StartTier: cmd.Policy.StartTierFor(req), Department: req.Department,
		Priority: req.Priority, Category: req.Category, Subject: req.Subject, Trigger: req.Trigger,
		Channel: req.Channel, Customer: req.Customer,
		Policy:   tierflow.PolicyRef{Name: cmd.Policy.Name, Version: cmd.Policy.Version},
		OpenedAt: req.OpenedAt.UTC(), Breaches: []tierflow.Breach{}, Compensation: []tierflow.Compensation{},
		Workflow: tierflow.WorkflowRef{ID: workflows.WorkflowID(cmd.CaseID), RunID: runID},
	}
}
