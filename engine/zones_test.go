package engine

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
)

// J-8: the claim is told a contact's zone is open when the campaign's calendar is open on that
// zone's wall clock; a name that is no zone never is.
func TestOpenZone(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	camp := &config.Campaign{TimeZone: "Asia/Tokyo", Location: tokyo,
		BusinessHours: config.BusinessHours{Start: config.ClockTime{Minutes: 9 * 60}, End: config.ClockTime{Minutes: 18 * 60}}}
	e := New(Options{})
	// 10:00 in Tokyo is 01:00 in London and 20:00 the day before in New York; 17:00 in Tokyo is
	// 09:00 in Paris (winter).
	for _, c := range []struct {
		now  time.Time
		zone string
		want bool
	}{
		{time.Date(2026, 12, 7, 10, 0, 0, 0, tokyo), "Asia/Tokyo", true},
		{time.Date(2026, 12, 7, 10, 0, 0, 0, tokyo), "Europe/London", false},
		{time.Date(2026, 12, 7, 10, 0, 0, 0, tokyo), "America/New_York", false},
		{time.Date(2026, 12, 7, 17, 0, 0, 0, tokyo), "Europe/Paris", true},
		{time.Date(2026, 12, 7, 10, 0, 0, 0, tokyo), "Mars/Olympus", false},
		{time.Date(2026, 12, 7, 10, 0, 0, 0, tokyo), "Local", false},
	} {
		if got := e.openZone(camp, c.now)(c.zone); got != c.want {
			t.Errorf("%s in %s: open %v, want %v", c.now, c.zone, got, c.want)
		}
	}
}
