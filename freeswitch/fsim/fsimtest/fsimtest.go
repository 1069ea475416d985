// Package fsimtest starts simulated switches for tests, as store/storetest makes databases: the
// simulator itself (package fsim) has no dependency on the testing package.
package fsimtest

import (
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// Start starts a simulated switch on a free port of 127.0.0.1 and stops it at cleanup.
func Start(tb testing.TB, o fsim.Options) *fsim.Server {
	tb.Helper()
	s, err := fsim.StartLocal(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}
