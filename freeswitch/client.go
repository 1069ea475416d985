package freeswitch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// ErrNotConnected is returned while a node has no live connection.
var ErrNotConnected = errors.New("freeswitch node not connected")

// ClientOptions configure a supervised connection to one node.
type ClientOptions struct {
	Name, Addr, Password string
	Events               []string // subscribed on every connection
	// Heartbeat is the switch's HEARTBEAT interval (20 s by default in FreeSWITCH). The client
	// probes the node every interval and gives up on a connection silent for 1.5 of them, so a
	// dead peer is found within two.
	Heartbeat   time.Duration
	DialTimeout time.Duration
	BackoffMin  time.Duration // first redial delay; doubles up to BackoffMax, with jitter
	BackoffMax  time.Duration
	OnEvent     func(context.Context, *wire.Event) error
	// OnConnect runs on every new connection before it is offered to callers: the engine
	// reconciles its unfinished calls there (uuid_exists / show channels).
	OnConnect func(context.Context, *Conn) error
	// OnState, when set, hears every change of the node's state (metrics, tests).
	OnState func(NodeState)
	Logger  *slog.Logger
}

// NodeState is a node as /api/v1/status and /readyz show it.
type NodeState struct {
	Name        string
	Address     string
	Connected   bool
	LastEventAt time.Time
	Reconnects  int
	LastError   string
}

// Client owns the connection to one node: it dials, subscribes, watches for silence, and
// redials with capped exponential backoff and jitter whenever the connection ends (eslgo has no
// reconnection at all, docs/event-socket.md §1).
type Client struct {
	o ClientOptions

	mu         sync.Mutex
	conn       *Conn
	reconnects int
	lastErr    string
	cancel     context.CancelFunc
	done       chan struct{}
	tried      chan struct{} // closed once the first connection attempt has ended
	triedOnce  sync.Once
}

// NewClient prepares a client; it connects on Start.
func NewClient(o ClientOptions) *Client {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 20 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 200 * time.Millisecond
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(o.BackoffMin, 10*time.Second)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Client{o: o, tried: make(chan struct{})}
}

// Tried is closed once the first connection attempt has succeeded or failed, so a caller can
// start serving with each node's state known rather than "connecting".
func (c *Client) Tried() <-chan struct{} { return c.tried }

// Start runs the supervision loop until Stop.
func (c *Client) Start(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go c.run(ctx, c.done)
}

// Stop closes the connection and waits for the loop.
func (c *Client) Stop() {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Conn is the live connection.
func (c *Client) Conn() (*Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil, ErrNotConnected
	}
	return c.conn, nil
}

// State reports the node's health.
func (c *Client) State() NodeState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := NodeState{Name: c.o.Name, Address: c.o.Addr, Connected: c.conn != nil, Reconnects: c.reconnects, LastError: c.lastErr}
	if c.conn != nil {
		st.LastEventAt = c.conn.LastEvent()
	}
	return st
}

func (c *Client) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	defer c.triedOnce.Do(func() { close(c.tried) })
	backoff := c.o.BackoffMin
	for first := true; ; first = false {
		if !first {
			// Jitter keeps many instances from redialing a restarted switch in lockstep.
			wait := backoff/2 + rand.N(backoff/2+1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			backoff = min(backoff*2, c.o.BackoffMax)
		}
		conn, err := c.connect(ctx)
		if err == nil {
			c.mu.Lock()
			c.conn = conn
			if !first {
				c.reconnects++
			}
			c.mu.Unlock()
		}
		c.triedOnce.Do(func() { close(c.tried) })
		if err == nil {
			c.notify()
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.setErr(err)
			c.o.Logger.Warn("freeswitch connect failed", "node", c.o.Name, "err", err)
			continue
		}
		backoff = c.o.BackoffMin
		c.o.Logger.Info("freeswitch connected", "node", c.o.Name, "addr", c.o.Addr)
		c.watch(ctx, conn)
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
		c.notify()
		_ = conn.Close()
		if ctx.Err() != nil {
			return
		}
		c.setErr(conn.Err())
		c.o.Logger.Warn("freeswitch connection lost", "node", c.o.Name, "err", conn.Err())
	}
}

func (c *Client) notify() {
	if c.o.OnState != nil {
		c.o.OnState(c.State())
	}
}

func (c *Client) setErr(err error) {
	c.mu.Lock()
	if err != nil {
		c.lastErr = err.Error()
	}
	c.mu.Unlock()
}

func (c *Client) connect(ctx context.Context) (*Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.o.DialTimeout)
	defer cancel()
	conn, err := Dial(dctx, c.o.Addr, c.o.Password, c.o.Events, c.o.OnEvent)
	if err != nil {
		return nil, err
	}
	if c.o.OnConnect != nil {
		if err := c.o.OnConnect(dctx, conn); err != nil {
			conn.Close()
			return nil, fmt.Errorf("after connecting: %w", err)
		}
	}
	return conn, nil
}

// watch returns when the connection ends or has been silent for 1.5 heartbeat intervals. Every
// interval it sends a cheap probe, so even a node without HEARTBEAT events proves it is alive,
// and a stalled one is found by the probe's own deadline.
func (c *Client) watch(ctx context.Context, conn *Conn) {
	silence := c.o.Heartbeat * 3 / 2
	tick := time.NewTicker(c.o.Heartbeat / 4)
	defer tick.Stop()
	lastProbe := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case now := <-tick.C:
			if now.Sub(conn.LastRead()) > silence {
				conn.Abort(fmt.Errorf("silent for %s", now.Sub(conn.LastRead()).Round(time.Millisecond)))
				return
			}
			if now.Sub(lastProbe) >= c.o.Heartbeat {
				lastProbe = now
				pctx, cancel := context.WithTimeout(ctx, c.o.Heartbeat/2)
				_, err := conn.API(pctx, "status")
				cancel()
				if err != nil && conn.Err() != nil {
					return
				}
			}
		}
	}
}
