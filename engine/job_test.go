package engine

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
)

// J-6: a job stops at the business end of the day it started, even when no instance ran it
// through that end (it never dials into the next business day by itself).
func TestPastBusinessEnd(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	camp := &config.Campaign{TimeZone: "Asia/Tokyo", Location: tokyo,
		BusinessHours: config.BusinessHours{Start: config.ClockTime{Minutes: 9 * 60}, End: config.ClockTime{Minutes: 18 * 60}}}
	e := New(Options{})
	started := time.Date(2026, 11, 30, 10, 0, 0, 0, tokyo)
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 11, 30, 17, 59, 59, 0, tokyo), false},
		{time.Date(2026, 11, 30, 18, 0, 0, 0, tokyo), true},
		{time.Date(2026, 12, 1, 9, 30, 0, 0, tokyo), true},     // the next morning: yesterday's end has passed
		{time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC), false}, // 12:00 the same day in Tokyo
	} {
		if got := e.pastBusinessEnd(camp, &started, c.now); got != c.want {
			t.Errorf("%s: %v, want %v", c.now, got, c.want)
		}
	}
}
