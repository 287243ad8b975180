package tierflow

import (
	"math/rand"
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
	loc, err := time.LoadLocation(zone)
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
