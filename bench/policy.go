package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The bench's policies. Every clock that a phase does not measure is a day long, so
// nothing fires behind a measurement's back.
const (
	// policyQuiet: no clock fires during the run; the survey goes out a second
	// after resolution.
	policyQuiet = "bench"
	// policyBreach: tier 1 must acknowledge within 2 seconds (the automatic
	// escalation lifecycle); the other tiers within a day.
	policyBreach = "bench-breach"
	// policyHerd: tier 1 acknowledge deadlines on a calendar that opens at one
	// chosen minute, so that every case opened before it has the same deadline.
	policyHerd = "bench-herd"
	// policySteady prefixes the steady policies (steadyPolicyName): each has its
	// own tier 1 acknowledge clock (steadyPlan.Clocks), warned at 3/4 of it, on a
	// 24x7 calendar.
	policySteady = "bench-steady"
)

// herdCalendar is the "herd" calendar of policyHerd: closed until OpensAt, then
// open to the end of that (local) day, every day.
type herdCalendar struct {
	OpensAt time.Time     // a whole minute
	Ack     time.Duration // tier 1 acknowledge clock, from OpensAt
}

// zoneAndClock names a fixed-offset IANA zone in which at falls around noon (so
// that neither now nor at crosses a local midnight) and at's "HH:MM" there.
func (h herdCalendar) zoneAndClock() (zone, clock string) {
	offset := 12 - h.OpensAt.UTC().Hour() // local = UTC + offset, -11..+12
	switch {
	case offset == 0:
		zone = "UTC"
	case offset > 0:
		zone = fmt.Sprintf("Etc/GMT-%d", offset) // POSIX sign: Etc/GMT-3 is UTC+3
	default:
		zone = fmt.Sprintf("Etc/GMT+%d", -offset)
	}
	local := h.OpensAt.UTC().Add(time.Duration(offset) * time.Hour)
	return zone, local.Format("15:04")
}

// policyYAML is one policy file. ackTier1 overrides tier 1's acknowledge clock
// ("" keeps a day); calendar names the calendar of every priority.
func policyYAML(name, calendar, calendarYAML, ackTier1 string, warningRatio float64) string {
	ack := "{default: 1d}"
	if ackTier1 != "" {
		ack = fmt.Sprintf("{default: 1d, tiers: {1: %s}}", ackTier1)
	}
	var prio strings.Builder
	for _, p := range []string{"urgent", "high", "normal", "low"} {
		fmt.Fprintf(&prio, "  %s:\n    calendar: %s\n    acknowledge: %s\n    resolve: {default: 1d}\n    customer_update_every: 1d\n",
			p, calendar, ack)
	}
	return fmt.Sprintf(`# Written by the benchmark (bench/): not a policy for real customers.
name: %s
version: "bench-1"
calendars:
  24x7:
    always_open: true
%s
tiers:
  - {tier: 1, name: frontline, authority_cents: 5000, queue: tier1@support.example.com, team: our customer service team}
  - {tier: 2, name: specialist, authority_cents: 25000, queue: tier2@support.example.com, team: our specialist team}
  - {tier: 3, name: supervisor, authority_cents: 100000, queue: tier3@support.example.com, team: a customer service supervisor}
  - {tier: 4, name: executive, authority_cents: null, queue: tier4@support.example.com, team: our executive office}
priorities:
%swarning_ratio: %g
approval_timeout: 1d
close_target: {after: 30d, warn_after: 25d}
awaiting_customer: {reminders: [1d], auto_resolve_after: 14d}
survey: {delay: 1s, reminder: 1d, expiry: 14d, reopen_at_or_below: 2}
start_tier:
  - {trigger: external_complaint, tier: 4}
  - {priority: urgent, tier: 3}
`, name, calendarYAML, prio.String(), warningRatio)
}

// writeBasePolicies writes the quiet and breach policies into dir.
func writeBasePolicies(dir string) ([]string, error) {
	files := map[string]string{
		policyQuiet:  policyYAML(policyQuiet, "24x7", "", "", 0.75),
		policyBreach: policyYAML(policyBreach, "24x7", "", "2s", 0.75),
	}
	var paths []string
	for _, name := range []string{policyQuiet, policyBreach} {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return nil, fmt.Errorf("write policy %s: %w", name, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// steadyWarningRatio: the steady cases are warned at 3/4 of their clock, as on a
// busy day.
const steadyWarningRatio = 0.75

// writeSteadyPolicies writes one steady policy per clock into dir
// (steadyPolicyName).
func writeSteadyPolicies(dir string, clocks []time.Duration) ([]string, error) {
	paths := make([]string, 0, len(clocks))
	for _, clock := range clocks {
		name := steadyPolicyName(clock)
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(policyYAML(name, "24x7", "", clock.String(), steadyWarningRatio)), 0o644); err != nil {
			return nil, fmt.Errorf("write policy %s: %w", name, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// writeHerdPolicy writes policyHerd for h into dir. Its warning comes early in the
// clock (herdWarningRatio), so that the warnings' burst has drained before the
// breaches' one.
func writeHerdPolicy(dir string, h herdCalendar) (string, error) {
	zone, clock := h.zoneAndClock()
	cal := fmt.Sprintf("  herd:\n    time_zone: %s\n    days: [mon, tue, wed, thu, fri, sat, sun]\n    open: %q\n    close: \"24:00\"\n",
		zone, clock)
	body := policyYAML(policyHerd, "herd", cal, h.Ack.String(), herdWarningRatio)
	p := filepath.Join(dir, policyHerd+".yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		return "", fmt.Errorf("write policy %s: %w", policyHerd, err)
	}
	return p, nil
}
