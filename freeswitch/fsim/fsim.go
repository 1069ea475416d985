// Package fsim is a simulated FreeSWITCH event socket for tests and demos (ESL.md §5): it speaks
// the wire protocol of ESL.md §2 over TCP, runs originates with scripted fates and emits the
// events of ESL.md §3. Real FreeSWITCH is the reference: where they differ, the simulator is
// wrong. This first slice runs on real time; a virtual clock and fault injection come next.
package fsim

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Fate is what happens to one originate.
type Fate struct {
	Answer bool
	Ring   time.Duration // until answer, or until the failure
	Talk   time.Duration // answered calls hang up by themselves after this; 0 stays up
	Cause  string        // failure cause when not answered, e.g. USER_BUSY (default NO_ANSWER)
}

// Script decides the fate of a dial string.
type Script func(dialString string) Fate

// Answering is the default script: every call answers after ring and hangs up after talk.
func Answering(ring, talk time.Duration) Script {
	return func(string) Fate { return Fate{Answer: true, Ring: ring, Talk: talk} }
}

// Server is one simulated switch.
type Server struct {
	password string
	script   Script
	coreUUID string

	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[*session]bool
	chans  map[string]*channel
	timers map[*time.Timer]bool
	seq    uint64
	record []string
	closed bool
}

type channel struct {
	uuid, dial string
	answered   bool
}

// New builds a server; Start listens.
func New(password string, script Script) *Server {
	return &Server{password: password, script: script, coreUUID: "5ca1ab1e-0000-4000-8000-00000000f51e",
		conns: map[*session]bool{}, chans: map[string]*channel{}, timers: map[*time.Timer]bool{}}
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves until Stop.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fsim listen: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			ss := &session{srv: s, nc: nc}
			s.mu.Lock()
			if s.closed { // accepted while Stop ran: Stop will not see it, so close it here
				s.mu.Unlock()
				nc.Close()
				return
			}
			s.conns[ss] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				ss.serve()
				s.mu.Lock()
				delete(s.conns, ss)
				s.mu.Unlock()
			}()
		}
	}()
	return nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop closes every connection, cancels pending call timers and waits for the goroutines.
func (s *Server) Stop() {
	s.mu.Lock()
	s.closed = true
	for t := range s.timers {
		t.Stop()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.wg.Wait()
}

// Commands is every command received after authentication, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.record...)
}

// after runs fn after d unless the server stops first.
func (s *Server) after(d time.Duration, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, t)
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			fn()
		}
	})
	s.timers[t] = true
}

// broadcast sends an event to every subscribed session, with a monotonic Event-Sequence.
func (s *Server) broadcast(name string, fields [][2]string, body string) {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	targets := make([]*session, 0, len(s.conns))
	for c := range s.conns {
		targets = append(targets, c)
	}
	s.mu.Unlock()
	payload := s.eventPayload(name, seq, fields, body)
	for _, c := range targets {
		if c.subscribed(name) {
			c.writeEvent(payload)
		}
	}
}

func (s *Server) eventPayload(name string, seq uint64, fields [][2]string, body string) string {
	now := time.Now()
	var b strings.Builder
	head := [][2]string{{"Event-Name", name}, {"Core-UUID", s.coreUUID}, {"FreeSWITCH-Hostname", "fsim"},
		{"Event-Date-Local", now.Format("2006-01-02 15:04:05")}, {"Event-Date-Timestamp", fmt.Sprint(now.UnixMicro())},
		{"Event-Sequence", fmt.Sprint(seq)}}
	for _, f := range append(head, fields...) {
		fmt.Fprintf(&b, "%s: %s\n", f[0], encode(f[1]))
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\n\n%s", len(body), body)
	} else {
		b.WriteString("\n")
	}
	return b.String()
}

// encode is FreeSWITCH's partial URL encoding of event values: , / ( ) . - _ stay as they are.
func encode(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte(",/().-_", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// session is one client connection.
type session struct {
	srv    *Server
	nc     net.Conn
	wmu    sync.Mutex
	authed bool
	events map[string]bool
	all    bool
	smu    sync.Mutex
}

func (c *session) subscribed(name string) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.all || c.events[name]
}

func (c *session) write(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _ = io.WriteString(c.nc, s)
}

func (c *session) writeEvent(payload string) {
	c.write(fmt.Sprintf("Content-Length: %d\nContent-Type: text/event-plain\n\n%s", len(payload), payload))
}

func (c *session) reply(text string, extra ...string) {
	s := "Content-Type: command/reply\nReply-Text: " + text + "\n"
	for _, e := range extra {
		s += e + "\n"
	}
	c.write(s + "\n")
}

func (c *session) apiResponse(body string) {
	c.write(fmt.Sprintf("Content-Type: api/response\nContent-Length: %d\n\n%s", len(body), body))
}

func (c *session) serve() {
	defer c.nc.Close()
	r := bufio.NewReader(c.nc)
	c.write("Content-Type: auth/request\n\n")
	for {
		lines, err := readCommand(r)
		if err != nil {
			return
		}
		if len(lines) == 0 {
			continue
		}
		if !c.handle(context.Background(), lines) {
			return
		}
	}
}

func readCommand(r *bufio.Reader) ([]string, error) {
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			return lines, nil
		}
		lines = append(lines, l)
	}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
