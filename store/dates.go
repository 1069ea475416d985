package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a calendar day without a zone, as PostgreSQL's date type.
type Date struct {
	t time.Time // always UTC midnight
}

const dateLayout = "2006-01-02"

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{t: t}, nil
}

// MustDate is ParseDate for constants in tests; it panics on a malformed literal.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf is the calendar day of the instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

func dateFromDB(t time.Time) Date {
	y, m, d := t.Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// AddDays moves the date by n days.
func (d Date) AddDays(n int) Date { return Date{t: d.t.AddDate(0, 0, n)} }

// Before reports whether d is strictly earlier than o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is strictly later than o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// IsZero reports an unset date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String is "YYYY-MM-DD".
func (d Date) String() string { return d.t.Format(dateLayout) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("date: want a \"YYYY-MM-DD\" string")
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// BatchDates are the dates B-2 derives from a start date.
type BatchDates struct {
	Start, End, Delete, HistoryDelete Date
}

// ComputeBatchDates applies B-2 with R = retentionDays: the end defaults to start + (R − 91) days
// and must lie in [start, start + (R − 91)]; deletion = end + 90; history deletion = deletion +
// (R − 1).
func ComputeBatchDates(start Date, end *Date, retentionDays int) (BatchDates, error) {
	latest := start.AddDays(retentionDays - 91)
	e := latest
	if end != nil {
		e = *end
		if e.Before(start) {
			return BatchDates{}, invalid("B-2", "batch_end_before_start", "end date %s is before start date %s", e, start)
		}
		if e.After(latest) {
			return BatchDates{}, invalid("B-2", "batch_end_out_of_bounds",
				"end date %s is after %s, the start date plus %d days (history retention %d − 91)", e, latest, retentionDays-91, retentionDays)
		}
	}
	del := e.AddDays(90)
	return BatchDates{Start: start, End: e, Delete: del, HistoryDelete: del.AddDays(retentionDays - 1)}, nil
}

// Scan reads a PostgreSQL date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = dateFromDB(v)
		return nil
	case string:
		p, err := ParseDate(v)
		*d = p
		return err
	case []byte:
		p, err := ParseDate(string(v))
		*d = p
		return err
	}
	return fmt.Errorf("date: cannot scan %T", src)
}

// Value writes the date as "YYYY-MM-DD".
func (d Date) Value() (driver.Value, error) { return d.String(), nil }
