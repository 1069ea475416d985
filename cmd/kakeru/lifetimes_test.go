package main

import (
	"errors"
	"slices"
	"testing"
)

// Close stops what Run started in reverse order, each part once, whatever fails on the way.
func TestLifetimesStopInReverseOrder(t *testing.T) {
	var l lifetimes
	var stopped []string
	boom := errors.New("boom")
	for _, name := range []string{"store", "engine", "http"} {
		l.started(name, func() error {
			stopped = append(stopped, name)
			if name == "engine" {
				return boom
			}
			return nil
		})
	}
	err := l.stopAll()
	if want := []string{"http", "engine", "store"}; !slices.Equal(stopped, want) {
		t.Errorf("stopped %v, want %v", stopped, want)
	}
	if !errors.Is(err, boom) || err.Error() != "stop engine: boom" {
		t.Errorf("error %v", err)
	}
	if err := l.stopAll(); err != nil || len(stopped) != 3 {
		t.Errorf("second stopAll: %v, %d stops", err, len(stopped))
	}
}
