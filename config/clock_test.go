package config_test

import (
	"encoding/json"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

func TestParseClockTime(t *testing.T) {
	good := map[string]int{"00:00": 0, "09:00": 540, "17:59": 1079, "23:59": 1439, "24:00": 1440}
	for s, want := range good {
		got, err := config.ParseClockTime(s)
		if err != nil || got.Minutes != want {
			t.Errorf("ParseClockTime(%q) = %v, %v; want %d minutes", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("ParseClockTime(%q).String() = %q", s, got.String())
		}
	}
	for _, s := range []string{"", "9:00", "09:0", "0900", "09-00", "24:01", "25:00", "12:60", "-1:00", "ab:cd", " 09:00", "09:00:00", "０９:００"} {
		if got, err := config.ParseClockTime(s); err == nil {
			t.Errorf("ParseClockTime(%q) = %v, want an error", s, got)
		}
	}
}

func TestClockTimeJSON(t *testing.T) {
	bh := config.BusinessHours{Start: config.ClockTime{Minutes: 9 * 60}, End: config.ClockTime{Minutes: 24 * 60}}
	b, err := json.Marshal(bh)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"Start":"09:00","End":"24:00"}` {
		t.Errorf("json = %s", b)
	}
	var back config.BusinessHours
	if err := json.Unmarshal(b, &back); err != nil || back != bh {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	var ct config.ClockTime
	for _, bad := range []string{`"25:00"`, `540`, `null`, `"9:00"`} {
		if err := json.Unmarshal([]byte(bad), &ct); err == nil && bad != `null` {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	if _, err := json.Marshal(config.ClockTime{Minutes: 2000}); err == nil {
		t.Error("Marshal of 2000 minutes accepted")
	}
}
