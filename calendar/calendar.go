// Package calendar says when a campaign may call: open windows per weekday, dates the campaign
// closes, and optionally the public holidays of Japan. It is pure: every question is asked for
// an instant and evaluated in a *time.Location the caller gives, so one calendar serves the
// campaign's zone and each customer's own zone alike.
//
// Windows are wall-clock times of one day: a window never crosses midnight (a floor that calls
// past midnight writes "20:00-24:00" on one day and "00:00-02:00" on the next). Being open is
// decided on the wall clock of the zone, so a zone with daylight saving time keeps its local
// hours on the days the clocks change.
package calendar

import (
	"fmt"
	"slices"
	"time"
)

// Span is a window of one day in minutes after local midnight: From < To <= 1440.
type Span struct {
	From, To int
}

// ParseSpan reads "HH:MM-HH:MM" ("24:00" is the end of the day).
func ParseSpan(s string) (Span, error) {
	bad := fmt.Errorf("invalid window %q: want \"HH:MM-HH:MM\" within one day, e.g. \"09:00-12:00\"", s)
	if len(s) != 11 || s[5] != '-' {
		return Span{}, bad
	}
	from, ok1 := parseClock(s[:5])
	to, ok2 := parseClock(s[6:])
	if !ok1 || !ok2 {
		return Span{}, bad
	}
	if to <= from {
		return Span{}, fmt.Errorf("invalid window %q: the end must be after the start (a window never crosses midnight)", s)
	}
	return Span{From: from, To: to}, nil
}

func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// String formats the span as "HH:MM-HH:MM".
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)
}

// Date is a civil date, without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "YYYY-MM-DD" and refuses dates that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want an existing date \"YYYY-MM-DD\"", s)
	}
	return DateOf(t, time.UTC), nil
}

// DateOf is the date of t on the wall clock of loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// AddDays is the date n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// Weekday is the date's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d comes before o.
func (d Date) Before(o Date) bool {
	return d.Year < o.Year || d.Year == o.Year && (d.Month < o.Month || d.Month == o.Month && d.Day < o.Day)
}

// String formats the date as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Holidays names a set of public holidays a calendar may close on.
type Holidays string

// The holiday sets.
const (
	HolidaysNone Holidays = "none"
	HolidaysJP   Holidays = "jp" // national holidays of Japan, substitute and citizens' holidays included
)

// Why a date is closed.
const (
	ClosedDate    = "closed_date"    // on the campaign's own list
	PublicHoliday = "public_holiday" // a public holiday of the calendar's set
	NoHours       = "no_hours"       // the weekday has no window
)

// Rules describe a calendar.
type Rules struct {
	Week     [7][]Span // indexed by time.Weekday; each day's windows may not overlap
	Closed   []Date
	Holidays Holidays // "" is HolidaysNone
}

// Calendar is a campaign's calling calendar; immutable once built, safe for concurrent use.
type Calendar struct {
	week     [7][]Span
	closed   map[Date]bool
	holidays Holidays
}

// New checks the rules and builds the calendar: windows are sorted, overlapping windows and an
// unknown holiday set are refused. Windows that touch (12:00-13:00, 13:00-18:00) are allowed
// and act as one.
func New(r Rules) (*Calendar, error) {
	c := &Calendar{closed: map[Date]bool{}, holidays: r.Holidays}
	switch r.Holidays {
	case "":
		c.holidays = HolidaysNone
	case HolidaysNone, HolidaysJP:
	default:
		return nil, fmt.Errorf("unknown holiday set %q: want %q or %q", r.Holidays, HolidaysNone, HolidaysJP)
	}
	for wd, spans := range r.Week {
		day := slices.Clone(spans)
		slices.SortFunc(day, func(a, b Span) int { return a.From - b.From })
		for i, s := range day {
			if s.From < 0 || s.To > 24*60 || s.To <= s.From {
				return nil, fmt.Errorf("%s: invalid window %s", time.Weekday(wd), s)
			}
			if i > 0 && s.From < day[i-1].To {
				return nil, &OverlapError{Weekday: time.Weekday(wd), A: day[i-1], B: s}
			}
		}
		c.week[wd] = day
	}
	for _, d := range r.Closed {
		c.closed[d] = true
	}
	return c, nil
}

// OverlapError tells which two windows of a weekday overlap.
type OverlapError struct {
	Weekday time.Weekday
	A, B    Span
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("%s: windows %s and %s overlap", e.Weekday, e.A, e.B)
}

// Daily is a calendar open in the same window every day, closed on no date: business_hours.
func Daily(from, to int) *Calendar {
	var r Rules
	for wd := range r.Week {
		r.Week[wd] = []Span{{From: from, To: to}}
	}
	c, err := New(r)
	if err != nil {
		return &Calendar{closed: map[Date]bool{}, holidays: HolidaysNone} // never open
	}
	return c
}

// Week returns the windows of a weekday (a copy).
func (c *Calendar) Week(wd time.Weekday) []Span { return slices.Clone(c.week[wd]) }

// ClosedDates returns the campaign's own closed dates, sorted.
func (c *Calendar) ClosedDates() []Date {
	out := make([]Date, 0, len(c.closed))
	for d := range c.closed {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Date) int {
		if a.Before(b) {
			return -1
		}
		if b.Before(a) {
			return 1
		}
		return 0
	})
	return out
}

// HolidaySet is the calendar's set of public holidays.
func (c *Calendar) HolidaySet() Holidays { return c.holidays }

// ClosedReason says why the date is closed (ClosedDate, PublicHoliday, NoHours), or "" when it
// has windows.
func (c *Calendar) ClosedReason(d Date) string {
	switch {
	case c.closed[d]:
		return ClosedDate
	case c.holidays == HolidaysJP && IsJapaneseHoliday(d):
		return PublicHoliday
	case len(c.week[d.Weekday()]) == 0:
		return NoHours
	}
	return ""
}

// Window is an open window as instants: [Start, End).
type Window struct {
	Start, End time.Time
}

// Windows are the open windows of a date in loc (none when the date is closed). On a day the
// clocks change, a window edge in the skipped hour is placed where Go's time.Date puts it.
func (c *Calendar) Windows(d Date, loc *time.Location) []Window {
	if c.ClosedReason(d) != "" {
		return nil
	}
	spans := c.week[d.Weekday()]
	out := make([]Window, 0, len(spans))
	for _, s := range spans {
		out = append(out, Window{Start: at(d, s.From, loc), End: at(d, s.To, loc)})
	}
	return out
}

func at(d Date, minute int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, minute/60, minute%60, 0, 0, loc)
}

// span returns the index of the window of t's date that holds t's wall-clock time, or -1.
func (c *Calendar) span(t time.Time, loc *time.Location) (Date, int) {
	l := t.In(loc)
	d := Date{l.Year(), l.Month(), l.Day()}
	if c.ClosedReason(d) != "" {
		return d, -1
	}
	m := l.Hour()*60 + l.Minute()
	for i, s := range c.week[d.Weekday()] {
		if m >= s.From && m < s.To {
			return d, i
		}
	}
	return d, -1
}

// OpenAt reports whether t falls in an open window, on the wall clock of loc.
func (c *Calendar) OpenAt(t time.Time, loc *time.Location) bool {
	_, i := c.span(t, loc)
	return i >= 0
}

// WindowAt returns the open window holding t, or false.
func (c *Calendar) WindowAt(t time.Time, loc *time.Location) (Window, bool) {
	d, i := c.span(t, loc)
	if i < 0 {
		return Window{}, false
	}
	s := c.week[d.Weekday()][i]
	return Window{Start: at(d, s.From, loc), End: at(d, s.To, loc)}, true
}

// horizon bounds the search for the next window: a calendar closed that long has none.
const horizon = 400

// NextWindow returns the window holding after, or else the first window starting after it;
// false when none starts within about a year (every day closed).
func (c *Calendar) NextWindow(after time.Time, loc *time.Location) (Window, bool) {
	if w, ok := c.WindowAt(after, loc); ok {
		return w, true
	}
	day := DateOf(after, loc)
	for i := range horizon {
		for _, w := range c.Windows(day.AddDays(i), loc) {
			if w.Start.After(after) {
				return w, true
			}
		}
	}
	return Window{}, false
}

// DayBounds returns the start of the first window and the end of the last window of t's date in
// loc (business start and end of that day); false when the date is closed, with its reason.
func (c *Calendar) DayBounds(t time.Time, loc *time.Location) (start, end time.Time, closed string) {
	d := DateOf(t, loc)
	if r := c.ClosedReason(d); r != "" {
		return time.Time{}, time.Time{}, r
	}
	ws := c.Windows(d, loc)
	return ws[0].Start, ws[len(ws)-1].End, ""
}
