package engine_test

import (
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// startSim starts a simulated switch on a free port of 127.0.0.1 and stops it at cleanup.
func startSim(tb testing.TB, o fsim.Options) *fsim.Server {
	tb.Helper()
	s, err := fsim.StartLocal(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}
