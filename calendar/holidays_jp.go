package calendar

import (
	"sync"
	"time"

	"github.com/rickar/cal/v2/jp"
)

// Years the Japanese holiday table covers: the equinox formula of the holiday library holds
// from 1980 to 2099. Outside them no date is a public holiday.
const (
	firstHolidayYear = 1980
	lastHolidayYear  = 2099
)

var (
	jpOnce     sync.Once
	jpHolidays map[Date]bool
)

// IsJapaneseHoliday reports whether d is a holiday under the national holidays act
// (国民の祝日に関する法律): a national holiday (国民の祝日), a substitute holiday (振替休日)
// or a citizens' holiday (国民の休日).
//
// The dates of the national holidays come from github.com/rickar/cal/v2/jp, which follows the
// law's amendments and one-off moves (2019's enthronement, the 2020–2021 Olympic moves). The two
// derived rules of article 3 are applied here to those dates, so that they hold in every year
// rather than only where the library lists them:
//   - 3(2): a national holiday on a Sunday makes the nearest following day that is not a
//     national holiday a holiday;
//   - 3(3): a day that is not a national holiday, between two national holidays, is a holiday.
func IsJapaneseHoliday(d Date) bool {
	// The table is built once, single-threaded: the library's holiday functions write to their
	// shared definitions while they compute (the vernal equinox), so they must not run at once.
	jpOnce.Do(buildJapaneseHolidays)
	return jpHolidays[d]
}

func buildJapaneseHolidays() {
	national := map[Date]bool{}
	for y := firstHolidayYear; y <= lastHolidayYear; y++ {
		for _, h := range jp.Holidays {
			actual, _ := h.Calc(y)
			if !actual.IsZero() {
				national[Date{actual.Year(), actual.Month(), actual.Day()}] = true
			}
		}
	}
	out := make(map[Date]bool, len(national)*3/2)
	for d := range national {
		out[d] = true
		if d.Weekday() == time.Sunday { // 3(2)
			s := d.AddDays(1)
			for national[s] {
				s = s.AddDays(1)
			}
			out[s] = true
		}
		if n := d.AddDays(2); national[n] && !national[d.AddDays(1)] { // 3(3)
			out[d.AddDays(1)] = true
		}
	}
	jpHolidays = out
}
