package store_test

import (
	"errors"
	"testing"

	"github.com/kakeru-dialer/kakeru/store"
)

// Issue 13 row 8 (J-2): attempt counts beyond what the claim query takes are refused when the job
// is created, instead of making every start of it fail.
func TestJobFilterAttemptBounds(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, c := range []struct {
		f  store.JobFilter
		ok bool
	}{
		{store.JobFilter{AttemptsMax: n(99999999999)}, false},
		{store.JobFilter{AttemptsMin: n(store.MaxFilterAttempts + 1)}, false},
		{store.JobFilter{AttemptsMin: n(-1)}, false},
		{store.JobFilter{AttemptsMin: n(0), AttemptsMax: n(store.MaxFilterAttempts)}, true},
	} {
		err := c.f.Validate()
		var re *store.RuleError
		if c.ok != (err == nil) || err != nil && (!errors.As(err, &re) || re.Rule != "J-2") {
			t.Errorf("%+v: %v", c.f, err)
		}
	}
}
