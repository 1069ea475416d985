package main

import (
	"errors"
	"fmt"
	"sync"
)

// lifetimes is what Run started, in order. Close unwinds it: each part is stopped after every
// part started later, which may depend on it (the HTTP server before the engine, the engine
// before the switch pool, the pool before the event dispatcher, PostgreSQL and Redis last), so
// the shutdown order follows the start order instead of being kept by hand.
type lifetimes struct {
	mu    sync.Mutex
	parts []lifetime
}

type lifetime struct {
	name string
	stop func() error
}

// started records a part that is now running and how to stop it.
func (l *lifetimes) started(name string, stop func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.parts = append(l.parts, lifetime{name, stop})
}

// stopAll stops every part in reverse start order, each once, and joins their errors. Parts
// started again afterwards are stopped by the next call.
func (l *lifetimes) stopAll() error {
	l.mu.Lock()
	parts := l.parts
	l.parts = nil
	l.mu.Unlock()
	var errs []error
	for i := len(parts) - 1; i >= 0; i-- {
		if err := parts[i].stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", parts[i].name, err))
		}
	}
	return errors.Join(errs...)
}
