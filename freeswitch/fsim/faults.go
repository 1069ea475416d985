package fsim

import (
	"fmt"
)

// Fault is a misbehaviour of the switch or the network (docs/event-socket.md §5).
type Fault string

const (
	// FaultClose drops every open connection without a word, as a crash or a cut cable does.
	FaultClose Fault = "close"
	// FaultDisconnectNotice sends text/disconnect-notice on every open connection and closes
	// it, as a switch shutting down does.
	FaultDisconnectNotice Fault = "disconnect-notice"
	// FaultStall keeps open connections up but answers nothing and sends nothing (no events,
	// no HEARTBEAT) until Resume: a hung switch or a dead peer behind a live NAT entry.
	// Connections made after the stall are served normally.
	FaultStall Fault = "stall"
	// FaultSplitFrames writes every frame from now on in pieces of 1 to 7 bytes, each its own
	// write, until Resume.
	FaultSplitFrames Fault = "split-frames"
	// FaultUnknownContent sends a log/data frame and a frame of an unknown Content-Type on every
	// open connection: eslgo's receive loop stops on them (docs/event-socket.md §1).
	FaultUnknownContent Fault = "unknown-content"
)

// Inject applies a fault to the connections open now.
func (s *Server) Inject(f Fault) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f {
	case FaultClose:
		for c := range s.conns {
			c.closed = true
			c.nc.Close()
		}
	case FaultDisconnectNotice:
		for c := range s.conns {
			if !c.ending {
				c.disconnectLocked()
				c.ending = true
			}
		}
	case FaultStall:
		// Sessions opened after the stall are served: only the open ones hang.
		for c := range s.conns {
			c.stalled = true
		}
	case FaultSplitFrames:
		s.split = true
	case FaultUnknownContent:
		const logLine = "2026-11-24 10:00:00.000000 [DEBUG] switch_core_session.c:1 fsim log line\n"
		for c := range s.conns {
			c.queueLocked(fmt.Sprintf("Content-Type: log/data\nContent-Length: %d\nLog-Level: 7\nText-Channel: 3\nLog-File: switch_core_session.c\nLog-Func: fsim\nLog-Line: 1\nUser-Data: \n\n%s", len(logLine), logLine))
			c.queueLocked("Content-Type: text/x-fsim-unknown\nContent-Length: 5\n\nhello")
		}
	default:
		return fmt.Errorf("fsim: unknown fault %q", f)
	}
	s.cond.Broadcast()
	return nil
}

// Resume ends a stall and split-frame writing.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.split = false
	for c := range s.conns {
		c.stalled = false
	}
	s.cond.Broadcast()
}

// Hangup ends a channel from the far end (a customer or an agent putting the phone down): the
// events are those of a remote hangup with cause. False when no such channel exists.
func (s *Server) Hangup(uuid, cause string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chans[uuid]
	return ch != nil && s.hangupLocked(ch, cause)
}

// Vanish ends a channel as Hangup does, but every event of its ending is lost on the way, as
// when the connection that would have carried them was down: only asking the switch
// (uuid_exists, show channels) tells that it is gone. False when no such channel exists.
func (s *Server) Vanish(uuid, cause string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chans[uuid]
	if ch == nil {
		return false
	}
	s.muted = true
	defer func() { s.muted = false }()
	return s.hangupLocked(ch, cause)
}

// Var is a channel variable as uuid_getvar would read it.
func (s *Server) Var(uuid, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.chans[uuid]; ch != nil {
		return ch.getVar(name)
	}
	return "", false
}

// StartLocal starts a switch on a free port of 127.0.0.1 (tests, benchmarks, the demo); the
// caller stops it.
func StartLocal(o Options) (*Server, error) {
	s := New(o)
	if err := s.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

// DTMF sends one DTMF event per digit on a channel, back to back, as a caller pressing keys
// quickly produces them. False when no such channel exists.
func (s *Server) DTMF(uuid, digits string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chans[uuid]
	if ch == nil {
		return false
	}
	for _, d := range digits {
		s.emitChannelLocked("DTMF", ch, [][2]string{{"DTMF-Digit", string(d)}, {"DTMF-Duration", "1600"}, {"DTMF-Source", "RTP"}})
	}
	return true
}
