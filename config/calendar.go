package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
)

// CalendarSettings are a campaign's calling calendar (J-8), in the campaign's zone.
type CalendarSettings struct {
	// Hours are the open windows of each weekday (keys mon … sun), "HH:MM-HH:MM" within one day;
	// several a day are allowed, none may overlap. A weekday left out or given [] is closed.
	// Absent altogether: every day is open during business_hours (as before calendars).
	Hours map[string][]string `mapstructure:"hours"`
	// ClosedDates are the campaign's own closed days, "YYYY-MM-DD".
	ClosedDates []string `mapstructure:"closed_dates"`
	// ClosedOnPublicHolidays: "jp" closes on Japan's public holidays (substitute and citizens'
	// holidays included); "none" (default) does not.
	ClosedOnPublicHolidays string `mapstructure:"closed_on_public_holidays"`
}

// weekdayKeys are the keys of calendar.hours, in the order of time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// WeekdayKey is the calendar.hours key of a weekday ("mon").
func WeekdayKey(wd time.Weekday) string { return weekdayKeys[wd] }

// CallCalendar returns the campaign's calling calendar: the one validation resolved, or for a
// campaign built in code without one, business_hours every day.
func (c *Campaign) CallCalendar() *calendar.Calendar {
	if c.CallingCalendar != nil {
		return c.CallingCalendar
	}
	return calendar.Daily(c.BusinessHours.Start.Minutes, c.BusinessHours.End.Minutes)
}

// calendar checks calendar settings and resolves them into cp.CallingCalendar.
func (v *validator) calendar(path string, cp *Campaign, hoursOK bool) {
	if v.broken(path) {
		return
	}
	cs := cp.Calendar
	ok := true
	var r calendar.Rules
	switch cs.ClosedOnPublicHolidays {
	case "", string(calendar.HolidaysNone):
		r.Holidays = calendar.HolidaysNone
	case string(calendar.HolidaysJP):
		r.Holidays = calendar.HolidaysJP
	default:
		v.add(path+".closed_on_public_holidays", "must be %q or %q, got %q", calendar.HolidaysJP, calendar.HolidaysNone,
			cs.ClosedOnPublicHolidays)
		ok = false
	}
	for i, s := range cs.ClosedDates {
		d, err := calendar.ParseDate(s)
		if err != nil {
			v.add(fmt.Sprintf("%s.closed_dates[%d]", path, i), "%v", err)
			ok = false
			continue
		}
		r.Closed = append(r.Closed, d)
	}
	if cs.Hours == nil {
		if !hoursOK {
			return // business_hours is reported already
		}
		for wd := range r.Week {
			r.Week[wd] = []calendar.Span{{From: cp.BusinessHours.Start.Minutes, To: cp.BusinessHours.End.Minutes}}
		}
	} else if !v.weekHours(path+".hours", cs.Hours, &r) {
		ok = false
	}
	if !ok {
		return
	}
	c, err := calendar.New(r)
	if err != nil {
		v.add(path, "%v", err) // not reached: every rule New checks was checked above
		return
	}
	cp.CallingCalendar = c
}

// weekHours parses calendar.hours into r.Week, reporting each bad or overlapping window by its
// own path (campaigns[0].calendar.hours.mon[1]).
func (v *validator) weekHours(path string, hours map[string][]string, r *calendar.Rules) bool {
	ok := true
	keys := make([]string, 0, len(hours))
	for k := range hours {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		wd := slices.Index(weekdayKeys[:], k)
		if wd < 0 {
			v.add(path+"."+k, "unknown weekday: want one of mon, tue, wed, thu, fri, sat, sun")
			ok = false
			continue
		}
		type indexed struct {
			i int
			s calendar.Span
		}
		var day []indexed
		for i, s := range hours[k] {
			sp, err := calendar.ParseSpan(s)
			if err != nil {
				v.add(fmt.Sprintf("%s.%s[%d]", path, k, i), "%v", err)
				ok = false
				continue
			}
			day = append(day, indexed{i, sp})
		}
		slices.SortFunc(day, func(a, b indexed) int { return a.s.From - b.s.From })
		for j := 1; j < len(day); j++ {
			if day[j].s.From < day[j-1].s.To {
				later, earlier := day[j], day[j-1]
				if later.i < earlier.i {
					later, earlier = earlier, later
				}
				v.add(fmt.Sprintf("%s.%s[%d]", path, k, later.i), "window %s overlaps %s (%s[%d])", later.s, earlier.s,
					k, earlier.i)
				ok = false
			}
		}
		for _, d := range day {
			r.Week[wd] = append(r.Week[wd], d.s)
		}
	}
	return ok
}
