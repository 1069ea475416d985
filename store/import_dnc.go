package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// dncBatch is the numbers of one do-not-call lookup during a copy.
var dncBatch = 20_000 // a variable for the tests only

// dncChecker looks the copied numbers up on the do-not-call lists (the global one and the
// campaign's; issue 14 item 1) on a connection of its own, batch by batch while the next rows
// are copied: the lookup and the copy run on two database backends at once. It reads the lists
// as committed, as the claim does.
type dncChecker struct {
	conn       *sqlx.Conn
	campaignID int
	withLines  bool
	batches    chan dncNumbers
	done       chan struct{}
	closed     bool
	found      doNotCall // the goroutine's until done is closed
	err        error
	next       dncNumbers // the batch being filled
}

type dncNumbers struct {
	lines pq.Int64Array
	tels  pq.StringArray
}

// dncConnWait bounds the wait for the checker's connection: a pool too small to give one (or
// full) must not hold the import up, which then looks the numbers up itself after the copy.
const dncConnWait = time.Second

// startDNCChecker starts the lookup goroutine on a connection of its own; wait ends it. It is
// nil when the pool has no connection to spare: add and wait then do nothing.
func startDNCChecker(ctx context.Context, db *sqlx.DB, campaignID int, withLines bool) *dncChecker {
	connCtx, cancel := context.WithTimeout(ctx, dncConnWait)
	defer cancel()
	conn, err := db.Connx(connCtx)
	if err != nil {
		return nil
	}
	c := &dncChecker{conn: conn, campaignID: campaignID, withLines: withLines, batches: make(chan dncNumbers, 1),
		done: make(chan struct{})}
	go c.run(ctx)
	return c
}

func (c *dncChecker) run(ctx context.Context) {
	defer close(c.done)
	defer c.conn.Close() // back to the pool
	for b := range c.batches {
		if c.err == nil {
			c.err = c.lookup(ctx, b)
		}
	}
}

func (c *dncChecker) lookup(ctx context.Context, b dncNumbers) error {
	const from = ` FROM unnest($1::bigint[], $2::text[]) AS r(line, tel)
		WHERE EXISTS (SELECT 1 FROM do_not_call d WHERE d.tel = r.tel AND d.campaign_id IN (0, $3))`
	if !c.withLines {
		var n int
		if err := c.conn.GetContext(ctx, &n, `SELECT count(*)`+from, b.lines, b.tels, c.campaignID); err != nil {
			return fmt.Errorf("do-not-call check: %w", err)
		}
		c.found.count += n
		return nil
	}
	var lines []int
	if err := c.conn.SelectContext(ctx, &lines, `SELECT r.line`+from+` ORDER BY r.line`, b.lines, b.tels, c.campaignID); err != nil {
		return fmt.Errorf("do-not-call check: %w", err)
	}
	c.found.lines = append(c.found.lines, lines...)
	c.found.count += len(lines)
	return nil
}

// add queues one copied row's number, sending a full batch to the goroutine.
func (c *dncChecker) add(ctx context.Context, line int, tel string) error {
	if c == nil {
		return nil
	}
	c.next.lines = append(c.next.lines, int64(line))
	c.next.tels = append(c.next.tels, tel)
	if len(c.next.tels) < dncBatch {
		return nil
	}
	return c.flush(ctx)
}

func (c *dncChecker) flush(ctx context.Context) error {
	if len(c.next.tels) == 0 {
		return nil
	}
	select {
	case c.batches <- c.next:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.next = dncNumbers{}
	return nil
}

// wait looks up the last numbers and returns what was found, lines in order, and ok true. It
// ends the goroutine and may be called again (it then only waits). A nil checker looked nothing
// up: ok is false.
func (c *dncChecker) wait(ctx context.Context) (found doNotCall, ok bool, err error) {
	if c == nil {
		return doNotCall{}, false, nil
	}
	if c.closed {
		<-c.done
		return c.found, true, c.err
	}
	err = c.flush(ctx)
	c.closed = true
	close(c.batches)
	<-c.done
	if err != nil {
		return doNotCall{}, true, err
	}
	return c.found, true, c.err
}
