//go:build lab

package labtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// Defaults of scripts/freeswitch-lab.sh.
const (
	DefaultESLAddr     = "127.0.0.1:18021"
	DefaultESLPassword = "kakeru-lab"
)

// ESLAddr is the lab switch's event socket: KAKERU_LAB_ESL_ADDR or 127.0.0.1:18021.
func ESLAddr() string {
	if v := os.Getenv("KAKERU_LAB_ESL_ADDR"); v != "" {
		return v
	}
	return DefaultESLAddr
}

// ESLPassword is the lab switch's event-socket password: KAKERU_LAB_ESL_PASSWORD or kakeru-lab.
func ESLPassword() string {
	if v := os.Getenv("KAKERU_LAB_ESL_PASSWORD"); v != "" {
		return v
	}
	return DefaultESLPassword
}

// eslConn is a minimal event-socket client of the tests' own, independent of the engine's
// freeswitch package (only the frame parser is shared): one reader goroutine, one command on
// the wire at a time, events handed to a callback in wire order.
type eslConn struct {
	nc      net.Conn
	cmdMu   sync.Mutex
	replies chan *wire.Frame
	onEvent func(*wire.Event)

	mu   sync.Mutex
	err  error
	done chan struct{}
}

var errESLClosed = errors.New("event socket connection closed")

// dialESL connects and authenticates within timeout. onEvent (may be nil) receives every event,
// from the reader goroutine, in wire order.
func dialESL(addr, password string, timeout time.Duration, onEvent func(*wire.Event)) (*eslConn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("lab switch event socket %s does not answer (start it with `make lab`): %w", addr, err)
	}
	k := &eslConn{nc: nc, replies: make(chan *wire.Frame, 4), onEvent: onEvent, done: make(chan struct{})}
	greeted := make(chan struct{})
	go k.read(greeted)
	select {
	case <-greeted:
	case <-k.done:
		return nil, fmt.Errorf("lab switch %s closed before auth/request: %w", addr, k.closedErr())
	case <-time.After(timeout):
		k.Close()
		return nil, fmt.Errorf("lab switch %s sent no auth/request within %v", addr, timeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	f, err := k.command(ctx, "auth "+password)
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("lab switch %s: auth: %w", addr, err)
	}
	if r := f.Header.Get("Reply-Text"); r != "+OK accepted" {
		k.Close()
		return nil, fmt.Errorf("lab switch %s refused the password: %q", addr, r)
	}
	return k, nil
}

func (k *eslConn) read(greeted chan struct{}) {
	defer close(k.done)
	r := wire.NewReader(k.nc)
	for {
		f, err := r.ReadFrame()
		if err != nil {
			k.fail(err)
			return
		}
		switch f.ContentType() {
		case "auth/request":
			close(greeted)
		case "text/event-plain":
			e, err := wire.ParsePlainEvent(f)
			if err != nil {
				k.fail(err)
				return
			}
			e.Received = time.Now()
			if k.onEvent != nil {
				k.onEvent(e)
			}
		case "text/disconnect-notice":
			k.fail(fmt.Errorf("disconnect notice: %s", strings.TrimSpace(string(f.Body))))
			return
		case "command/reply", "api/response":
			select {
			case k.replies <- f:
			default: // nobody waits: a reply to a command that timed out
			}
		}
	}
}

func (k *eslConn) fail(err error) {
	k.mu.Lock()
	if k.err == nil {
		k.err = err
	}
	k.mu.Unlock()
	k.nc.Close()
}

func (k *eslConn) closedErr() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err == nil {
		return errESLClosed
	}
	return k.err
}

// command sends one command and waits for its reply. A timeout ends the connection: the late
// reply would answer the next command.
func (k *eslConn) command(ctx context.Context, line string) (*wire.Frame, error) {
	k.cmdMu.Lock()
	defer k.cmdMu.Unlock()
	select {
	case <-k.done:
		return nil, k.closedErr()
	default:
	}
	if _, err := fmt.Fprintf(k.nc, "%s\n\n", line); err != nil {
		k.fail(err)
		return nil, err
	}
	select {
	case f := <-k.replies:
		return f, nil
	case <-k.done:
		return nil, k.closedErr()
	case <-ctx.Done():
		k.fail(fmt.Errorf("%q: no reply: %w", line, ctx.Err()))
		return nil, ctx.Err()
	}
}

// api runs `api CMD` and returns its body.
func (k *eslConn) api(ctx context.Context, cmd string) (string, error) {
	f, err := k.command(ctx, "api "+cmd)
	if err != nil {
		return "", err
	}
	return string(f.Body), nil
}

// Close ends the connection.
func (k *eslConn) Close() {
	k.fail(errESLClosed)
	<-k.done
}
