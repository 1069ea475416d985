package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/config"
)

const calendarYAML = `    calendar:
      hours:
        mon: ["09:00-12:00", "13:00-18:00"]
        tue: ["09:00-18:00"]
        sat: []
      closed_dates: ["2026-12-31"]
      closed_on_public_holidays: jp
    caller_ids: ["0312345678"]`

// J-8: calendar settings resolve into the campaign's calendar.
func TestCalendarResolved(t *testing.T) {
	cfg := mustLoad(t, edit(t, `    caller_ids: ["0312345678"]`, calendarYAML))
	c := cfg.Campaigns[0].CallCalendar()
	tokyo := cfg.Campaigns[0].Location
	if got := c.Week(time.Monday); len(got) != 2 || got[1].String() != "13:00-18:00" {
		t.Errorf("monday windows %v", got)
	}
	for d, want := range map[string]string{
		"2026-12-31": calendar.ClosedDate, "2027-01-01": calendar.PublicHoliday, // a Friday: no hours anyway
		"2026-12-12": calendar.NoHours, "2026-12-13": calendar.NoHours, "2026-12-09": calendar.NoHours, // sat, sun, wed left out
		"2026-12-07": "",
	} {
		dd, _ := calendar.ParseDate(d)
		if got := c.ClosedReason(dd); got != want {
			t.Errorf("%s: closed reason %q, want %q", d, got, want)
		}
	}
	if c.OpenAt(time.Date(2026, 12, 7, 12, 30, 0, 0, tokyo), tokyo) {
		t.Error("open at lunch")
	}
	// Without calendar.hours every day uses business_hours and no holiday closes (the default).
	c2 := cfg.Campaigns[1].CallCalendar()
	if c2.HolidaySet() != calendar.HolidaysNone {
		t.Errorf("default holiday set %q", c2.HolidaySet())
	}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if got := c2.Week(wd); len(got) != 1 || got[0].String() != "10:00-17:00" {
			t.Errorf("%s: windows %v, want business_hours", wd, got)
		}
	}
	if !c2.OpenAt(time.Date(2027, 1, 1, 10, 0, 0, 0, tokyo), tokyo) {
		t.Error("New Year closed without closed_on_public_holidays")
	}
}

func TestCalendarProblems(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"overlapping windows", `mon: ["09:00-12:00", "13:00-18:00"]`, `mon: ["09:00-12:00", "11:00-18:00"]`,
			[]string{"campaigns[0].calendar.hours.mon[1]"}},
		{"overlap reported at the later entry, in any order", `mon: ["09:00-12:00", "13:00-18:00"]`, `mon: ["11:00-18:00", "09:00-12:00"]`,
			[]string{"campaigns[0].calendar.hours.mon[1]"}},
		{"a window across midnight", `tue: ["09:00-18:00"]`, `tue: ["22:00-02:00"]`,
			[]string{"campaigns[0].calendar.hours.tue[0]"}},
		{"a bad window", `tue: ["09:00-18:00"]`, `tue: ["9-18", "09:00-25:00"]`,
			[]string{"campaigns[0].calendar.hours.tue[0]", "campaigns[0].calendar.hours.tue[1]"}},
		{"an unknown weekday", `sat: []`, `saturday: []`, []string{"campaigns[0].calendar.hours.saturday"}},
		{"a bad date", `["2026-12-31"]`, `["2026-12-31", "2026-02-30"]`, []string{"campaigns[0].calendar.closed_dates[1]"}},
		{"an unknown holiday set", `closed_on_public_holidays: jp`, `closed_on_public_holidays: us`,
			[]string{"campaigns[0].calendar.closed_on_public_holidays"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := strings.Replace(edit(t, `    caller_ids: ["0312345678"]`, calendarYAML), tc.old, tc.new, 1)
			_, err := config.Load(writeFile(t, yaml))
			assertPaths(t, validationError(t, err), tc.want...)
		})
	}
}

// A configuration built in code without a calendar uses business_hours every day.
func TestCalendarOfCampaignBuiltInCode(t *testing.T) {
	cp := config.Campaign{BusinessHours: config.BusinessHours{Start: config.ClockTime{Minutes: 540}, End: config.ClockTime{Minutes: 1080}}}
	if !cp.CallCalendar().OpenAt(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), time.UTC) {
		t.Error("closed during business hours")
	}
}
