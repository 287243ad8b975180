package main

import (
	"fmt"
	"strings"
	"time"
)

// timeLayout is how the CLI prints instants: UTC, to the second.
const timeLayout = "2006-01-02 15:04:05Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}

// relative says when t is from now: "in 3h20m", "2d4h ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -30*time.Second && d < 30*time.Second:
		return "now"
	case d > 0:
		return "in " + roughDuration(d)
	default:
		return roughDuration(-d) + " ago"
	}
}

// roughDuration keeps the two largest units: "2d4h", "3h20m", "5m", "40s".
func roughDuration(d time.Duration) string {
	d = d.Round(time.Second)
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	seconds := int(d % time.Minute / time.Second)
	switch {
	case days > 0:
		return joinUnits(days, "d", hours, "h")
	case hours > 0:
		return joinUnits(hours, "h", minutes, "m")
	case minutes > 0:
		return joinUnits(minutes, "m", seconds, "s")
	}
	return fmt.Sprintf("%ds", seconds)
}

func joinUnits(a int, ua string, b int, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, ua)
	}
	return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
}

// whenAt prints an instant with its distance from now: "2026-11-20 13:15:00Z (in 2h)".
func whenAt(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", formatTime(*t), relative(*t, now))
}

// orDash prints "-" for an empty value, so that table columns stay aligned.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// oneLine flattens text for a table cell and shortens it to max runes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// plural writes "1 escalation", "2 escalations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
