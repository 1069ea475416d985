package config

import (
	"encoding/json"
	"fmt"
)

// minutesPerDay is 24:00, the largest ClockTime (end of day).
const minutesPerDay = 24 * 60

// ParseClockTime parses "HH:MM" (exactly two digits each) between "00:00" and "24:00".
// "24:00" means the end of the day and is only useful as a business-hours end.
func ParseClockTime(s string) (ClockTime, error) {
	bad := func() (ClockTime, error) {
		return ClockTime{}, fmt.Errorf("invalid time %q: want \"HH:MM\" between 00:00 and 24:00", s)
	}
	if len(s) != 5 || s[2] != ':' {
		return bad()
	}
	digits := [4]byte{s[0], s[1], s[3], s[4]}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return bad()
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return bad()
	}
	return ClockTime{Minutes: h*60 + m}, nil
}

// String formats the time as "HH:MM" ("24:00" for the end of the day).
func (t ClockTime) String() string {
	return fmt.Sprintf("%02d:%02d", t.Minutes/60, t.Minutes%60)
}

// Valid reports whether t is within 00:00–24:00.
func (t ClockTime) Valid() bool {
	return t.Minutes >= 0 && t.Minutes <= minutesPerDay
}

// MarshalJSON writes the time as the JSON string "HH:MM".
func (t ClockTime) MarshalJSON() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("config: clock time of %d minutes is outside 00:00–24:00", t.Minutes)
	}
	return json.Marshal(t.String())
}

// UnmarshalJSON reads the JSON string "HH:MM".
func (t *ClockTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("config: clock time must be a JSON string \"HH:MM\": %w", err)
	}
	parsed, err := ParseClockTime(s)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}
