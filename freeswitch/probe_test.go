package freeswitch_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
)

// fakeSocket accepts one connection and runs serve on it; the test waits for it to finish.
func fakeSocket(t *testing.T, serve func(c net.Conn, r *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c, bufio.NewReader(c))
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func readCommand(r *bufio.Reader) string {
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil || l == "\n" {
			return strings.Join(lines, "")
		}
		lines = append(lines, l)
	}
}

func TestProbeAcceptsRealGreeting(t *testing.T) {
	// Bytes as FreeSWITCH 1.11.1 sends them (testdata/esl-captures/01-auth-badcmd.esl).
	addr := fakeSocket(t, func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte("Content-Type: auth/request\n\n"))
		if cmd := readCommand(r); cmd != "auth ClueCon\n" {
			t.Errorf("sent %q", cmd)
		}
		c.Write([]byte("Content-Type: command/reply\nReply-Text: +OK accepted\n\n"))
		readCommand(r)
		c.Write([]byte("Content-Type: command/reply\nReply-Text: +OK bye\n\n"))
	})
	if err := freeswitch.Probe(context.Background(), addr, "ClueCon", time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestProbeWrongPassword(t *testing.T) {
	addr := fakeSocket(t, func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte("Content-Type: auth/request\n\n"))
		readCommand(r)
		c.Write([]byte("Content-Type: command/reply\nReply-Text: -ERR invalid\n\n"))
		c.Write([]byte("Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"))
	})
	err := freeswitch.Probe(context.Background(), addr, "wrong", time.Second)
	if err == nil || !strings.Contains(err.Error(), "auth refused") {
		t.Fatalf("got %v", err)
	}
}

// A peer that never greets must not hang the probe (docs/event-socket.md §1: Dial can block forever).
func TestProbeSilentPeerTimesOut(t *testing.T) {
	done := make(chan struct{})
	addr := fakeSocket(t, func(c net.Conn, r *bufio.Reader) { <-done })
	defer close(done)
	err := freeswitch.Probe(context.Background(), addr, "ClueCon", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "auth/request") {
		t.Fatalf("got %v", err)
	}
}

func TestProbeRudeRejection(t *testing.T) {
	addr := fakeSocket(t, func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte("Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"))
	})
	err := freeswitch.Probe(context.Background(), addr, "ClueCon", time.Second)
	if err == nil || !strings.Contains(err.Error(), "rude-rejection") {
		t.Fatalf("got %v", err)
	}
}
