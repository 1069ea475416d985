package store_test

import (
	"errors"
	"testing"

	"github.com/kakeru-dialer/kakeru/store"
)

// B-2: the three examples of the operator manual.
func TestComputeBatchDatesManualExamples(t *testing.T) {
	start := store.MustDate("2022-08-01")
	for _, tc := range []struct {
		r                 int
		end, del, history string
	}{
		{180, "2022-10-29", "2023-01-27", "2023-07-25"},
		{91, "2022-08-01", "2022-10-30", "2023-01-28"},
		{366, "2023-05-03", "2023-08-01", "2024-07-31"},
	} {
		d, err := store.ComputeBatchDates(start, nil, tc.r)
		if err != nil {
			t.Fatalf("R=%d: %v", tc.r, err)
		}
		if d.End.String() != tc.end || d.Delete.String() != tc.del || d.HistoryDelete.String() != tc.history {
			t.Errorf("R=%d: got end %s delete %s history %s, want %s %s %s", tc.r, d.End, d.Delete, d.HistoryDelete, tc.end, tc.del, tc.history)
		}
	}
}

func TestComputeBatchDatesBounds(t *testing.T) {
	start := store.MustDate("2022-08-01")
	for _, tc := range []struct {
		end  string
		code string
	}{
		{"2022-10-29", ""},
		{"2022-08-01", ""},
		{"2022-10-30", "batch_end_out_of_bounds"},
		{"2022-07-31", "batch_end_before_start"},
	} {
		end := store.MustDate(tc.end)
		d, err := store.ComputeBatchDates(start, &end, 180)
		var re *store.RuleError
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("end %s: unexpected %v", tc.end, err)
		case tc.code == "" && d.Delete != end.AddDays(90):
			t.Errorf("end %s: delete %s, want end+90", tc.end, d.Delete)
		case tc.code != "" && (!errors.As(err, &re) || re.Code != tc.code || re.Conflict):
			t.Errorf("end %s: got %v, want 422-class %s", tc.end, err, tc.code)
		}
	}
}
