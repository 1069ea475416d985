package freeswitch

import (
	"context"
	"errors"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// Dispatcher hands events to a handler with every call's events in wire order and different
// calls in parallel: events are sharded by call, each shard served by one goroutine. This is
// the ordered path that replaces eslgo's goroutine per event (docs/event-socket.md §1).
type Dispatcher struct {
	handle func(*wire.Event)
	shards []chan *wire.Event
	wg     sync.WaitGroup
	once   sync.Once
	// mu: Dispatch holds it shared while queuing; Stop holds it alone to close the shards, so
	// an event read after Stop is refused instead of sent on a closed channel.
	mu      sync.RWMutex
	stopped bool
}

// ErrDispatcherStopped is Dispatch's answer after Stop.
var ErrDispatcherStopped = errors.New("event dispatcher stopped")

// NewDispatcher builds a dispatcher of n shards with queue events of buffer each; handle is
// called from the shard goroutines, one event at a time per shard.
func NewDispatcher(n, queue int, handle func(*wire.Event)) *Dispatcher {
	n = max(n, 1)
	d := &Dispatcher{handle: handle, shards: make([]chan *wire.Event, n)}
	for i := range d.shards {
		d.shards[i] = make(chan *wire.Event, queue)
	}
	return d
}

// Start runs the shard goroutines; Stop ends them.
func (d *Dispatcher) Start() {
	for _, ch := range d.shards {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for e := range ch {
				d.handle(e)
			}
		}()
	}
}

// Dispatch queues an event behind the earlier events of its call. It blocks while the call's
// shard is full, so a slow handler slows the reader instead of growing memory, and returns
// ctx's error if ctx ends first; after Stop it returns ErrDispatcherStopped.
func (d *Dispatcher) Dispatch(ctx context.Context, e *wire.Event) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.stopped {
		return ErrDispatcherStopped
	}
	ch := d.shards[d.shard(CallKey(e))]
	select {
	case ch <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop lets the shards finish the events already queued and waits for them.
func (d *Dispatcher) Stop() {
	d.once.Do(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.stopped = true
		for _, ch := range d.shards {
			close(ch)
		}
	})
	d.wg.Wait()
}

func (d *Dispatcher) shard(key string) int {
	if key == "" {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(len(d.shards)))
}

// CallKey is the channel an event belongs to: its Unique-ID, or for the BACKGROUND_JOB of an
// originate the origination_uuid inside Job-Command-Arg, so that a failed originate's -ERR is
// ordered with the leg's own events. Other events (HEARTBEAT) have no key.
func CallKey(e *wire.Event) string {
	if id := e.UniqueID(); id != "" {
		return id
	}
	if e.Name() == "BACKGROUND_JOB" {
		arg := e.Header.Get("Job-Command-Arg")
		if _, rest, ok := strings.Cut(arg, "origination_uuid="); ok {
			if end := strings.IndexAny(rest, ",}"); end > 0 {
				return rest[:end]
			}
		}
	}
	return ""
}
