// Package freeswitch talks to FreeSWITCH over its event socket (docs/event-socket.md).
package freeswitch

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/percipia/eslgo/command"
)

// Probe checks that a node's event socket answers and accepts the password: it connects, waits
// for the auth/request greeting, authenticates and says exit, all within ctx's deadline (or
// timeout when ctx has none). It is the readiness check of a node for which the engine holds no
// supervised connection.
func Probe(ctx context.Context, address, password string, timeout time.Duration) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return fmt.Errorf("connect %s: %w", address, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("probe %s: %w", address, err)
	}
	r := textproto.NewReader(bufio.NewReader(conn))
	h, err := readFrameHeaders(r)
	if err != nil {
		return fmt.Errorf("probe %s: waiting for auth/request: %w", address, err)
	}
	if ct := h.Get("Content-Type"); ct != "auth/request" {
		return fmt.Errorf("probe %s: greeted with %q, want auth/request", address, ct)
	}
	// eslgo's command builders write the command line; frames end with a blank line, LF only,
	// as FreeSWITCH itself writes them.
	if _, err := fmt.Fprint(conn, command.Auth{Password: password}.BuildMessage()+"\n\n"); err != nil {
		return fmt.Errorf("probe %s: send auth: %w", address, err)
	}
	h, err = readFrameHeaders(r)
	if err != nil {
		return fmt.Errorf("probe %s: waiting for auth reply: %w", address, err)
	}
	if reply := h.Get("Reply-Text"); !strings.HasPrefix(reply, "+OK") {
		return fmt.Errorf("probe %s: auth refused: %q", address, reply)
	}
	_, _ = fmt.Fprint(conn, command.Exit{}.BuildMessage()+"\n\n")
	return nil
}

// readFrameHeaders reads one frame's headers and skips its body.
func readFrameHeaders(r *textproto.Reader) (textproto.MIMEHeader, error) {
	h, err := r.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad Content-Length %q", cl)
		}
		if _, err := r.R.Discard(n); err != nil {
			return nil, err
		}
	}
	return h, nil
}
