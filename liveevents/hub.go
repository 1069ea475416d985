package liveevents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// HubOptions configure a Hub.
type HubOptions struct {
	Redis  *redis.Client
	Key    string // DefaultKey when empty
	Logger *slog.Logger
	// Block is how long one XREAD waits for new entries; 1 s when zero. Stop waits at most this.
	Block time.Duration
	// Buffer is how many events a subscriber may lag behind before it is cut off; 1024 when zero.
	Buffer int
}

// Hub reads the stream once per API instance and fans the events out to its subscribers (the
// SSE connections), so a thousand open monitors cost one Redis reader, not a thousand.
type Hub struct {
	o      HubOptions
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Subscription receives every event the hub reads after it subscribed. C is closed when the
// subscriber fell too far behind (Lagged reports it) or the hub stopped; the client then
// reconnects and resumes from its last event id.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	lagged bool
}

// Lagged reports whether the subscription was cut off for falling behind. Read after C closed.
func (s *Subscription) Lagged() bool { return s.lagged }

// NewHub builds a hub; Start runs it.
func NewHub(o HubOptions) *Hub {
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Block <= 0 {
		o.Block = time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	return &Hub{o: o, subs: map[*Subscription]struct{}{}}
}

// Start reads the stream from its current end until Stop.
func (h *Hub) Start(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done != nil {
		return
	}
	ctx, h.cancel = context.WithCancel(ctx)
	h.done = make(chan struct{})
	go h.run(ctx)
}

// Stop ends the reader, waits for it, and closes every subscription.
func (h *Hub) Stop() {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	h.mu.Lock()
	for s := range h.subs {
		close(s.c)
		delete(h.subs, s)
	}
	h.mu.Unlock()
}

// Subscribe starts receiving events. Unsubscribe when done.
func (h *Hub) Subscribe() *Subscription {
	c := make(chan Event, h.o.Buffer)
	s := &Subscription{C: c, c: c}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil || h.cancel == nil {
		close(c)
		return s
	}
	select {
	case <-h.done:
		close(c)
	default:
		h.subs[s] = struct{}{}
	}
	return s
}

// Unsubscribe stops delivery to s.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

// After returns the events after id still in the stream, oldest first, at most limit (the
// history a reconnecting client missed). An id older than the history yields what is kept.
func (h *Hub) After(ctx context.Context, id string, limit int64) ([]Event, error) {
	if _, ok := ParseID(id); !ok {
		return nil, fmt.Errorf("event id %q: not a stream id", id)
	}
	msgs, err := h.o.Redis.XRangeN(ctx, h.o.Key, "("+id, "+", limit).Result()
	if err != nil {
		return nil, fmt.Errorf("read live event history: %w", err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		e, err := decode(m.ID, m.Values)
		if err != nil {
			h.o.Logger.Warn("skip unreadable live event", "err", err)
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func (h *Hub) run(ctx context.Context) {
	defer close(h.done)
	last := ""
	for ctx.Err() == nil {
		if last == "" {
			// Start at the stream's current end: subscribers that need older events read them
			// with After.
			msgs, err := h.o.Redis.XRevRangeN(ctx, h.o.Key, "+", "-", 1).Result()
			if err != nil {
				h.pause(ctx, "find the end of the live event stream", err)
				continue
			}
			last = "0-0"
			if len(msgs) > 0 {
				last = msgs[0].ID
			}
		}
		streams, err := h.o.Redis.XRead(ctx, &redis.XReadArgs{Streams: []string{h.o.Key, last}, Count: 512, Block: h.o.Block}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			h.pause(ctx, "read live events", err)
			continue
		}
		for _, st := range streams {
			for _, m := range st.Messages {
				last = m.ID
				e, err := decode(m.ID, m.Values)
				if err != nil {
					h.o.Logger.Warn("skip unreadable live event", "err", err)
					continue
				}
				h.fanOut(e)
			}
		}
	}
}

func (h *Hub) pause(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	h.o.Logger.Warn(what, "err", err)
	select {
	case <-ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}
}

func (h *Hub) fanOut(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.c <- e:
		default:
			// Too far behind: cut it off rather than block everyone; it resumes from history.
			s.lagged = true
			delete(h.subs, s)
			close(s.c)
		}
	}
}
