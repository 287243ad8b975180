package sendgrid

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeLayout shows instants in UTC as people write them: "Tuesday 24 November 2026
// at 14:00 UTC". Customers have no time zone on record, so UTC is said explicitly.
const timeLayout = "Monday 2 January 2006 at 15:04 MST"

func (r *Renderer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Renderer) funcs() map[string]any {
	return map[string]any{
		"when":     when,
		"relative": r.relative,
		"money":    money,
		"title":    capitalize,
		"sentence": sentence,
		"pair":     func(label, value any) []any { return []any{label, value} },
		"link":     func(url, label string) linkData { return linkData{URL: url, Label: label} },
	}
}

// sentence makes a workflow phrase a sentence: capitalized, with a final stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return capitalize(s)
}

// linkData is a call-to-action link for the "button" template.
type linkData struct{ URL, Label string }

// when formats t (a time.Time or *time.Time) in UTC; a nil pointer is "".
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		return v.UTC().Format(timeLayout)
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.UTC().Format(timeLayout)
	}
	return ""
}

// relative says how far t is from now: "in about 4 hours", "2 days ago".
func (r *Renderer) relative(t any) string {
	var at time.Time
	switch v := t.(type) {
	case time.Time:
		at = v
	case *time.Time:
		if v == nil {
			return ""
		}
		at = *v
	default:
		return ""
	}
	d := at.Sub(r.now())
	past := d < 0
	if past {
		d = -d
	}
	var phrase string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		phrase = plural(int(math.Round(d.Minutes())), "minute")
	case d < 48*time.Hour:
		phrase = "about " + plural(int(math.Round(d.Hours())), "hour")
	default:
		phrase = "about " + plural(int(math.Round(d.Hours()/24)), "day")
	}
	if past {
		return phrase + " ago"
	}
	return "in " + phrase
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// money formats an amount in minor units: money 12050 "eur" is "120.50 EUR" and
// 250000 "usd" is "2,500.00 USD".
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, d := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return fmt.Sprintf("%s%s.%02d %s", sign, b.String(), cents%100, strings.ToUpper(strings.TrimSpace(currency)))
}
