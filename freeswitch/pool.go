package freeswitch

import (
	"context"
	"sync"
)

// Pool spreads calls over several nodes: each pick goes to the connected node with the fewest
// calls in flight, so a node that is down simply stops being chosen.
type Pool struct {
	clients []*Client
	mu      sync.Mutex
	load    map[string]int // calls in flight per node name
}

// NewPool builds a pool over the clients (one per node); it starts and stops them.
func NewPool(clients ...*Client) *Pool {
	return &Pool{clients: clients, load: map[string]int{}}
}

// Start starts every client.
func (p *Pool) Start(ctx context.Context) {
	for _, c := range p.clients {
		c.Start(ctx)
	}
}

// WaitTried waits until every node's first connection attempt has ended, or ctx ends.
func (p *Pool) WaitTried(ctx context.Context) {
	for _, c := range p.clients {
		select {
		case <-c.Tried():
		case <-ctx.Done():
			return
		}
	}
}

// Stop stops every client.
func (p *Pool) Stop() {
	for _, c := range p.clients {
		c.Stop()
	}
}

// Lease is one call's hold on a node; Release it when the call has ended.
type Lease struct {
	Node string
	Conn *Conn
	pool *Pool
	once sync.Once
}

// Release gives the call's slot back.
func (l *Lease) Release() {
	l.once.Do(func() {
		l.pool.mu.Lock()
		l.pool.load[l.Node]--
		l.pool.mu.Unlock()
	})
}

// Pick leases the healthy node with the fewest calls in flight, or ErrNotConnected when none is
// up.
func (p *Pool) Pick() (*Lease, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *Client
	var bestConn *Conn
	for _, c := range p.clients {
		conn, err := c.Conn()
		if err != nil {
			continue
		}
		if best == nil || p.load[c.o.Name] < p.load[best.o.Name] {
			best, bestConn = c, conn
		}
	}
	if best == nil {
		return nil, ErrNotConnected
	}
	p.load[best.o.Name]++
	return &Lease{Node: best.o.Name, Conn: bestConn, pool: p}, nil
}

// States reports every node, for /api/v1/status and /readyz.
func (p *Pool) States() []NodeState {
	out := make([]NodeState, len(p.clients))
	for i, c := range p.clients {
		out[i] = c.State()
	}
	return out
}

// InFlight is the number of leased calls per node.
func (p *Pool) InFlight() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.load))
	for k, v := range p.load {
		out[k] = v
	}
	return out
}
