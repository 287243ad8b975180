package tierflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is the "d" unit of policy durations: always 24 hours of clock time, whatever
// the calendar says about working hours.
const Day = 24 * time.Hour

// ParseDuration parses a policy duration: a sequence of decimal numbers with units,
// as time.ParseDuration accepts ("90s", "1h30m", "500ms"), plus "d" for days of 24h
// ("3d", "1d12h"). A bare "0" is zero.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration (write e.g. \"90s\", \"4h\" or \"3d\")")
	}
	if strings.ContainsAny(s, " \t\n") {
		return 0, fmt.Errorf("invalid duration %q: write it without spaces, e.g. \"4h\" or \"1d12h\"", orig)
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	var total uint64 // magnitude; 1<<63 is allowed only for a negative duration
	for s != "" {
		num, unit, rest, err := nextSegment(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", orig, err)
		}
		part, err := segmentValue(num, unit)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", orig, err)
		}
		total += uint64(part)
		if total > 1<<63 || !neg && total > math.MaxInt64 {
			return 0, fmt.Errorf("invalid duration %q: too long", orig)
		}
		s = rest
	}
	if neg {
		return time.Duration(-int64(total)), nil
	}
	return time.Duration(total), nil
}

// nextSegment splits "12.5h30m" into "12.5", "h" and "30m".
func nextSegment(s string) (num, unit, rest string, err error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return "", "", "", fmt.Errorf("expected a number at %q", s)
	}
	j := i
	for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	if j == i {
		return "", "", "", fmt.Errorf("missing unit after %q (use s, m, h or d)", s[:i])
	}
	return s[:i], s[i:j], s[j:], nil
}

func segmentValue(num, unit string) (time.Duration, error) {
	switch unit {
	case "ns", "us", "µs", "ms", "s", "m", "h":
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("bad number or too long: %q", num+unit)
		}
		return d, nil
	case "d":
		h, err := time.ParseDuration(num + "h")
		if err != nil {
			return 0, fmt.Errorf("bad number or too long: %q", num+unit)
		}
		if h > math.MaxInt64/24 {
			return 0, fmt.Errorf("too long")
		}
		return h * 24, nil
	}
	return 0, fmt.Errorf("unknown unit %q (use s, m, h or d)", unit)
}

// FormatDuration writes d compactly in the policy syntax: "90s" becomes "1m30s",
// 36h becomes "1d12h", zero is "0s". ParseDuration(FormatDuration(d)) == d.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u // two's complement: also right for math.MinInt64
	}
	units := []struct {
		name string
		size uint64
	}{
		{"d", uint64(Day)}, {"h", uint64(time.Hour)}, {"m", uint64(time.Minute)}, {"s", uint64(time.Second)},
		{"ms", uint64(time.Millisecond)}, {"us", uint64(time.Microsecond)}, {"ns", 1},
	}
	for _, un := range units {
		if n := u / un.size; n > 0 {
			b.WriteString(strconv.FormatUint(n, 10))
			b.WriteString(un.name)
			u -= n * un.size
		}
	}
	return b.String()
}

// String is the compact policy form ("4h", "1d12h").
func (d Duration) String() string { return FormatDuration(d.Duration) }

// MarshalJSON writes the compact string form.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatDuration(d.Duration))
}

// UnmarshalJSON reads a duration string ("90s", "4h", "3d", "1d12h") or a number of
// seconds (90, 0.5). null leaves the value unchanged.
func (d *Duration) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("invalid duration: %w", err)
		}
		v, err := ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		d.Duration = v
		return nil
	}
	var secs float64
	if err := json.Unmarshal(data, &secs); err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"90s\", \"4h\", \"3d\" or a number of seconds", data)
	}
	ns := math.Round(secs * float64(time.Second))
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return fmt.Errorf("invalid duration %s: out of range", data)
	}
	d.Duration = time.Duration(ns)
	return nil
}
