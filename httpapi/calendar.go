package httpapi

import (
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store"
)

// The calling calendar (J-8) as the API shows it: a campaign's calendar with its next open
// window, and whether a running job is paused outside its calling hours.

// windowJSON is an open window, in the campaign's zone.
type windowJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// weekHoursJSON are the open windows of each weekday, "HH:MM-HH:MM"; [] is closed.
type weekHoursJSON struct {
	Mon []string `json:"mon"`
	Tue []string `json:"tue"`
	Wed []string `json:"wed"`
	Thu []string `json:"thu"`
	Fri []string `json:"fri"`
	Sat []string `json:"sat"`
	Sun []string `json:"sun"`
}

type calendarJSON struct {
	Hours                  weekHoursJSON `json:"hours"`
	ClosedDates            []string      `json:"closed_dates"`
	ClosedOnPublicHolidays string        `json:"closed_on_public_holidays"`
}

func toCalendarJSON(c *calendar.Calendar) calendarJSON {
	day := func(wd time.Weekday) []string {
		out := []string{}
		for _, s := range c.Week(wd) {
			out = append(out, s.String())
		}
		return out
	}
	out := calendarJSON{Hours: weekHoursJSON{Mon: day(time.Monday), Tue: day(time.Tuesday), Wed: day(time.Wednesday),
		Thu: day(time.Thursday), Fri: day(time.Friday), Sat: day(time.Saturday), Sun: day(time.Sunday)},
		ClosedDates: []string{}, ClosedOnPublicHolidays: string(c.HolidaySet())}
	for _, d := range c.ClosedDates() {
		out.ClosedDates = append(out.ClosedDates, d.String())
	}
	return out
}

// campaignLocation is the campaign's zone (resolved by validation; loaded for one built in code).
func campaignLocation(c config.Campaign) *time.Location {
	if c.Location != nil {
		return c.Location
	}
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// openWindow says whether the campaign's calendar is open at now, and the window holding now or
// else the next one (nil when none opens within a year).
func openWindow(c config.Campaign, now time.Time) (bool, *windowJSON) {
	loc := campaignLocation(c)
	cal := c.CallCalendar()
	w, ok := cal.NextWindow(now, loc)
	if !ok {
		return false, nil
	}
	return cal.OpenAt(now, loc), &windowJSON{Start: w.Start.In(loc), End: w.End.In(loc)}
}

// callJobView is a call job as the API shows it: the stored job with its calling hours.
type callJobView struct {
	store.CallJob
	// PausedOutsideHours: the job runs but dials nothing now, outside the calendar's windows.
	PausedOutsideHours bool `json:"paused_outside_hours"`
	// NextOpenWindow: the window holding now, or else the next (null: none within a year, or the
	// campaign is no longer configured).
	NextOpenWindow *windowJSON `json:"next_open_window"`
}
