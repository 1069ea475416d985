package calendar_test

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func spans(t *testing.T, ss ...string) []calendar.Span {
	t.Helper()
	var out []calendar.Span
	for _, s := range ss {
		sp, err := calendar.ParseSpan(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sp)
	}
	return out
}

func date(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every public holiday of Japan in 2026 and 2027 (Cabinet Office list), substitute and
// citizens' holidays included, and no other day.
func TestJapaneseHolidays2026And2027(t *testing.T) {
	want := map[string]string{
		"2026-01-01": "New Year", "2026-01-12": "Coming of Age", "2026-02-11": "Foundation",
		"2026-02-23": "Emperor", "2026-03-20": "Vernal Equinox", "2026-04-29": "Showa",
		"2026-05-03": "Constitution (Sunday)", "2026-05-04": "Greenery", "2026-05-05": "Children",
		"2026-05-06": "substitute for May 3", "2026-07-20": "Marine", "2026-08-11": "Mountain",
		"2026-09-21": "Aged", "2026-09-22": "citizens' holiday", "2026-09-23": "Autumnal Equinox",
		"2026-10-12": "Sports", "2026-11-03": "Culture", "2026-11-23": "Labour Thanksgiving",
		"2027-01-01": "New Year", "2027-01-11": "Coming of Age", "2027-02-11": "Foundation",
		"2027-02-23": "Emperor", "2027-03-21": "Vernal Equinox (Sunday)", "2027-03-22": "substitute for Mar 21",
		"2027-04-29": "Showa", "2027-05-03": "Constitution", "2027-05-04": "Greenery", "2027-05-05": "Children",
		"2027-07-19": "Marine", "2027-08-11": "Mountain", "2027-09-20": "Aged", "2027-09-23": "Autumnal Equinox",
		"2027-10-11": "Sports", "2027-11-03": "Culture", "2027-11-23": "Labour Thanksgiving",
	}
	got := 0
	for d := date(t, "2026-01-01"); d.Year <= 2027; d = d.AddDays(1) {
		name, ok := want[d.String()]
		if calendar.IsJapaneseHoliday(d) != ok {
			t.Errorf("%s (%s): holiday = %v, want %v %s", d, d.Weekday(), !ok, ok, name)
		}
		if ok {
			got++
		}
	}
	if got != len(want) {
		t.Errorf("walked %d holidays, want %d", got, len(want))
	}
}

// The derived rules hold outside the years the library lists them, and the one-off days too.
func TestJapaneseHolidaysOtherYears(t *testing.T) {
	for _, c := range []struct {
		date string
		want bool
	}{
		{"2019-04-30", true}, {"2019-05-01", true}, {"2019-05-02", true}, {"2019-10-22", true}, // enthronement
		{"2020-07-24", true}, {"2021-07-23", true}, {"2021-08-09", true}, // Olympic moves, substitute
		{"2021-10-11", false}, // Sports Day moved to July that year
		{"2037-09-22", true},  // citizens' holiday between Aged (21st) and Equinox (23rd)
		{"2025-05-06", true},  // substitute: Greenery Day 2025-05-04 is a Sunday, the 5th a holiday
		{"2024-02-12", true},  // substitute for Foundation Day on a Sunday
		{"2026-12-31", false},
	} {
		if got := calendar.IsJapaneseHoliday(date(t, c.date)); got != c.want {
			t.Errorf("%s: holiday = %v, want %v", c.date, got, c.want)
		}
	}
}

func lunchCalendar(t *testing.T, holidays calendar.Holidays) *calendar.Calendar {
	t.Helper()
	var r calendar.Rules
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Week[wd] = spans(t, "13:00-18:00", "09:00-12:00") // any order
	}
	r.Week[time.Saturday] = spans(t, "10:00-15:00")
	r.Closed = []calendar.Date{date(t, "2026-12-31")}
	r.Holidays = holidays
	c, err := calendar.New(r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOpenAtAndNextWindow(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	c := lunchCalendar(t, calendar.HolidaysJP)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		now                string
		open               bool
		nextStart, nextEnd string
	}{
		{"2026-12-07 08:59", false, "2026-12-07 09:00", "2026-12-07 12:00"}, // Monday morning
		{"2026-12-07 09:00", true, "2026-12-07 09:00", "2026-12-07 12:00"},
		{"2026-12-07 11:59", true, "2026-12-07 09:00", "2026-12-07 12:00"},
		{"2026-12-07 12:00", false, "2026-12-07 13:00", "2026-12-07 18:00"}, // lunch
		{"2026-12-07 18:00", false, "2026-12-08 09:00", "2026-12-08 12:00"},
		{"2026-12-12 10:00", true, "2026-12-12 10:00", "2026-12-12 15:00"},  // Saturday
		{"2026-12-12 16:00", false, "2026-12-14 09:00", "2026-12-14 12:00"}, // Sunday has no hours
		{"2026-12-30 18:30", false, "2027-01-02 10:00", "2027-01-02 15:00"}, // 31st closed, 1st holiday, 2nd a Saturday
		{"2026-09-18 18:00", false, "2026-09-19 10:00", "2026-09-19 15:00"}, // silver week: Sat open
		{"2026-09-19 15:00", false, "2026-09-24 09:00", "2026-09-24 12:00"}, // 21-23 holidays
	} {
		now := at(tc.now)
		if got := c.OpenAt(now, tokyo); got != tc.open {
			t.Errorf("%s: open = %v, want %v", tc.now, got, tc.open)
		}
		w, ok := c.NextWindow(now, tokyo)
		if !ok || !w.Start.Equal(at(tc.nextStart)) || !w.End.Equal(at(tc.nextEnd)) {
			t.Errorf("%s: next window %v–%v (%v), want %s–%s", tc.now, w.Start, w.End, ok, tc.nextStart, tc.nextEnd)
		}
	}
}

func TestClosedReasonAndDayBounds(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	c := lunchCalendar(t, calendar.HolidaysJP)
	for d, want := range map[string]string{
		"2026-12-31": calendar.ClosedDate, "2027-01-01": calendar.PublicHoliday,
		"2026-12-13": calendar.NoHours, "2026-12-07": "",
	} {
		if got := c.ClosedReason(date(t, d)); got != want {
			t.Errorf("%s: closed reason %q, want %q", d, got, want)
		}
	}
	noHolidays := lunchCalendar(t, calendar.HolidaysNone)
	if r := noHolidays.ClosedReason(date(t, "2027-01-01")); r != "" {
		t.Errorf("without holidays, New Year is closed: %q", r)
	}
	start, end, closed := c.DayBounds(time.Date(2026, 12, 7, 3, 0, 0, 0, tokyo), tokyo)
	if closed != "" || start.Hour() != 9 || end.Hour() != 18 {
		t.Errorf("day bounds %v–%v (%q), want 09:00–18:00", start, end, closed)
	}
}

// A zone with daylight saving time keeps its wall-clock hours across the changes: New York on
// 2026-03-08 (02:00 -> 03:00) and 2026-11-01 (02:00 -> 01:00).
func TestDaylightSavingTime(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	var r calendar.Rules
	for wd := range r.Week {
		r.Week[wd] = spans(t, "01:30-03:30", "09:00-17:00")
	}
	c, err := calendar.New(r)
	if err != nil {
		t.Fatal(err)
	}
	// Spring forward: 08:59 EDT is 12:59 UTC; 09:00 EDT is 13:00 UTC (EST would be 14:00 UTC).
	if c.OpenAt(time.Date(2026, 3, 8, 12, 59, 0, 0, time.UTC), ny) || !c.OpenAt(time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC), ny) {
		t.Error("spring forward: 09:00 EDT is not the opening")
	}
	w, ok := c.NextWindow(time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC), ny) // 06:00 EDT
	if !ok || !w.Start.Equal(time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC)) || !w.End.Equal(time.Date(2026, 3, 8, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("spring forward: next window %v–%v", w.Start.UTC(), w.End.UTC())
	}
	// The night window on the change day lasts one hour less on the clock (02:00-03:00 is skipped).
	w, ok = c.NextWindow(time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC), ny) // 00:00 EST
	if !ok || w.End.Sub(w.Start) != time.Hour {
		t.Errorf("spring forward night window lasts %v, want 1h", w.End.Sub(w.Start))
	}
	// Fall back: 17:00 EST is 22:00 UTC; 21:30 UTC (16:30 EST) is open, 22:00 UTC is closed.
	if !c.OpenAt(time.Date(2026, 11, 1, 21, 30, 0, 0, time.UTC), ny) || c.OpenAt(time.Date(2026, 11, 1, 22, 0, 0, 0, time.UTC), ny) {
		t.Error("fall back: 17:00 EST is not the closing")
	}
	// 01:30-03:30 on the fall-back day: both 01:30s are inside (open for three hours).
	if !c.OpenAt(time.Date(2026, 11, 1, 5, 45, 0, 0, time.UTC), ny) || !c.OpenAt(time.Date(2026, 11, 1, 6, 45, 0, 0, time.UTC), ny) {
		t.Error("fall back: the repeated 01:45 is not open both times")
	}
}

func TestRulesRefused(t *testing.T) {
	for _, s := range []string{"09:00", "18:00-09:00", "09:00-09:00", "22:00-02:00", "9:00-12:00", "09:00-24:01", "09:60-10:00"} {
		if _, err := calendar.ParseSpan(s); err == nil {
			t.Errorf("ParseSpan(%q) accepted", s)
		}
	}
	for _, s := range []string{"2026-02-30", "2026/12/31", "26-12-31", ""} {
		if _, err := calendar.ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
	var r calendar.Rules
	r.Week[time.Monday] = spans(t, "09:00-12:00", "11:00-13:00")
	if _, err := calendar.New(r); err == nil {
		t.Error("overlapping windows accepted")
	}
	r.Week[time.Monday] = spans(t, "09:00-12:00", "12:00-13:00") // touching is fine
	if _, err := calendar.New(r); err != nil {
		t.Error(err)
	}
	r.Holidays = "us"
	if _, err := calendar.New(r); err == nil {
		t.Error("unknown holiday set accepted")
	}
}

func TestNoWindowAtAll(t *testing.T) {
	c, err := calendar.New(calendar.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.NextWindow(time.Now(), time.UTC); ok {
		t.Error("a calendar without hours has a next window")
	}
}
