package liveevents

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// PublisherOptions configure a Publisher.
type PublisherOptions struct {
	Redis     *redis.Client
	Key       string        // DefaultKey when empty
	Retention time.Duration // DefaultRetention when zero
	Logger    *slog.Logger
	Now       func() time.Time
	Queue     int // events waiting to be written; 4096 when zero
}

// Publisher writes the engine's events to the stream. Publish never blocks the engine: events
// are queued and one goroutine writes them in order, several per round trip. When Redis is slow
// for long enough that the queue fills, events are dropped and counted (live views catch up
// with the next state of each agent; pacing never depends on events).
type Publisher struct {
	o       PublisherOptions
	queue   chan Event
	mu      sync.Mutex
	dropped int
	lastMs  uint64 // the id time of the last entry written (the writer's own)
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewPublisher builds a publisher; Start runs it.
func NewPublisher(o PublisherOptions) *Publisher {
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	return &Publisher{o: o, queue: make(chan Event, o.Queue)}
}

// Publish queues an event. Safe to call under the caller's locks.
func (p *Publisher) Publish(e Event) {
	if e.At.IsZero() {
		e.At = p.o.Now()
	}
	select {
	case p.queue <- e:
	default:
		p.mu.Lock()
		p.dropped++
		p.mu.Unlock()
	}
}

// Dropped is how many events were dropped on a full queue.
func (p *Publisher) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// Start runs the writer until Stop.
func (p *Publisher) Start(ctx context.Context) {
	if p.done != nil {
		return
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go p.run(ctx)
}

// Stop writes what is queued (within a few seconds) and waits for the writer to end.
func (p *Publisher) Stop() {
	if p.done == nil {
		return
	}
	p.cancel()
	<-p.done
}

func (p *Publisher) run(ctx context.Context) {
	defer close(p.done)
	batch := make([]Event, 0, 64)
	fill := func() {
		for len(batch) < cap(batch) {
			select {
			case e := <-p.queue:
				batch = append(batch, e)
			default:
				return
			}
		}
	}
	for {
		batch = batch[:0]
		select {
		case e := <-p.queue:
			batch = append(batch, e)
		case <-ctx.Done():
			// Write what the engine queued before it stopped, for a few seconds at most.
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			defer cancel()
			for {
				batch = batch[:0]
				fill()
				if len(batch) == 0 || p.write(flush, batch) != nil {
					return
				}
			}
		}
		fill()
		for {
			// A write under way finishes even when Stop comes meanwhile.
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			err := p.write(wctx, batch)
			cancel()
			if err == nil || ctx.Err() != nil {
				break
			}
			p.o.Logger.Warn("write live events", "err", err, "events", len(batch))
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// write appends the events in one pipeline. Entries are trimmed by MINID against the ids Redis
// gave the previous write (the stream's ids are Redis's clock, not ours): everything younger
// than the retention stays, and ~ lets Redis remove whole old nodes only, never a younger entry.
func (p *Publisher) write(ctx context.Context, batch []Event) error {
	minID := ""
	if p.lastMs > 0 {
		minID = strconv.FormatUint(p.lastMs-min(p.lastMs, uint64(p.o.Retention.Milliseconds())), 10)
	}
	cmds := make([]*redis.StringCmd, len(batch))
	_, err := p.o.Redis.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, e := range batch {
			cmds[i] = pl.XAdd(ctx, &redis.XAddArgs{Stream: p.o.Key, MinID: minID, Approx: minID != "",
				Values: []string{"e", e.encode()}})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if id, ok := ParseID(cmds[len(cmds)-1].Val()); ok {
		p.lastMs = id.Ms
	}
	return nil
}
