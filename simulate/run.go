package simulate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tierflow/tierflow"
)

// Report puts what the recorded runs did and what the candidate policy would have
// done side by side, with the cases whose fate changes.
type Report struct {
	// Policy is the candidate, "name@version".
	Policy       string        `json:"policy"`
	Window       Window        `json:"window"`
	Actual       Counters      `json:"actual"`
	Simulated    Counters      `json:"simulated"`
	ChangedCases []ChangedCase `json:"changed_cases"`
	// Skipped counts cases whose record does not start with their opening (a
	// partial record cannot be replayed).
	Skipped int `json:"skipped,omitempty"`
}

// ChangedCase is one case whose fate differs under the candidate: what changed
// and the candidate's deadlines that changed it.
type ChangedCase struct {
	CaseID     string   `json:"case_id"`
	ExternalID string   `json:"external_id"`
	Changes    []Change `json:"changes"`
	// Explanations are the domain's explanations of the candidate's deadlines
	// behind the changes (each names the candidate policy and version).
	Explanations []string `json:"explanations"`
}

// Change is one counter of a case that differs: "breaches.tier_1.acknowledge",
// "automatic_escalations", "highest_tier", "past_close_target", "auto_resolved".
type Change struct {
	What      string `json:"what"`
	Actual    int    `json:"actual"`
	Simulated int    `json:"simulated"`
}

// Run reads the window's cases from r (keyset pages, at most MaxCases) and
// simulates them under candidate. The CLI's "policy simulate" and the API call it.
func Run(ctx context.Context, r Reader, candidate tierflow.Policy, w Window) (Report, error) {
	if err := candidate.Validate(); err != nil {
		return Report{}, err
	}
	if err := w.Validate(); err != nil {
		return Report{}, err
	}
	if w.AsOf.IsZero() {
		w.AsOf = time.Now().UTC()
	}
	var cases []CaseLog
	var after *PageKey
	for {
		page, err := r.ReadCases(ctx, w, after, min(500, MaxCases+1-len(cases)))
		if err != nil {
			return Report{}, fmt.Errorf("read cases: %w", err)
		}
		cases = append(cases, page.Cases...)
		if len(cases) > MaxCases {
			return Report{}, tierflow.Errorf(tierflow.CodeInvalid,
				"the window holds more than %d cases; narrow it (from, to, source)", MaxCases)
		}
		if page.Next == nil {
			break
		}
		after = page.Next
	}
	return Simulate(cases, candidate, w), nil
}

// Simulate replays cases under candidate up to w.AsOf (set it) and reports.
func Simulate(cases []CaseLog, candidate tierflow.Policy, w Window) Report {
	rep := Report{Policy: candidate.Ref(), Window: w,
		Actual: Counters{Breaches: map[string]int{}}, Simulated: Counters{Breaches: map[string]int{}},
		ChangedCases: []ChangedCase{}}
	for _, c := range cases {
		recorded := upTo(c.Events, w.AsOf)
		if len(recorded) == 0 || recorded[0].Type != tierflow.EventOpened {
			rep.Skipped++
			continue
		}
		c.Events = recorded
		sim := replay(candidate, c, w.AsOf)
		actual, simulated := CountEvents(withReleasedWarnings(withSentSurveys(recorded, w.AsOf), w.AsOf)), CountEvents(sim.events)
		rep.Actual.Add(actual)
		rep.Simulated.Add(simulated)
		if changes := fateChanges(actual, simulated, recorded, sim.events); len(changes) > 0 {
			rep.ChangedCases = append(rep.ChangedCases, ChangedCase{CaseID: c.CaseID, ExternalID: c.ExternalID,
				Changes: changes, Explanations: sim.explain(candidate, changes)})
		}
	}
	return rep
}

// upTo is the prefix of evs at or before asOf.
func upTo(evs []tierflow.CaseEvent, asOf time.Time) []tierflow.CaseEvent {
	n := 0
	for n < len(evs) && !evs[n].At.After(asOf) {
		n++
	}
	return evs[:n]
}

// fateChanges lists the counters that decide a case's fate and differ.
func fateChanges(a, s Counters, actual, simulated []tierflow.CaseEvent) []Change {
	var out []Change
	add := func(what string, x, y int) {
		if x != y {
			out = append(out, Change{What: what, Actual: x, Simulated: y})
		}
	}
	for _, k := range breachKeys(a, s) {
		add("breaches."+k, a.Breaches[k], s.Breaches[k])
	}
	add("automatic_escalations", a.AutomaticEscalations, s.AutomaticEscalations)
	add("highest_tier", int(highestTier(actual)), int(highestTier(simulated)))
	add("past_close_target", a.PastCloseTarget, s.PastCloseTarget)
	add("auto_resolved", a.AutoResolved, s.AutoResolved)
	return out
}

func highestTier(evs []tierflow.CaseEvent) tierflow.Tier {
	var top tierflow.Tier
	for _, ev := range evs {
		top = max(top, ev.Tier)
	}
	return top
}

// explain names the candidate's deadlines behind a case's changed breaches: for
// a breach the candidate adds, its first missed deadline; for one it removes,
// its first deadline of that tier and clock that the recorded action beat (or
// that the case never ran that clock under the candidate).
func (s *caseSim) explain(p tierflow.Policy, changes []Change) []string {
	out := []string{}
	for _, ch := range changes {
		tier, clock, ok := parseBreachKey(ch.What)
		if !ok {
			continue
		}
		missed := ch.Simulated > ch.Actual
		i := slices.IndexFunc(s.runs, func(r clockRun) bool {
			return r.Deadline.Tier == tier && r.Deadline.Clock == clock && r.Breached == missed
		})
		switch {
		case i >= 0 && missed:
			out = append(out, "Missed: "+s.runs[i].Deadline.Explanation)
		case i >= 0:
			out = append(out, "Met: "+s.runs[i].Deadline.Explanation)
		default:
			out = append(out, fmt.Sprintf("Under policy %s version %s the case never ran the tier %d %s clock.",
				p.Name, p.Version, int(tier), clock))
		}
	}
	return out
}

func parseBreachKey(what string) (tierflow.Tier, tierflow.Clock, bool) {
	var n int
	var clock string
	if _, err := fmt.Sscanf(what, "breaches.tier_%d.%s", &n, &clock); err != nil {
		return 0, "", false
	}
	return tierflow.Tier(n), tierflow.Clock(clock), true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}
