package tierflow

import (
	"fmt"
	"strings"
	"time"
)

// A policy migration moves a case in flight to another policy (the
// migrate_policy decision): an explicit, audited step by a supervisor or above,
// never automatic. The case's running deadlines are rebased on the new policy
// (Policy.Rebase) and each explanation names both versions.

// PolicyName is how a decision or a bulk migration names a loaded policy:
// "name" (whatever version is loaded) or "name@version" (that version only).
type PolicyName struct {
	Name    string
	Version string // empty: any version
}

// ParsePolicyName reads "name" or "name@version"; an invalid *Error on field
// "policy" when it is neither.
func ParsePolicyName(s string) (PolicyName, error) {
	n, problem := parsePolicyName(s)
	if problem != "" {
		return PolicyName{}, &Error{Code: CodeInvalid, Message: "invalid policy name",
			Fields: []FieldError{{Field: "policy", Message: problem}}}
	}
	return n, nil
}

func parsePolicyName(s string) (PolicyName, string) {
	name, version, hasVersion := strings.Cut(s, "@")
	if !policyNamePattern.MatchString(name) {
		return PolicyName{}, fmt.Sprintf("must name a loaded policy as name or name@version, like \"fast\" or \"fast@2026-12-01\", got %q", s)
	}
	if hasVersion && (version == "" || len(version) > 64 || strings.ContainsAny(version, "@ \t\n")) {
		return PolicyName{}, fmt.Sprintf("the version after @ must be 1-64 characters without spaces, got %q", version)
	}
	return PolicyName{Name: name, Version: version}, ""
}

// Matches reports whether p is the policy named.
func (n PolicyName) Matches(p Policy) bool {
	return n.Name == p.Name && (n.Version == "" || n.Version == p.Version)
}

// String is "name@version", or "name" when any version matches.
func (n PolicyName) String() string {
	if n.Version == "" {
		return n.Name
	}
	return n.Name + "@" + n.Version
}

// Ref is "name@version" of p, as explanations and audit events write it.
func (p Policy) Ref() string { return p.Name + "@" + p.Version }

// checkMigratePolicy is migrate_policy's check: a well-formed policy name and,
// when the API has attached it, a valid snapshot of that very policy.
func checkMigratePolicy(d Decision, v *Validation) {
	if strings.TrimSpace(d.Policy) == "" {
		return // nonBlank has said so
	}
	name, problem := parsePolicyName(d.Policy)
	if problem != "" {
		v.Add("policy", "%s", problem)
		return
	}
	if d.PolicySnapshot == nil {
		return // the API attaches it after this check; the workflow requires it
	}
	if err := d.PolicySnapshot.Validate(); err != nil {
		v.Add("policy_snapshot", "is not a valid policy: %v", err)
		return
	}
	v.Check(name.Matches(*d.PolicySnapshot), "policy_snapshot", "is %s, not the policy %s the decision names",
		d.PolicySnapshot.Ref(), name)
}

// Rebase is the running deadline d of a case that moves from policy from to p,
// as p sets it. For the tier clocks and the answer promise, the working time d
// had used by at (its own duration less what was left of it, in its own
// calendar; at is now, or when the clocks stopped for a paused case) counts
// against p's duration for the same clock, and the rest runs from at in p's
// calendar (nothing left: due at at). The update cadence, the approval clock
// and the close target are p's from the same start. The explanation says what
// the deadline was under from and is under p ("was 4h under standard@1, now 2h
// under fast@1"). A clock p does not know is returned as it was.
func (p Policy) Rebase(from Policy, d Deadline, pr Priority, at time.Time) Deadline {
	was := fmt.Sprintf("was %s under %s (due %s)", d.Duration, from.Ref(), from.CalendarNamed(d.Calendar).formatInstant(d.At))
	var out Deadline
	switch d.Clock {
	case ClockAcknowledge, ClockResolve, ClockAnswer:
		out = p.rebaseWorking(from, d, pr, at)
	case ClockCustomerUpdate:
		out = p.CustomerUpdateDeadline(pr, d.Start)
	case ClockApproval:
		out = p.ApprovalDeadline(d.Start)
	case ClockCloseTarget:
		out = p.CloseTargetDeadline(d.Start)
	default:
		return d
	}
	out.Detail = fmt.Sprintf("%s, now %s under %s", was, out.Duration, p.Ref())
	out.Explanation = p.Explain(out)
	return out
}

// rebaseWorking rebases a tier clock or the answer promise (see Rebase).
func (p Policy) rebaseWorking(from Policy, d Deadline, pr Priority, at time.Time) Deadline {
	oldCal, cal := from.CalendarNamed(d.Calendar), p.CalendarFor(pr)
	used := max(0, d.Duration.Duration-oldCal.Elapsed(at, d.At))
	total := p.rebasedDuration(from, d, pr)
	out := Deadline{Clock: d.Clock, Tier: d.Tier, At: cal.Add(at, max(0, total-used)), Start: d.Start,
		Duration: Duration{total}, Calendar: cal.Name, PolicyVersion: p.Version, Paused: d.Paused}
	if d.WarnAt != nil {
		warn := cal.Add(at, max(0, time.Duration(float64(total)*p.WarningRatio)-used))
		out.WarnAt = &warn
	}
	return out
}

// rebasedDuration is p's duration for d's clock at d's tier. An answer promise
// that included the tier's acknowledge time under from (it was longer than the
// tier's resolve time) includes p's too.
func (p Policy) rebasedDuration(from Policy, d Deadline, pr Priority) time.Duration {
	pp := p.Priorities[pr]
	switch d.Clock {
	case ClockAcknowledge:
		return pp.Acknowledge.For(d.Tier)
	case ClockResolve:
		return pp.Resolve.For(d.Tier)
	}
	total := pp.Resolve.For(d.Tier)
	if d.Duration.Duration > from.Priorities[pr].Resolve.For(d.Tier) {
		total += pp.Acknowledge.For(d.Tier)
	}
	return total
}
