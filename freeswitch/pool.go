package freeswitch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Pool spreads calls over several nodes: each pick goes to the connected node with the fewest
// calls in flight, so a node that is down simply stops being chosen.
type Pool struct {
	clients []*Client
	control map[string][]*Client // per node, connections for call control (no events)
	mu      sync.Mutex
	load    map[string]int // calls in flight per node name
	timed   func(node, kind, command string, took time.Duration)
}

// NewPool builds a pool over the clients (one per node); it starts and stops them.
func NewPool(clients ...*Client) *Pool {
	return &Pool{clients: clients, control: map[string][]*Client{}, load: map[string]int{}}
}

// AddControl gives a node a second connection, without event subscription, for the commands
// that move live calls (uuid_bridge, uuid_kill, …): they then never queue behind the stream of
// originates on the main connection. Call before Start.
func (p *Pool) AddControl(node string, c *Client) { p.control[node] = append(p.control[node], c) }

// OnCommand makes the pool report the round trip of every api and bgapi command it sends:
// the node, the kind ("api" or "bgapi"), the command's first word (never its arguments) and
// the time until the switch replied or the command failed. The commands of one APIBatch share
// a round trip; each is reported with it. Call before Start.
func (p *Pool) OnCommand(f func(node, kind, command string, took time.Duration)) { p.timed = f }

// observe reports a command sent at start.
func (p *Pool) observe(node, kind, cmd string, start time.Time) {
	if p.timed != nil {
		p.timed(node, kind, firstWord(cmd), time.Since(start))
	}
}

// Start starts every client.
func (p *Pool) Start(ctx context.Context) {
	for _, c := range p.clients {
		c.Start(ctx)
	}
	for _, cs := range p.control {
		for _, c := range cs {
			c.Start(ctx)
		}
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
	for _, cs := range p.control {
		for _, c := range cs {
			c.Stop()
		}
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

// Acquire leases a call slot on the named node, or on the least loaded connected node when node
// is "". It returns the node chosen and the release of the slot.
func (p *Pool) Acquire(node string) (string, func(), error) {
	if node == "" {
		l, err := p.Pick()
		if err != nil {
			return "", nil, err
		}
		return l.Node, l.Release, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		if c.o.Name != node {
			continue
		}
		conn, err := c.Conn()
		if err != nil {
			return "", nil, fmt.Errorf("node %s: %w", node, err)
		}
		p.load[node]++
		l := &Lease{Node: node, Conn: conn, pool: p}
		return node, l.Release, nil
	}
	return "", nil, fmt.Errorf("node %s is not configured", node)
}

func (p *Pool) conn(node string) (*Conn, error) {
	for _, c := range p.clients {
		if c.o.Name == node {
			conn, err := c.Conn()
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", node, err)
			}
			return conn, nil
		}
	}
	return nil, fmt.Errorf("node %s is not configured", node)
}

// API runs an api command on the named node, on its control connection when that is up.
func (p *Pool) API(ctx context.Context, node, cmd string) (string, error) {
	conn, err := p.controlConn(node)
	if err != nil {
		return "", err
	}
	defer p.observe(node, "api", cmd, time.Now())
	return conn.API(ctx, cmd)
}

// controlConn is the node's control connection when it is up, else its main connection.
func (p *Pool) controlConn(node string) (*Conn, error) {
	var best *Conn
	for _, c := range p.control[node] {
		if conn, err := c.Conn(); err == nil && (best == nil || conn.Queued() < best.Queued()) {
			best = conn
		}
	}
	if best != nil {
		return best, nil
	}
	return p.conn(node)
}

// APIBatch runs api commands on the named node in one round trip (control connection when up).
func (p *Pool) APIBatch(ctx context.Context, node string, cmds []string) ([]string, []error, error) {
	conn, err := p.controlConn(node)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	defer func() {
		for _, cmd := range cmds {
			p.observe(node, "api", cmd, start)
		}
	}()
	return conn.APIBatch(ctx, cmds)
}

// BgAPI runs a bgapi command on the named node; the result arrives on the channel.
func (p *Pool) BgAPI(ctx context.Context, node, cmd string) (<-chan JobResult, error) {
	conn, err := p.conn(node)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	_, res, err := conn.BgAPI(ctx, cmd)
	p.observe(node, "bgapi", cmd, start)
	return res, err
}

// Alive tells which of the channel UUIDs exist on the named node (LiveChannels).
func (p *Pool) Alive(ctx context.Context, node string, uuids []string) (map[string]bool, error) {
	conn, err := p.conn(node)
	if err != nil {
		return nil, err
	}
	return LiveChannels(ctx, conn, uuids)
}
