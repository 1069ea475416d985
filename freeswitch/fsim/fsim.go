// Package fsim is a simulated FreeSWITCH event socket for tests and demos (docs/event-socket.md §5): it speaks
// the wire protocol of docs/event-socket.md §2 over TCP, runs originates with scripted fates, bridges, kills,
// transfers and parks channels as FreeSWITCH 1.11.1 does in ../testdata/esl-captures, emits the
// events of docs/event-socket.md §3 with a monotonic Event-Sequence, runs on a real or virtual clock, and
// injects the faults docs/event-socket.md §5 lists. Real FreeSWITCH is the reference: where they differ, the
// simulator is wrong.
//
// Behaviours of the real switch it reproduces (captures 09 to 13, the lab README):
//   - An originate returns (BACKGROUND_JOB +OK, then its application runs) OriginateReturn
//     after the leg's CHANNEL_ANSWER. A uuid_bridge or uuid_transfer of the leg before that
//     makes the originate answer -ERR ORIGINATOR_CANCEL while the leg lives on.
//   - A far end that answers and hangs up at the same instant (Fate.HangupAtAnswer) ends the
//     call before its originate returns: -ERR NORMAL_CLEARING after the hangup events.
//   - Agent rooms: the conference application (`&conference(ROOM@PROFILE)`, or `conference:`
//     in an inline dialplan, from an originate or a uuid_transfer) makes and joins a room,
//     with mod_conference's CUSTOM conference::maintenance events (conference-create,
//     add-member, del-member, conference-destroy) sent to the sessions subscribed to that
//     subclass, with the real member header set (captures 11, 12); a member's conference_name
//     channel variable is the room's name, as uuid_getvar reads it; Room and Members tell who
//     is where.
//   - The uuid_bridge hazard: a leg that hangs up while a uuid_bridge is being set up
//     (BridgeSetup) takes the other leg down with DESTINATION_OUT_OF_ORDER.
//   - `show channels` lags the channels' creation by ShowChannelsLag; uuid_exists does not.
//   - Every dialplan application ends with CHANNEL_EXECUTE_COMPLETE (captures 03, 05, 14): at
//     its end, when a transfer or a bridge interrupts it, or after CHANNEL_HANGUP (and the
//     del-member) when the leg hangs up; a uuid_broadcast's playback ends with one too.
//   - Answer analysis (capture 14, analysis.go): avmd_start / avmd_stop and `avmd UUID stop`
//     (mod_avmd: CUSTOM avmd::beep, twice, 80 ms after a machine's beep starts),
//     wait_for_silence, detect_audio, detect_silence and a community mod_amd's `amd`, each
//     computing its verdict from the fate's sound (Fate.Voice) as the switch's code would.
//   - Recording (record.go): uuid_record start / stop with RECORD_START and RECORD_STOP and a
//     silent 8 kHz WAV file as long as the recording, in directories made as needed; other
//     formats are refused as the lab switch refuses an mp3.
//   - The agent's desk (captures 16 to 19, docs/event-socket.md §4.7): legs moved from room to
//     room keep their Member-ID; a room left empty is destroyed 20 ms later; its hold music is
//     the conference_moh_sound of the member that made it (HoldMusic); `conference NAME list`
//     answers in the real format; a loopback dial string whose extension is an inline dialplan
//     (loopback/conference:ROOM@PROFILE/default/inline) makes a pair whose b leg runs it, and
//     the pair's halves end together as on the lab switch (loopback.go, LoopbackPeer).
//
// It models one leg per originate, as a SIP gateway gives; the loopback endpoint of the
// captures adds a second "-b" leg per call, which the simulator does not invent, but for the
// inline pairs above. Conference rooms have no sound: no play-file, floor-change or hold music
// events, no talking flag.
package fsim

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Options configure a simulated switch. The zero value is a switch on the real clock whose
// every call answers after 1 s and hangs up after 10 s, with HEARTBEAT every 20 s.
type Options struct {
	Password  string        // default ClueCon
	Script    Script        // the fate of each originate
	Clock     Clock         // default RealClock()
	Heartbeat time.Duration // HEARTBEAT interval (default 20 s; negative: none)
	Hostname  string        // FreeSWITCH-Hostname and global_getvar hostname (default fsim)
	// Playback is how long a message played by uuid_transfer or uuid_broadcast lasts.
	Playback time.Duration // default 500 ms
	// OriginateReturn is how long after a leg's CHANNEL_ANSWER its `bgapi originate` returns
	// (BACKGROUND_JOB +OK, then the application starts): about 20 ms on the lab switch under load
	// (captures 09, 11). A uuid_bridge or uuid_transfer of the leg before that makes the job
	// answer -ERR ORIGINATOR_CANCEL while the leg lives on. Default 20 ms; negative: at once.
	OriginateReturn time.Duration
	// BridgeSetup is how long a uuid_bridge takes to join its legs on the real switch (capture
	// 09: CHANNEL_BRIDGE 40 ms after the reply). The simulator joins them at once, but a leg
	// whose far end hangs up within this window of the command is no longer ready when the
	// bridge is set up, and the switch hangs up the other leg with DESTINATION_OUT_OF_ORDER
	// (uuid_bridge_on_soft_execute, src/switch_ivr_bridge.c). Default 40 ms; negative: never.
	BridgeSetup time.Duration
	// ShowChannelsLag hides channels younger than this from `show channels` and `show calls`:
	// the real switch reads them from a core database written asynchronously, while
	// uuid_exists is immediate. Default 0: listed at once.
	ShowChannelsLag time.Duration
	// UnsequencedFrames makes the legs' audio frames carry no sequence number, as the lab
	// switch's loopback legs do: wait_for_silence then hears nothing and ends at its timeout
	// with 0 listen hits whoever answers (capture 14). Default false: SIP legs, whose RTP
	// frames are numbered.
	UnsequencedFrames bool
}

// Server is one simulated switch.
type Server struct {
	o        Options
	coreUUID string

	ln net.Listener
	wg sync.WaitGroup // accept loop and sessions

	mu      sync.Mutex // the switch: channels, sessions, sequence, record, timers
	conns   map[*session]bool
	chans   map[string]*channel
	seq     uint64
	created uint64 // channels since startup
	history []ChannelRecord
	muted   bool // events are being lost (Vanish)
	record  []string
	closed  bool
	split   bool // fault: frames written in small pieces
	cond    *sync.Cond
	timers  map[*timer]bool
	pending sync.WaitGroup // timer callbacks scheduled or running
	started time.Time
	rooms   map[string]*room // conferences by name
	members int              // conference member ids given since startup
}

type timer struct{ stop func() bool }

// New builds a server; Start listens.
func New(o Options) *Server {
	if o.Password == "" {
		o.Password = "ClueCon"
	}
	if o.Script == nil {
		o.Script = Answering(time.Second, 10*time.Second)
	}
	if o.Clock == nil {
		o.Clock = RealClock()
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 20 * time.Second
	}
	if o.Hostname == "" {
		o.Hostname = "fsim"
	}
	if o.Playback <= 0 {
		o.Playback = 500 * time.Millisecond
	}
	if o.OriginateReturn == 0 {
		o.OriginateReturn = 20 * time.Millisecond
	}
	if o.BridgeSetup == 0 {
		o.BridgeSetup = 40 * time.Millisecond
	}
	s := &Server{o: o, coreUUID: newUUID(), conns: map[*session]bool{}, chans: map[string]*channel{},
		timers: map[*timer]bool{}, rooms: map[string]*room{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves until Stop.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fsim listen: %w", err)
	}
	s.ln = ln
	s.mu.Lock()
	s.started = s.o.Clock.Now()
	if s.o.Heartbeat > 0 {
		s.afterLocked(s.o.Heartbeat, s.heartbeatLocked)
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept()
	return nil
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &session{srv: s, nc: nc}
		s.mu.Lock()
		if s.closed { // accepted while Stop ran: Stop will not see it, so close it here
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			c.writeLoop()
		}()
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop closes every connection, cancels pending timers and waits for every goroutine.
func (s *Server) Stop() {
	s.mu.Lock()
	s.closed = true
	for t := range s.timers {
		if t.stop() {
			s.pending.Done()
		}
	}
	s.timers = map[*timer]bool{}
	for c := range s.conns {
		c.closed = true
		c.nc.Close()
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.wg.Wait()
	s.pending.Wait()
}

// Commands is every command received after authentication, in order, lines joined by "\n".
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.record...)
}

// ChannelRecord is one channel's life, for assertions over a whole run.
type ChannelRecord struct {
	UUID, Dial     string
	Created, Ended time.Time // Ended is zero while the channel is up
	Answered       time.Time // when CHANNEL_ANSWER was sent
	Bridged        time.Time // when the first uuid_bridge naming it, or uuid_transfer moving it into a room, arrived
	Cause          string
	JobResult      string // the originate's BACKGROUND_JOB body, e.g. "-ERR ORIGINATOR_CANCEL"
}

// History is every channel created since startup, ended or not, in order of creation.
func (s *Server) History() []ChannelRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChannelRecord(nil), s.history...)
}

// Channels is the UUIDs of the channels that exist now.
func (s *Server) Channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.chans))
	for id := range s.chans {
		out = append(out, id)
	}
	return out
}

// afterLocked runs fn under s.mu after d, unless the server stops first. Caller holds s.mu.
func (s *Server) afterLocked(d time.Duration, fn func()) *timer {
	if s.closed {
		return &timer{stop: func() bool { return false }}
	}
	t := &timer{}
	s.pending.Add(1)
	t.stop = s.o.Clock.AfterFunc(d, func() {
		defer s.pending.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.timers[t] {
			return // stopped after it fired
		}
		delete(s.timers, t)
		if !s.closed {
			fn()
		}
	})
	s.timers[t] = true
	return t
}

// cancelLocked stops a timer set by afterLocked. Caller holds s.mu.
func (s *Server) cancelLocked(t *timer) {
	if t == nil || !s.timers[t] {
		return
	}
	delete(s.timers, t)
	if t.stop() {
		s.pending.Done()
	}
}

func (s *Server) heartbeatLocked() {
	up := s.o.Clock.Now().Sub(s.started)
	s.emitLocked("HEARTBEAT", [][2]string{{"Event-Info", "System Ready"}, {"Up-Time", uptime(up)},
		{"FreeSWITCH-Version", "1.11.1-fsim~64bit"}, {"Uptime-msec", fmt.Sprint(up.Milliseconds())},
		{"Session-Count", fmt.Sprint(len(s.chans))}, {"Max-Sessions", "2000"}}, "")
	s.afterLocked(s.o.Heartbeat, s.heartbeatLocked)
}

func uptime(d time.Duration) string {
	return fmt.Sprintf("0 years, %d days, %d hours, %d minutes, %d seconds, %d milliseconds, 0 microseconds",
		int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60, int(d.Seconds())%60, d.Milliseconds()%1000)
}

// emitLocked sends an event to every session subscribed to it. Caller holds s.mu, so events leave
// in the order the switch produced them and Event-Sequence grows monotonically.
func (s *Server) emitLocked(name string, fields [][2]string, body string) {
	s.emitEventLocked(name, "", fields, body)
}

// emitCustomLocked sends a CUSTOM event of a subclass to the sessions subscribed to that subclass.
func (s *Server) emitCustomLocked(subclass string, fields [][2]string) {
	s.emitEventLocked("CUSTOM", subclass, fields, "")
}

func (s *Server) emitEventLocked(name, subclass string, fields [][2]string, body string) {
	s.seq++
	if s.muted {
		return
	}
	var payload string
	for c := range s.conns {
		if c.subscribed(name, subclass) {
			if payload == "" {
				payload = s.eventPayload(name, subclass, s.seq, fields, body)
			}
			c.queueLocked("Content-Length: " + fmt.Sprint(len(payload)) + "\nContent-Type: text/event-plain\n\n" + payload)
		}
	}
}

func (s *Server) eventPayload(name, subclass string, seq uint64, fields [][2]string, body string) string {
	now := s.o.Clock.Now()
	var b strings.Builder
	b.Grow(2048)
	line := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(encode(v))
		b.WriteByte('\n')
	}
	if subclass != "" {
		line("Event-Subclass", subclass) // before Event-Name, as 1.11.1 writes it (capture 11)
	}
	line("Event-Name", name)
	line("Core-UUID", s.coreUUID)
	line("FreeSWITCH-Hostname", s.o.Hostname)
	line("FreeSWITCH-Switchname", s.o.Hostname)
	line("FreeSWITCH-IPv4", "127.0.0.1")
	line("FreeSWITCH-IPv6", "::1")
	line("Event-Date-Local", now.Format("2006-01-02 15:04:05"))
	line("Event-Date-GMT", now.UTC().Format(time.RFC1123))
	line("Event-Date-Timestamp", fmt.Sprint(now.UnixMicro()))
	line("Event-Calling-File", "fsim.go")
	line("Event-Calling-Function", "emit")
	line("Event-Calling-Line-Number", "1")
	line("Event-Sequence", fmt.Sprint(seq))
	for _, f := range fields {
		line(f[0], f[1])
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\n\n%s", len(body), body)
	} else {
		b.WriteByte('\n')
	}
	return b.String()
}

// encode is FreeSWITCH's partial URL encoding of event values: , / ( ) . - _ stay as they are.
func encode(v string) string {
	clean := true
	for i := 0; i < len(v) && clean; i++ {
		clean = safe(v[i])
	}
	if clean {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; safe(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func safe(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(",/().-_", c) >= 0
}

// session is one client connection: a reader that runs commands and a writer that drains the
// frames queued for it, so a slow client never holds the switch.
type session struct {
	srv    *Server
	nc     net.Conn
	authed bool // reader goroutine only

	// guarded by srv.mu
	events  map[string]bool
	classes map[string]bool // subclasses of CUSTOM subscribed to
	all     bool
	out     []string
	closed  bool
	ending  bool // close once the queue is written (disconnect)
	stalled bool // fault: neither read nor write until Resume
}

// subscribed is mod_event_socket's filter: ALL takes everything; a CUSTOM event with a
// subclass goes only to sessions that named CUSTOM and that subclass.
func (c *session) subscribed(name, subclass string) bool {
	if c.all {
		return true
	}
	return c.events[name] && (subclass == "" || c.classes[subclass])
}

// queueLocked adds a frame for the writer. Caller holds srv.mu.
func (c *session) queueLocked(frame string) {
	if c.closed || c.ending {
		return
	}
	c.out = append(c.out, frame)
	c.srv.cond.Broadcast()
}

// writeLoop owns the socket's writes and its close.
func (c *session) writeLoop() {
	s := c.srv
	defer func() {
		c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		c.closed = true
		s.mu.Unlock()
	}()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		s.mu.Lock()
		for !c.closed && (len(c.out) == 0 && !c.ending || c.stalled) {
			s.cond.Wait()
		}
		if c.closed {
			s.mu.Unlock()
			return
		}
		frames, split, ending := c.out, s.split, c.ending
		c.out = nil
		s.mu.Unlock()
		for _, f := range frames {
			if split {
				// A frame in pieces of 1 to 7 bytes, each its own write: the reader must
				// reassemble frames whatever the segmenting.
				for i := 0; i < len(f); {
					n := min(len(f)-i, 1+i%7)
					if _, err := c.nc.Write([]byte(f[i : i+n])); err != nil {
						return
					}
					i += n
				}
				continue
			}
			if _, err := w.WriteString(f); err != nil {
				return
			}
		}
		if err := w.Flush(); err != nil {
			return
		}
		if ending && len(frames) == 0 {
			return // the goodbye is written: the switch closes the socket
		}
	}
}

// serve reads and runs commands until the client leaves or the session is told to end.
func (c *session) serve() {
	s := c.srv
	r := bufio.NewReader(c.nc)
	s.mu.Lock()
	c.queueLocked("Content-Type: auth/request\n\n")
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if !c.ending {
			c.closed = true
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	for {
		lines, err := readCommand(r)
		if err != nil {
			return
		}
		if len(lines) == 0 {
			continue
		}
		s.mu.Lock()
		for c.stalled && !c.closed {
			s.cond.Wait()
		}
		if c.closed {
			s.mu.Unlock()
			return
		}
		if !c.handleLocked(lines) {
			c.ending = true // the writer sends what is queued, then closes
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
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
