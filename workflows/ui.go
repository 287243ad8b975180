package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// searchValues are the search attribute values of a case (no personal data).
type searchValues struct {
	tier                int64
	status, priority    string
	department, source  string
	category, assignee  string
	slaBreached, closed bool
	closeTargetAt       time.Time
	nextDeadline        time.Time
}

func (w *caseWorkflow) searchValues(v tierflow.CaseView) searchValues {
	next := w.nextDeadlineSA()
	sv := searchValues{tier: int64(v.Tier), status: string(v.Status), priority: string(v.Priority),
		department: v.Department, source: v.Source, category: v.Category, slaBreached: len(v.Breaches) > 0,
		closed: v.CloseTargetBreached, closeTargetAt: w.st.Clocks.CloseTarget.At, nextDeadline: next}
	if v.Assignee != nil {
		sv.assignee = *v.Assignee
	}
	return sv
}

// publish shows the transition to operators: search attributes (only the changed
// ones) and the current details markdown.
func (w *caseWorkflow) publish(ctx workflow.Context, v tierflow.CaseView) {
	sv := w.searchValues(v)
	var ups []temporal.SearchAttributeUpdate
	if w.lean {
		ups = changedSearchAttributes(workflow.GetTypedSearchAttributes(ctx), sv)
	} else {
		ups = w.sinceLastUpsert(sv)
	}
	if len(ups) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
			workflow.GetLogger(ctx).Warn("upsert search attributes failed", "case_id", w.st.CaseID, "error", err)
		} else {
			w.published = &sv
		}
	}
	workflow.SetCurrentDetails(ctx, w.currentDetails(v))
}

// changedSearchAttributes are the updates that make the run's search attributes
// (those it started with, carried over or upserted since) read sv
// (changeLeanHistory): none when they already do, so the first transition of a
// run re-sends none of what its start set.
func changedSearchAttributes(cur temporal.SearchAttributes, sv searchValues) []temporal.SearchAttributeUpdate {
	var ups []temporal.SearchAttributeUpdate
	keyword := func(k temporal.SearchAttributeKeyKeyword, val string) {
		prev, ok := cur.GetKeyword(k)
		switch {
		case val == "" && ok:
			ups = append(ups, k.ValueUnset())
		case val != "" && (!ok || prev != val):
			ups = append(ups, k.ValueSet(val))
		}
	}
	boolean := func(k temporal.SearchAttributeKeyBool, val bool) {
		if prev, ok := cur.GetBool(k); !ok || prev != val {
			ups = append(ups, k.ValueSet(val))
		}
	}
	instant := func(k temporal.SearchAttributeKeyTime, val time.Time) {
		prev, ok := cur.GetTime(k)
		switch {
		case val.IsZero() && ok:
			ups = append(ups, k.ValueUnset())
		case !val.IsZero() && (!ok || !prev.Equal(val)):
			ups = append(ups, k.ValueSet(val))
		}
	}
	if prev, ok := cur.GetInt64(SACaseTier); !ok || prev != sv.tier {
		ups = append(ups, SACaseTier.ValueSet(sv.tier))
	}
	keyword(SACaseStatus, sv.status)
	keyword(SACasePriority, sv.priority)
	keyword(SACaseDepartment, sv.department)
	keyword(SACaseSource, sv.source)
	keyword(SACaseCategory, sv.category)
	keyword(SACaseAssignee, sv.assignee)
	boolean(SASlaBreached, sv.slaBreached)
	boolean(SACloseTargetBreached, sv.closed)
	instant(SACloseTargetAt, sv.closeTargetAt)
	instant(SANextDeadline, sv.nextDeadline)
	return ups
}

// sinceLastUpsert are the updates of runs from before changeLeanHistory: every
// attribute at the first upsert of a run, then those that changed since.
func (w *caseWorkflow) sinceLastUpsert(sv searchValues) []temporal.SearchAttributeUpdate {
	old := w.published
	var ups []temporal.SearchAttributeUpdate
	keyword := func(k temporal.SearchAttributeKeyKeyword, val, prev string) {
		if old != nil && val == prev {
			return
		}
		if val == "" {
			ups = append(ups, k.ValueUnset())
			return
		}
		ups = append(ups, k.ValueSet(val))
	}
	instant := func(k temporal.SearchAttributeKeyTime, val, prev time.Time) {
		if old != nil && val.Equal(prev) {
			return
		}
		if val.IsZero() {
			ups = append(ups, k.ValueUnset())
			return
		}
		ups = append(ups, k.ValueSet(val))
	}
	prev := searchValues{}
	if old != nil {
		prev = *old
	}
	if old == nil || sv.tier != prev.tier {
		ups = append(ups, SACaseTier.ValueSet(sv.tier))
	}
	keyword(SACaseStatus, sv.status, prev.status)
	keyword(SACasePriority, sv.priority, prev.priority)
	keyword(SACaseDepartment, sv.department, prev.department)
	keyword(SACaseSource, sv.source, prev.source)
	keyword(SACaseCategory, sv.category, prev.category)
	keyword(SACaseAssignee, sv.assignee, prev.assignee)
	if old == nil || sv.slaBreached != prev.slaBreached {
		ups = append(ups, SASlaBreached.ValueSet(sv.slaBreached))
	}
	if old == nil || sv.closed != prev.closed {
		ups = append(ups, SACloseTargetBreached.ValueSet(sv.closed))
	}
	instant(SACloseTargetAt, sv.closeTargetAt, prev.closeTargetAt)
	instant(SANextDeadline, sv.nextDeadline, prev.nextDeadline)
	return ups
}

// currentDetails is the markdown the Temporal UI shows under "Current Details".
// A run continued as new has no static summary or details of its own (the SDK's
// continue-as-new carries the memo and search attributes, not the start's user
// metadata), so its current details begin with both, recomputed from the request
// and the pinned policy it carries: the case never reads as anonymous.
func (w *caseWorkflow) currentDetails(v tierflow.CaseView) string {
	var b strings.Builder
	if w.in.Resume != nil {
		b.WriteString("### " + StaticSummary(w.in.Request) + "\n\n")
		b.WriteString(StaticDetails(w.st.CaseID, w.in.Request, w.in.Policy))
		b.WriteString("\n---\n\n")
	}
	tp := w.in.Policy.TierPolicy(v.Tier)
	b.WriteString(fmt.Sprintf("**Tier %d %s**", v.Tier, tp.Name))
	if v.Department != "" {
		b.WriteString(fmt.Sprintf(" · %s", v.Department))
	}
	b.WriteString(fmt.Sprintf(" · status `%s` · priority %s\n\n", v.Status, v.Priority))
	owner := "queue " + tp.Queue
	if v.Assignee != nil {
		owner = *v.Assignee
		if !w.st.Acknowledged {
			owner += " (proposed)"
		}
	}
	b.WriteString(fmt.Sprintf("- Owner: %s\n", owner))
	if next, label := w.nextDeadline(); !next.IsZero() {
		b.WriteString(fmt.Sprintf("- Next deadline: %s at %s\n", label, next.UTC().Format(time.RFC3339)))
	} else {
		b.WriteString("- Next deadline: none\n")
	}
	if v.LastDecision != "" {
		b.WriteString(fmt.Sprintf("- Last decision: %s\n", v.LastDecision))
	}
	if len(v.Breaches) > 0 || v.CloseTargetBreached {
		b.WriteString(fmt.Sprintf("- Breaches: %d", len(v.Breaches)))
		if v.CloseTargetBreached {
			b.WriteString(", close target missed")
		}
		b.WriteString("\n")
	}
	if ap := v.PendingApproval; ap != nil {
		b.WriteString(fmt.Sprintf("- Pending approval %s: %s at tier %d\n", ap.ID, money(ap.AmountCents, ap.Currency), ap.RequiredTier))
	}
	if s := v.Survey; s != nil {
		b.WriteString(fmt.Sprintf("- Survey: %s", s.Status))
		if s.Status == tierflow.SurveyAnswered {
			b.WriteString(fmt.Sprintf(" (%d of 5)", s.Score))
		}
		b.WriteString("\n")
	}
	b.WriteString(fmt.Sprintf("- Events recorded: %d · policy %s@%s\n", v.Seq, v.Policy.Name, v.Policy.Version))
	return b.String()
}
