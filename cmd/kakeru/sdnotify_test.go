package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listenNotify is a stand-in for systemd's notification socket at name.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readNotify(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// The unit is Type=notify: the engine sends READY=1, RELOADING=1 … READY=1 and STOPPING=1 as
// sd_notify(3) datagrams to $NOTIFY_SOCKET.
func TestPackageSDNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	abstract := fmt.Sprintf("@kakeru-test-%d", os.Getpid())
	for _, socket := range []string{path, abstract} {
		conn := listenNotify(t, socket)
		sd := newSDNotifier(func(k string) string {
			if k == "NOTIFY_SOCKET" {
				return socket
			}
			return ""
		})
		if err := sd.ready("serving on 127.0.0.1:8080"); err != nil {
			t.Fatal(err)
		}
		if got := readNotify(t, conn); got != "READY=1\nSTATUS=serving on 127.0.0.1:8080\n" {
			t.Errorf("%s: ready sent %q", socket, got)
		}
		if err := sd.reloading(); err != nil {
			t.Fatal(err)
		}
		if got := readNotify(t, conn); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") || got == "RELOADING=1\nMONOTONIC_USEC=0\n" {
			t.Errorf("%s: reloading sent %q", socket, got)
		}
		if err := sd.stopping(); err != nil {
			t.Fatal(err)
		}
		if got := readNotify(t, conn); !strings.HasPrefix(got, "STOPPING=1\n") {
			t.Errorf("%s: stopping sent %q", socket, got)
		}
	}
}

// Outside systemd nothing is sent and nothing fails; a socket that is gone is an error.
func TestPackageSDNotifyWithoutSystemd(t *testing.T) {
	none := newSDNotifier(func(string) string { return "" })
	if err := none.ready("x"); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v", err)
	}
	gone := &sdNotifier{socket: filepath.Join(t.TempDir(), "absent")}
	if err := gone.stopping(); err == nil {
		t.Error("an absent socket was not reported")
	}
	if err := (&sdNotifier{socket: "relative"}).ready("x"); err == nil {
		t.Error("a relative socket name was accepted")
	}
}
