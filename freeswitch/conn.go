package freeswitch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/percipia/eslgo/command"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// ErrClosed is returned by commands on a connection that has ended.
var ErrClosed = errors.New("esl connection closed")

// Conn is one authenticated event-socket connection. One goroutine reads every frame in wire
// order: replies go to the command waiting for them (one command at a time, so a reply can
// never reach the wrong caller), BACKGROUND_JOB results to the bgapi that registered their
// Job-UUID before sending, other events to the Dispatcher. A command that times out ends the
// connection: its late reply would otherwise answer the next command (docs/event-socket.md §1).
type Conn struct {
	nc     net.Conn
	events func(context.Context, *wire.Event) error

	cmdMu   sync.Mutex       // one command on the wire at a time
	replies chan *wire.Frame // replies of the commands in flight, in the order they were sent
	pending atomic.Int32     // commands written whose reply has not arrived
	queued  atomic.Int32     // batches waiting for or holding the connection
	mu      sync.Mutex       // guards jobs and err
	jobs    map[string]chan JobResult
	err     error
	done    chan struct{} // closed when the read loop has ended
	cancel  context.CancelFunc
	// lastRead is when the last frame arrived (Unix nanoseconds): the watchdog's evidence that
	// the peer is alive, since a dropped TCP peer sends nothing at all (docs/event-socket.md §1).
	lastRead  atomic.Int64
	lastEvent atomic.Int64
}

// JobResult is the outcome of a bgapi command: the BACKGROUND_JOB body, or why none came.
type JobResult struct {
	Body []byte
	Err  error
}

// Dial connects, waits for auth/request, authenticates and subscribes to events, all within
// ctx's deadline (a peer that never greets cannot hang it). events receives every event that
// is not a bgapi result, in wire order, from the read goroutine.
func Dial(ctx context.Context, addr, password string, subscribe []string, events func(context.Context, *wire.Event) error) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	r := wire.NewReader(nc)
	greet, err := r.ReadFrame()
	if err != nil || greet.ContentType() != "auth/request" {
		nc.Close()
		return nil, fmt.Errorf("connect %s: no auth/request greeting (%v, %q)", addr, err, contentType(greet))
	}
	if _, err := nc.Write([]byte(command.Auth{Password: password}.BuildMessage() + "\n\n")); err != nil {
		nc.Close()
		return nil, fmt.Errorf("auth %s: %w", addr, err)
	}
	reply, err := r.ReadFrame()
	if err != nil || !strings.HasPrefix(reply.Header.Get("Reply-Text"), "+OK") {
		nc.Close()
		return nil, fmt.Errorf("auth %s refused: %v %q", addr, err, replyText(reply))
	}
	_ = nc.SetDeadline(time.Time{})
	loopCtx, cancel := context.WithCancel(context.Background())
	c := &Conn{nc: nc, events: events, replies: make(chan *wire.Frame, maxBatch), jobs: map[string]chan JobResult{},
		done: make(chan struct{}), cancel: cancel}
	c.lastRead.Store(time.Now().UnixNano())
	go c.readLoop(loopCtx, r)
	if len(subscribe) > 0 {
		sub, err := EventSubscription(subscribe)
		if err == nil {
			_, err = c.command(ctx, sub)
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("subscribe %s: %w", addr, err)
		}
	}
	return c, nil
}

func contentType(f *wire.Frame) string {
	if f == nil {
		return ""
	}
	return f.ContentType()
}

func replyText(f *wire.Frame) string {
	if f == nil {
		return ""
	}
	return f.Header.Get("Reply-Text")
}

// LastRead is when the last frame arrived.
func (c *Conn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// LastEvent is when the last event arrived, zero before the first.
func (c *Conn) LastEvent() time.Time {
	if n := c.lastEvent.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Abort ends the connection with err (the watchdog's verdict) without waiting.
func (c *Conn) Abort(err error) { c.fail(err) }

// Done is closed when the connection has ended; Err then tells why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, or nil while it is up.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the connection and waits for the read goroutine. Pending bgapi results receive
// ErrClosed: the caller must reconcile those calls, never re-dial them blindly.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	<-c.done
	return nil
}

func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.cancel()
	_ = c.nc.Close()
}

func (c *Conn) readLoop(ctx context.Context, r *wire.Reader) {
	defer func() {
		c.mu.Lock()
		jobs := c.jobs
		c.jobs = map[string]chan JobResult{}
		err := c.err
		c.mu.Unlock()
		for _, ch := range jobs {
			ch <- JobResult{Err: err}
		}
		close(c.done)
	}()
	for {
		f, err := r.ReadFrame()
		if err != nil {
			c.fail(fmt.Errorf("read: %w", err))
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		switch f.ContentType() {
		case "command/reply", "api/response":
			if c.pending.Add(-1) < 0 {
				c.fail(errors.New("reply without a command in flight"))
				return
			}
			c.replies <- f // room for every command in flight
		case "text/event-plain":
			e, err := wire.ParsePlainEvent(f)
			if err != nil {
				c.fail(err)
				return
			}
			e.Received = time.Now()
			c.lastEvent.Store(time.Now().UnixNano())
			// A job's result goes to its waiter and to the event handler too: the handler
			// orders it with the channel's own events (an originate's -ERR may follow its
			// CHANNEL_ANSWER, capture 11), which a waiter on its own goroutine cannot.
			c.deliverJob(e)
			if c.events != nil {
				if err := c.events(ctx, e); err != nil {
					c.fail(err)
					return
				}
			}
		case "text/disconnect-notice":
			c.fail(errors.New("switch sent disconnect-notice"))
			return
		default:
			// log/data, rude rejection or anything unknown: not ours to interpret, and the
			// stream stays framed, so reading goes on.
		}
	}
}

func (c *Conn) deliverJob(e *wire.Event) bool {
	if e.Name() != "BACKGROUND_JOB" {
		return false
	}
	c.mu.Lock()
	ch, ok := c.jobs[e.JobUUID()]
	delete(c.jobs, e.JobUUID())
	c.mu.Unlock()
	if ok {
		ch <- JobResult{Body: e.Body}
	}
	return ok
}

// DefaultCommandTimeout bounds a command whose context has no deadline: a command never waits
// without one (docs/event-socket.md §1).
const DefaultCommandTimeout = 10 * time.Second

// maxBatch bounds the commands of one APIBatch.
const maxBatch = 16

// command sends one command and waits for its reply within ctx; a timeout ends the connection.
func (c *Conn) command(ctx context.Context, text string) (*wire.Frame, error) {
	f, err := c.commands(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return f[0], nil
}

// commands writes the commands in one go and reads their replies, which FreeSWITCH sends in
// the same order; one batch at a time holds the connection, so no reply can reach another
// caller. Each batch sets its own write deadline, so an earlier deadline never lingers on the
// socket to fail a later one (eslgo's defect, docs/event-socket.md §1). A timeout ends the connection: late
// replies would otherwise answer the next command.
func (c *Conn) commands(ctx context.Context, texts []string) ([]*wire.Frame, error) {
	if len(texts) == 0 || len(texts) > maxBatch {
		return nil, fmt.Errorf("esl: %d commands in a batch (1 to %d)", len(texts), maxBatch)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCommandTimeout)
		defer cancel()
	}
	c.queued.Add(1)
	defer c.queued.Add(-1)
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	if err := c.Err(); err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	_ = c.nc.SetWriteDeadline(dl)
	var buf strings.Builder
	for _, t := range texts {
		buf.WriteString(t)
		buf.WriteString("\n\n")
	}
	c.pending.Add(int32(len(texts)))
	if _, err := c.nc.Write([]byte(buf.String())); err != nil {
		c.fail(fmt.Errorf("write: %w", err))
		return nil, c.Err()
	}
	out := make([]*wire.Frame, 0, len(texts))
	for range texts {
		select {
		case f := <-c.replies:
			out = append(out, f)
		case <-c.done:
			return nil, c.Err()
		case <-ctx.Done():
			c.fail(fmt.Errorf("no reply to %q: %w", firstWord(texts[len(out)]), ctx.Err()))
			return nil, ctx.Err()
		}
	}
	return out, nil
}

// Queued is how many command batches wait for the connection or hold it: a pool sends to
// the connection with the shortest queue.
func (c *Conn) Queued() int { return int(c.queued.Load()) }

// APIBatch runs several api commands in one round trip and returns each body or error; a body
// starting -ERR is an error for that command only.
func (c *Conn) APIBatch(ctx context.Context, cmds []string) ([]string, []error, error) {
	texts := make([]string, len(cmds))
	for i, cmd := range cmds {
		t, err := API(cmd)
		if err != nil {
			return nil, nil, err
		}
		texts[i] = t
	}
	frames, err := c.commands(ctx, texts)
	if err != nil {
		return nil, nil, err
	}
	bodies, errs := make([]string, len(frames)), make([]error, len(frames))
	for i, f := range frames {
		bodies[i] = string(f.Body)
		if strings.HasPrefix(bodies[i], "-ERR") {
			errs[i] = newCommandError(cmds[i], bodies[i])
		}
	}
	return bodies, errs, nil
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// API runs `api CMD` and returns its body; a body starting -ERR is an error.
func (c *Conn) API(ctx context.Context, cmd string) (string, error) {
	text, err := API(cmd)
	if err != nil {
		return "", err
	}
	f, err := c.command(ctx, text)
	if err != nil {
		return "", err
	}
	body := string(f.Body)
	if strings.HasPrefix(body, "-ERR") {
		return body, newCommandError(cmd, body)
	}
	return body, nil
}

// BgAPI sends `bgapi CMD` with a Job-UUID of ours, registered before sending so the result
// cannot arrive unseen, and returns the channel its BACKGROUND_JOB result arrives on.
func (c *Conn) BgAPI(ctx context.Context, cmd string) (string, <-chan JobResult, error) {
	job := newUUID()
	text, err := BgAPI(cmd, job)
	if err != nil {
		return "", nil, err
	}
	ch := make(chan JobResult, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return "", nil, c.err
	}
	c.jobs[job] = ch
	c.mu.Unlock()
	f, err := c.command(ctx, text)
	if err == nil && !strings.HasPrefix(f.Header.Get("Reply-Text"), "+OK") {
		err = fmt.Errorf("bgapi refused: %s", f.Header.Get("Reply-Text"))
	}
	if err != nil {
		c.mu.Lock()
		delete(c.jobs, job)
		c.mu.Unlock()
		return "", nil, err
	}
	return job, ch, nil
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewUUID returns a fresh channel UUID for an originate's origination_uuid.
func NewUUID() string { return newUUID() }
