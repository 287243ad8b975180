package sendgrid

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// timeLayout shows instants in UTC, RFC 1123 style without seconds.
const timeLayout = "Mon, 02 Jan 2006 15:04 MST"

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
	}
}

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

// money formats an amount in minor units: money 12050 "eur" is "120.50 EUR".
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, strings.ToUpper(currency))
}
