package tierflow

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Calendar says when a clock runs: always (24x7) or in business hours.
type Calendar struct {
	Name       string `json:"name"`
	AlwaysOpen bool   `json:"always_open"`
	TimeZone   string `json:"time_zone"`
	// Days are lower-case three-letter weekdays ("mon".."sun").
	Days []string `json:"days"`
	// Open and Close are "HH:MM" local times; Close after Open.
	Open  string `json:"open"`
	Close string `json:"close"`
	// Holidays are "YYYY-MM-DD" local dates on which the clock does not run.
	Holidays []string `json:"holidays"`
}

// CalendarAlwaysOpenName is the built-in 24x7 calendar, used when a policy names no
// calendar or one it does not define.
const CalendarAlwaysOpenName = "24x7"

// AlwaysOpenCalendar is the 24x7 wall-clock calendar.
func AlwaysOpenCalendar() Calendar {
	return Calendar{Name: CalendarAlwaysOpenName, AlwaysOpen: true}
}

// CalendarNamed returns the policy's calendar called name (its Name filled in from
// the key), or the 24x7 calendar when the policy has none by that name.
func (p Policy) CalendarNamed(name string) Calendar {
	if c, ok := p.Calendars[name]; ok {
		if c.Name == "" {
			c.Name = name
		}
		return c
	}
	return AlwaysOpenCalendar()
}

// CalendarFor returns the calendar priority pr's clocks run in: the policy calendar
// the priority names, or 24x7 when it names none or one the policy lacks.
func (p Policy) CalendarFor(pr Priority) Calendar {
	return p.CalendarNamed(p.Priorities[pr].Calendar)
}

// Add returns the instant when d of working time has run from start. A start outside
// working hours counts from the next opening; a deadline that ends exactly at a
// close stays at the close. d <= 0 returns start. The result is in start's location.
func (c Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	b, ok := c.hours()
	if !ok {
		return start.Add(d)
	}
	at, found := b.add(start, d)
	if !found {
		return start.Add(d)
	}
	return at.In(start.Location())
}

// Elapsed returns the working time between from and to (zero when to is not after
// from).
func (c Calendar) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	b, ok := c.hours()
	if !ok {
		return to.Sub(from)
	}
	return b.elapsed(from, to)
}

// NextOpen returns the first instant at or after t at which the calendar runs (t
// itself for a 24x7 calendar).
func (c Calendar) NextOpen(t time.Time) time.Time {
	b, ok := c.hours()
	if !ok {
		return t
	}
	if at, found := b.nextOpen(t); found {
		return at.In(t.Location())
	}
	return t
}

// Describe names the calendar for people: "24x7" or "business hours Mon-Fri
// 09:00-17:00 Europe/Paris (except 3 holidays)".
func (c Calendar) Describe() string {
	if c.AlwaysOpen {
		return "24x7 wall-clock time"
	}
	var days []time.Weekday
	for _, w := range weekdayNames {
		for _, d := range c.Days {
			if d == w.key {
				days = append(days, w.day)
				break
			}
		}
	}
	s := fmt.Sprintf("business hours %s %s-%s %s", describeDays(days), c.Open, c.Close, c.TimeZone)
	switch n := len(c.Holidays); n {
	case 0:
	case 1:
		s += " (except 1 holiday)"
	default:
		s += fmt.Sprintf(" (except %d holidays)", n)
	}
	return s
}

// weekdays in the order people read them (Monday first), with their policy names.
var weekdayNames = []struct {
	key string
	day time.Weekday
}{
	{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday}, {"thu", time.Thursday},
	{"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday},
}

// maxScanDays bounds the day-by-day walk of a business calendar (20 years), so that
// no input can loop forever.
const maxScanDays = 20 * 366

// businessHours is a business-hours Calendar parsed for computation.
type businessHours struct {
	loc         *time.Location
	days        [7]bool // by time.Weekday
	open, close int     // minutes after local midnight; close may be 24*60
	holidays    map[string]bool
}

// compile parses a business-hours calendar, recording every problem in v under
// prefix (e.g. "calendars.business."); ok is false when any field is invalid.
func (c Calendar) compile(v *Validation, prefix string) (b businessHours, ok bool) {
	before := len(v.fields)
	if c.TimeZone == "" {
		v.Add(prefix+"time_zone", "is required (an IANA zone such as \"Europe/Paris\" or \"UTC\")")
	} else if loc, err := LoadZone(c.TimeZone); err != nil {
		v.Add(prefix+"time_zone", "unknown time zone %q", c.TimeZone)
	} else {
		b.loc = loc
	}
	if len(c.Days) == 0 {
		v.Add(prefix+"days", "must list at least one day (mon..sun)")
	}
	for i, d := range c.Days {
		wd, found := parseWeekday(d)
		switch {
		case !found:
			v.Add(fmt.Sprintf("%sdays[%d]", prefix, i), "unknown day %q (use mon, tue, wed, thu, fri, sat, sun)", d)
		case b.days[wd]:
			v.Add(fmt.Sprintf("%sdays[%d]", prefix, i), "day %q is listed twice", d)
		default:
			b.days[wd] = true
		}
	}
	var openOK, closeOK bool
	b.open, openOK = parseClock(c.Open, false)
	v.Check(openOK, prefix+"open", "must be a local time \"HH:MM\" (00:00-23:59), got %q", c.Open)
	b.close, closeOK = parseClock(c.Close, true)
	v.Check(closeOK, prefix+"close", "must be a local time \"HH:MM\" (00:00-24:00), got %q", c.Close)
	if openOK && closeOK && b.close <= b.open {
		v.Add(prefix+"close", "must be after open (%s), got %s", c.Open, c.Close)
	}
	b.holidays = make(map[string]bool, len(c.Holidays))
	for i, h := range c.Holidays {
		day, err := time.Parse(time.DateOnly, h)
		switch {
		case err != nil || day.Format(time.DateOnly) != h:
			v.Add(fmt.Sprintf("%sholidays[%d]", prefix, i), "must be a date \"YYYY-MM-DD\", got %q", h)
		case b.holidays[h]:
			v.Add(fmt.Sprintf("%sholidays[%d]", prefix, i), "date %s is listed twice", h)
		default:
			b.holidays[h] = true
		}
	}
	return b, len(v.fields) == before
}

func parseWeekday(s string) (time.Weekday, bool) {
	for _, w := range weekdayNames {
		if w.key == s {
			return w.day, true
		}
	}
	return 0, false
}

// parseClock parses "HH:MM" into minutes after midnight; "24:00" only when allowEnd.
func parseClock(s string, allowEnd bool) (int, bool) {
	hh, mm, found := strings.Cut(s, ":")
	if !found || len(hh) != 2 || len(mm) != 2 {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 {
		return 0, false
	}
	if h == 24 && m == 0 && allowEnd {
		return 24 * 60, true
	}
	if h > 23 {
		return 0, false
	}
	return h*60 + m, true
}

// hours returns the parsed business hours, or ok false for a 24x7 calendar or one
// that does not parse (which Policy.Validate rejects; such a calendar then runs on
// wall-clock time rather than never).
func (c Calendar) hours() (businessHours, bool) {
	if c.AlwaysOpen {
		return businessHours{}, false
	}
	var v Validation
	return c.compile(&v, "")
}

// window returns the working interval of the local date of day (a noon instant),
// or ok false when the calendar is closed all that day.
func (b businessHours) window(day time.Time) (open, close time.Time, ok bool) {
	if !b.days[day.Weekday()] || b.holidays[day.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	y, m, d := day.Date()
	open = time.Date(y, m, d, b.open/60, b.open%60, 0, 0, b.loc)
	close = time.Date(y, m, d, b.close/60, b.close%60, 0, 0, b.loc)
	return open, close, open.Before(close)
}

// noon returns noon of the local date i days after t's local date; noon is never
// inside a DST gap, so its date is the intended one.
func (b businessHours) noon(t time.Time, i int) time.Time {
	y, m, d := t.In(b.loc).Date()
	return time.Date(y, m, d+i, 12, 0, 0, 0, b.loc)
}

// add walks working windows from start until d of working time has run. A
// deadline that uses up a window exactly lands on its close, not the next opening.
func (b businessHours) add(start time.Time, d time.Duration) (time.Time, bool) {
	remaining := d
	for i := 0; i < maxScanDays; i++ {
		open, close, ok := b.window(b.noon(start, i))
		if !ok {
			continue
		}
		from := open
		if start.After(from) {
			from = start
		}
		if !from.Before(close) {
			continue
		}
		if avail := close.Sub(from); remaining > avail {
			remaining -= avail
			continue
		}
		return from.Add(remaining), true
	}
	return time.Time{}, false
}

// nextOpen is the first working instant at or after t.
func (b businessHours) nextOpen(t time.Time) (time.Time, bool) {
	for i := 0; i < maxScanDays; i++ {
		open, close, ok := b.window(b.noon(t, i))
		if !ok || !t.Before(close) {
			continue
		}
		if t.After(open) {
			return t, true
		}
		return open, true
	}
	return time.Time{}, false
}

// elapsed sums the overlap of [from, to) with the working windows.
func (b businessHours) elapsed(from, to time.Time) time.Duration {
	var total time.Duration
	for i := 0; i < maxScanDays; i++ {
		day := b.noon(from, i)
		if open, close, ok := b.window(day); ok {
			lo, hi := open, close
			if from.After(lo) {
				lo = from
			}
			if to.Before(hi) {
				hi = to
			}
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
		y, m, d := day.Date()
		if !time.Date(y, m, d+1, 0, 0, 0, 0, b.loc).Before(to) {
			break
		}
	}
	return total
}

// describeDays writes Monday-first weekdays as ranges: "Mon-Fri", "Mon, Wed, Fri".
func describeDays(days []time.Weekday) string {
	short := func(d time.Weekday) string { return d.String()[:3] }
	pos := func(d time.Weekday) int { return (int(d) + 6) % 7 } // Monday = 0
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && pos(days[j+1]) == pos(days[j])+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, short(days[i])+"-"+short(days[j]))
		case j == i+1:
			parts = append(parts, short(days[i]), short(days[j]))
		default:
			parts = append(parts, short(days[i]))
		}
		i = j + 1
	}
	if len(parts) == 0 {
		return "no days"
	}
	return strings.Join(parts, ", ")
}

// formatInstant writes t for an explanation, in the calendar's zone (UTC for 24x7):
// "Fri 2026-11-20 15:00 CET", with seconds when they are not zero.
func (c Calendar) formatInstant(t time.Time) string {
	loc := time.UTC
	if b, ok := c.hours(); ok {
		loc = b.loc
	}
	t = t.In(loc)
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.Format("Mon 2006-01-02 15:04:05 MST")
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}

// Time zones come from tzdata/zoneinfo.zip, embedded in the binary, and never from
// the host. Deadlines are computed inside the workflow, so every worker that
// replays a case must see the same zone rules: time.LoadLocation reads $ZONEINFO
// and /usr/share/zoneinfo before any embedded copy (time/tzdata is only its last
// resort and cannot be read directly), so two workers with different host tzdata
// (or a tampered file) would compute different deadlines. No well-kept Go module
// that embeds the IANA database and exposes a loader is available to the project,
// so the repository keeps the database as data: the Go distribution's own
// $GOROOT/lib/time/zoneinfo.zip (built by Go's lib/time/update.bash from an IANA
// release, named in tzdata/VERSION), read with archive/zip and
// time.LoadLocationFromTZData. Updating it is a deliberate, reviewed change
// (`go generate` with a newer Go, then the replay tests), never a side effect of a
// host's package upgrade or of a Go upgrade.
//
//go:generate sh -c "cp \"$(go env GOROOT)/lib/time/zoneinfo.zip\" tzdata/zoneinfo.zip && sed -n 's/^DATA=//p' \"$(go env GOROOT)/lib/time/update.bash\" > tzdata/VERSION"

//go:embed tzdata/zoneinfo.zip
var zoneinfoZip []byte

//go:embed tzdata/VERSION
var tzdataVersion string

// TZDataVersion is the IANA release of the embedded time-zone database ("2025c").
func TZDataVersion() string { return strings.TrimSpace(tzdataVersion) }

// zoneDB indexes the embedded database once; zones caches loaded locations (a
// calendar's zone is looked up on every deadline computation).
var (
	zoneDB = sync.OnceValues(func() (map[string]*zip.File, error) {
		r, err := zip.NewReader(bytes.NewReader(zoneinfoZip), int64(len(zoneinfoZip)))
		if err != nil {
			return nil, fmt.Errorf("embedded time-zone database: %w", err)
		}
		files := make(map[string]*zip.File, len(r.File))
		for _, f := range r.File {
			files[f.Name] = f
		}
		return files, nil
	})
	zonesMu sync.Mutex
	zones   = map[string]*time.Location{"UTC": time.UTC}
)

// LoadZone returns the IANA zone name ("Europe/Paris", "UTC") from the embedded
// database only. Host-dependent names ("Local", "") are unknown. Use it, never
// time.LoadLocation, for anything a workflow computes.
func LoadZone(name string) (*time.Location, error) {
	zonesMu.Lock()
	defer zonesMu.Unlock()
	if loc, ok := zones[name]; ok {
		return loc, nil
	}
	files, err := zoneDB()
	if err != nil {
		return nil, err
	}
	f, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	zones[name] = loc
	return loc, nil
}
