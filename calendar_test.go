package tierflow

import (
	"encoding/binary"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCalendarFor(t *testing.T) {
	p := testPolicy("Europe/Paris")
	assert.Equal(t, "business", p.CalendarFor(PriorityHigh).Name)
	assert.Equal(t, "Europe/Paris", p.CalendarFor(PriorityHigh).TimeZone)
	assert.True(t, p.CalendarFor(PriorityUrgent).AlwaysOpen)
	assert.Equal(t, "24x7", p.CalendarFor(PriorityUrgent).Name)
	assert.Equal(t, AlwaysOpenCalendar(), p.CalendarFor("critical"))
	p.Priorities[PriorityLow] = PriorityPolicy{Calendar: "missing"}
	assert.Equal(t, AlwaysOpenCalendar(), p.CalendarFor(PriorityLow))
}

// officeHours is Mon-Fri 09:00-17:00 in zone, with Christmas 2026 off.
func officeHours(zone string) Calendar {
	return Calendar{Name: "business", TimeZone: zone, Days: []string{"mon", "tue", "wed", "thu", "fri"},
		Open: "09:00", Close: "17:00", Holidays: []string{"2026-12-25"}}
}

// at parses a local time in zone ("2006-01-02 15:04").
func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := LoadZone(zone)
	require.NoError(t, err)
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s+":00", loc)
	if err != nil {
		v, err = time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	}
	require.NoError(t, err)
	return v
}

func TestCalendarAdd(t *testing.T) {
	nightShift := Calendar{TimeZone: "Europe/Paris", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
		Open: "01:00", Close: "05:00"}
	allDay := Calendar{TimeZone: "UTC", Days: []string{"sat", "sun"}, Open: "00:00", Close: "24:00"}
	tests := []struct {
		name  string
		cal   Calendar
		zone  string
		start string
		d     time.Duration
		want  string
	}{
		{"friday afternoon over the weekend", officeHours("UTC"), "UTC", "2026-11-20 16:00", 2 * time.Hour, "2026-11-23 10:00"},
		{"high priority acknowledge from Friday 15:00", officeHours("UTC"), "UTC", "2026-11-20 15:00", 4 * time.Hour, "2026-11-23 11:00"},
		{"within the day", officeHours("UTC"), "UTC", "2026-11-23 10:00", 3 * time.Hour, "2026-11-23 13:00"},
		{"lands exactly at close", officeHours("UTC"), "UTC", "2026-11-23 16:00", time.Hour, "2026-11-23 17:00"},
		{"a full day lands at close", officeHours("UTC"), "UTC", "2026-11-23 09:00", 8 * time.Hour, "2026-11-23 17:00"},
		{"one second past close rolls over", officeHours("UTC"), "UTC", "2026-11-23 16:00", time.Hour + time.Second, "2026-11-24 09:00:01"},
		{"start at close", officeHours("UTC"), "UTC", "2026-11-23 17:00", time.Hour, "2026-11-24 10:00"},
		{"start before opening", officeHours("UTC"), "UTC", "2026-11-23 07:00", 30 * time.Minute, "2026-11-23 09:30"},
		{"start in the night", officeHours("UTC"), "UTC", "2026-11-23 18:00", time.Hour, "2026-11-24 10:00"},
		{"start on Saturday", officeHours("UTC"), "UTC", "2026-11-21 10:00", time.Hour, "2026-11-23 10:00"},
		{"three working days", officeHours("UTC"), "UTC", "2026-11-23 09:00", 24 * time.Hour, "2026-11-25 17:00"},
		{"zero duration is due at once", officeHours("UTC"), "UTC", "2026-11-21 10:00", 0, "2026-11-21 10:00"},
		{"start on a holiday", officeHours("UTC"), "UTC", "2026-12-25 10:00", time.Hour, "2026-12-28 10:00"},
		{"over a holiday and a weekend", officeHours("UTC"), "UTC", "2026-12-24 16:00", 2 * time.Hour, "2026-12-28 10:00"},
		{"Paris office", officeHours("Europe/Paris"), "Europe/Paris", "2026-11-20 16:00", 2 * time.Hour, "2026-11-23 10:00"},
		{"Paris over the spring DST weekend", officeHours("Europe/Paris"), "Europe/Paris", "2026-03-27 16:00", 2 * time.Hour, "2026-03-30 10:00"},
		{"New York over the autumn DST weekend", officeHours("America/New_York"), "America/New_York", "2026-10-30 16:30", time.Hour, "2026-11-02 09:30"},
		{"Tokyo", officeHours("Asia/Tokyo"), "Asia/Tokyo", "2026-11-20 16:00", 90 * time.Minute, "2026-11-23 09:30"},
		{"spring-forward night is 3h long", nightShift, "Europe/Paris", "2026-03-29 01:00", 3 * time.Hour, "2026-03-29 05:00"},
		{"spring-forward night overflows", nightShift, "Europe/Paris", "2026-03-29 01:00", 4 * time.Hour, "2026-03-30 02:00"},
		{"fall-back night is 5h long", nightShift, "Europe/Paris", "2026-10-25 01:00", 5 * time.Hour, "2026-10-25 05:00"},
		{"24:00 close runs to midnight", allDay, "UTC", "2026-11-21 23:00", 2 * time.Hour, "2026-11-22 01:00"},
		{"24x7 is the wall clock", AlwaysOpenCalendar(), "UTC", "2026-11-21 23:00", 2 * time.Hour, "2026-11-22 01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.Add(at(t, tt.zone, tt.start), tt.d)
			want := at(t, tt.zone, tt.want)
			assert.True(t, want.Equal(got), "want %s, got %s", want, got.In(want.Location()))
		})
	}
}

func TestCalendarAddKeepsStartLocation(t *testing.T) {
	start := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	got := officeHours("Europe/Paris").Add(start, time.Hour)
	assert.Equal(t, time.UTC, got.Location())
	assert.Equal(t, time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC), got)
}

func TestCalendarElapsed(t *testing.T) {
	tests := []struct {
		name     string
		cal      Calendar
		zone     string
		from, to string
		want     time.Duration
	}{
		{"over the weekend", officeHours("UTC"), "UTC", "2026-11-20 16:00", "2026-11-23 10:00", 2 * time.Hour},
		{"night only", officeHours("UTC"), "UTC", "2026-11-23 17:00", "2026-11-24 09:00", 0},
		{"whole week", officeHours("UTC"), "UTC", "2026-11-23 00:00", "2026-11-30 00:00", 40 * time.Hour},
		{"week with Christmas", officeHours("UTC"), "UTC", "2026-12-21 00:00", "2026-12-28 00:00", 32 * time.Hour},
		{"inside one window", officeHours("UTC"), "UTC", "2026-11-23 10:15", "2026-11-23 11:00", 45 * time.Minute},
		{"reversed is zero", officeHours("UTC"), "UTC", "2026-11-23 11:00", "2026-11-23 10:00", 0},
		{"Paris over DST", officeHours("Europe/Paris"), "Europe/Paris", "2026-03-27 16:00", "2026-03-30 10:00", 2 * time.Hour},
		{"24x7", AlwaysOpenCalendar(), "UTC", "2026-11-20 16:00", "2026-11-23 10:00", 66 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.cal.Elapsed(at(t, tt.zone, tt.from), at(t, tt.zone, tt.to)))
		})
	}
}

// Elapsed undoes Add from any start, inside or outside working hours.
func TestCalendarElapsedInvertsAdd(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	cals := []Calendar{officeHours("UTC"), officeHours("Europe/Paris"), officeHours("America/New_York"), AlwaysOpenCalendar()}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 500; i++ {
		cal := cals[i%len(cals)]
		start := base.Add(time.Duration(rng.Int63n(int64(365 * Day))))
		d := time.Duration(rng.Int63n(int64(100 * time.Hour)))
		end := cal.Add(start, d)
		require.Equal(t, d, cal.Elapsed(start, end), "calendar %s from %s plus %s", cal.Describe(), start, d)
		require.False(t, end.Before(start))
	}
}

func TestCalendarNextOpen(t *testing.T) {
	cal := officeHours("UTC")
	tests := []struct{ from, want string }{
		{"2026-11-21 10:00", "2026-11-23 09:00"},
		{"2026-11-23 10:00", "2026-11-23 10:00"},
		{"2026-11-23 17:00", "2026-11-24 09:00"},
		{"2026-12-24 18:00", "2026-12-28 09:00"},
	}
	for _, tt := range tests {
		got := cal.NextOpen(at(t, "UTC", tt.from))
		assert.True(t, at(t, "UTC", tt.want).Equal(got), "from %s: got %s", tt.from, got)
	}
	now := at(t, "UTC", "2026-11-21 10:00")
	assert.Equal(t, now, AlwaysOpenCalendar().NextOpen(now))
}

func TestCalendarDescribe(t *testing.T) {
	tests := []struct {
		cal  Calendar
		want string
	}{
		{AlwaysOpenCalendar(), "24x7 wall-clock time"},
		{officeHours("Europe/Paris"), "business hours Mon-Fri 09:00-17:00 Europe/Paris (except 1 holiday)"},
		{Calendar{TimeZone: "UTC", Days: []string{"fri", "mon", "wed"}, Open: "08:00", Close: "12:00"},
			"business hours Mon, Wed, Fri 08:00-12:00 UTC"},
		{Calendar{TimeZone: "UTC", Days: []string{"sat", "sun", "mon", "tue"}, Open: "08:00", Close: "12:00",
			Holidays: []string{"2026-01-01", "2026-12-25"}},
			"business hours Mon, Tue, Sat, Sun 08:00-12:00 UTC (except 2 holidays)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.cal.Describe())
	}
}

// A calendar that does not parse (rejected by Policy.Validate) runs on the wall
// clock rather than never.
func TestInvalidCalendarRunsOnWallClock(t *testing.T) {
	cal := Calendar{TimeZone: "Mars/Olympus", Days: []string{"mon"}, Open: "09:00", Close: "17:00"}
	start := at(t, "UTC", "2026-11-21 10:00")
	assert.Equal(t, start.Add(time.Hour), cal.Add(start, time.Hour))
	assert.Equal(t, time.Hour, cal.Elapsed(start, start.Add(time.Hour)))
}

// fixedZoneTZif is a minimal TZif (version 1) file for a zone that keeps utcOffset
// forever: what an outdated or tampered host zone file looks like to time.
func fixedZoneTZif(abbrev string, utcOffset int) []byte {
	var b []byte
	b = append(b, "TZif"...)
	b = append(b, 0)                   // version 1
	b = append(b, make([]byte, 15)...) // reserved
	// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	for _, n := range []uint32{0, 0, 0, 0, 1, uint32(len(abbrev) + 1)} {
		b = binary.BigEndian.AppendUint32(b, n)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(int32(utcOffset))) // ttinfo: utoff
	b = append(b, 0, 0)                                            // isdst, desigidx
	b = append(b, abbrev...)
	return append(b, 0)
}

// zoneRules checks deadlines in zones whose rules differ from what a stale or
// tampered zone database says: Europe/Paris (CET, not UTC+9), Asia/Almaty (UTC+6
// until 2024-03-01, UTC+5 since: tzdata 2024a) and America/Asuncion (permanent
// UTC-3 since 2024-10-15: tzdata 2025a).
func zoneRules(t *testing.T) {
	t.Helper()
	hours := func(zone string) Calendar {
		return Calendar{Name: "business", TimeZone: zone, Days: []string{"mon", "tue", "wed", "thu", "fri"},
			Open: "09:00", Close: "17:00"}
	}
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		require.NoError(t, err)
		return v
	}
	// Mon 2026-11-23 07:00 UTC is 08:00 CET: one working hour ends at 10:00 CET.
	assert.Equal(t, utc("2026-11-23 09:00"), hours("Europe/Paris").Add(utc("2026-11-23 07:00"), time.Hour).UTC(),
		"Europe/Paris")
	// Thu 2024-02-29 16:00 +06: one hour on Thursday, the second from Friday 09:00 +05.
	assert.Equal(t, utc("2024-03-01 05:00"), hours("Asia/Almaty").Add(utc("2024-02-29 10:00"), 2*time.Hour).UTC(),
		"Asia/Almaty across its change to UTC+5")
	// Tue 2025-07-01 08:00 UTC is 05:00 -03 (it was -04 in winter before 2024).
	assert.Equal(t, utc("2025-07-01 13:00"), hours("America/Asuncion").Add(utc("2025-07-01 08:00"), time.Hour).UTC(),
		"America/Asuncion on permanent UTC-3")

	for _, c := range []struct {
		zone   string
		at     string
		offset int
	}{
		{"Europe/Paris", "2026-11-23 12:00", 3600},
		{"Europe/Paris", "2026-07-01 12:00", 7200},
		{"Asia/Almaty", "2024-02-29 12:00", 6 * 3600},
		{"Asia/Almaty", "2024-03-01 12:00", 5 * 3600},
		{"America/Asuncion", "2024-07-01 12:00", -4 * 3600},
		{"America/Asuncion", "2025-07-01 12:00", -3 * 3600},
	} {
		loc, err := LoadZone(c.zone)
		require.NoError(t, err, c.zone)
		_, offset := utc(c.at).In(loc).Zone()
		assert.Equal(t, c.offset, offset, "%s at %s UTC", c.zone, c.at)
	}
}

func TestCalendarZoneRules(t *testing.T) { zoneRules(t) }

// zoneinfoChildEnv marks the re-executed test binary of TestCalendarIgnoresHostZoneinfo.
const zoneinfoChildEnv = "TIERFLOW_TEST_ZONEINFO_CHILD"

// Two workers with different zone databases must compute the same deadlines, or a
// replay diverges: calendars read only the embedded database, never $ZONEINFO or
// the host's /usr/share/zoneinfo. The time package reads $ZONEINFO once per
// process, so the check runs in a fresh test binary.
func TestCalendarIgnoresHostZoneinfo(t *testing.T) {
	if os.Getenv(zoneinfoChildEnv) != "" {
		// The host database is poisoned: the time package itself believes it.
		loc, err := time.LoadLocation("Europe/Paris")
		require.NoError(t, err)
		_, offset := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).In(loc).Zone()
		require.Equal(t, 9*3600, offset, "the test's bogus Europe/Paris is in use")
		zoneRules(t)
		return
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"Europe/Paris":     fixedZoneTZif("XST", 9*3600), // a tampered file
		"Asia/Almaty":      fixedZoneTZif("+06", 6*3600), // before tzdata 2024a
		"America/Asuncion": fixedZoneTZif("-04", -4*3600),
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCalendarIgnoresHostZoneinfo$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), zoneinfoChildEnv+"=1", "ZONEINFO="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "deadlines changed with the host's zone files:\n%s", out)
}

func TestLoadZone(t *testing.T) {
	paris, err := LoadZone("Europe/Paris")
	require.NoError(t, err)
	again, err := LoadZone("Europe/Paris")
	require.NoError(t, err)
	assert.Same(t, paris, again, "loaded once")
	utc, err := LoadZone("UTC")
	require.NoError(t, err)
	assert.Same(t, time.UTC, utc)
	for _, name := range []string{"", "Local", "Mars/Olympus", "../etc/passwd", "/usr/share/zoneinfo/UTC"} {
		_, err := LoadZone(name)
		assert.Error(t, err, "%q", name)
	}
	assert.Regexp(t, `^20[0-9]{2}[a-z]$`, TZDataVersion())
}
