package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// sdNotifier tells systemd the service's state (sd_notify(3)): one datagram of newline-separated
// VAR=VALUE assignments to the unix socket named by $NOTIFY_SOCKET. The unit is Type=notify, so
// systemd counts the service started only at READY=1, once the API listens and the engine runs.
// Outside systemd (no $NOTIFY_SOCKET) every call does nothing.
type sdNotifier struct {
	socket string
}

// newSDNotifier reads $NOTIFY_SOCKET through getenv: an absolute path, or "@name" for a socket
// in the abstract namespace (which Go's net package maps itself).
func newSDNotifier(getenv func(string) string) *sdNotifier {
	return &sdNotifier{socket: getenv("NOTIFY_SOCKET")}
}

// notify sends the assignments as one datagram; nothing without a socket.
func (n *sdNotifier) notify(assignments ...string) error {
	if n.socket == "" {
		return nil
	}
	if !strings.HasPrefix(n.socket, "/") && !strings.HasPrefix(n.socket, "@") {
		return fmt.Errorf("sd_notify: NOTIFY_SOCKET %q is neither a path nor an abstract name", n.socket)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.socket, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	// A datagram socket takes the whole message or nothing; the write never blocks for long
	// (systemd reads its socket at once), the deadline only bounds a wedged manager.
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte(strings.Join(assignments, "\n") + "\n")); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// ready says the service is up (also the end of a reload).
func (n *sdNotifier) ready(status string) error {
	return n.notify("READY=1", "STATUS="+status)
}

// reloading says a reload began. MONOTONIC_USEC lets systemd tell this reload from an
// earlier one (required with Type=notify-reload, harmless with Type=notify).
func (n *sdNotifier) reloading() error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return errors.Join(fmt.Errorf("sd_notify: monotonic clock: %w", err), n.notify("RELOADING=1"))
	}
	return n.notify("RELOADING=1", fmt.Sprintf("MONOTONIC_USEC=%d", ts.Nano()/1000))
}

// stopping says the service is shutting down.
func (n *sdNotifier) stopping() error {
	return n.notify("STOPPING=1", "STATUS=shutting down")
}
