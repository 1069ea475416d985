//go:build lab

package labtest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// ObserverEvents is what the Observer subscribes to: enough to follow every leg's life, the
// agent rooms (conference add-member / del-member), uuid_bridge calls, the applications a leg
// runs (CHANNEL_EXECUTE: playback of a voicemail message) and mod_avmd's beeps.
const ObserverEvents = "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CUSTOM conference::maintenance avmd::beep"

// AppRun is one application a leg started (CHANNEL_EXECUTE), at the switch's time.
type AppRun struct {
	Name, Data string
	At         time.Time
}

// Join is one period a leg spent with someone: in a conference room (add-member … del-member)
// or bridged to another leg (CHANNEL_BRIDGE … CHANNEL_UNBRIDGE). Times are the switch's
// Event-Date-Timestamp.
type Join struct {
	Kind   string // "room" or "bridge"
	Room   string // the room's Conference-Name (Kind "room")
	Peer   string // the other leg's UUID (Kind "bridge")
	At     time.Time
	Left   time.Time // zero while joined
	LeftBy string    // "del-member", "unbridge" or "hangup"
}

// Leg is what the switch said about one channel.
type Leg struct {
	UUID        string
	ChannelName string // loopback/<dest>-a or -b
	// CallerID is Caller-Caller-ID-Number at creation: the originate's caller ID, which the
	// loopback b-leg inherits (a loopback a-leg's changes to the context's name once answered).
	CallerID string
	Dest     string // Caller-Destination-Number
	// BLeg: the far half of a loopback pair (Channel-Name ends in -b). Only a-legs are the calls
	// the engine placed; b-legs run the lab's dialplan.
	BLeg bool
	// FromStart: the observer saw the leg's CHANNEL_CREATE. A leg first seen later was created
	// before the observer subscribed (an earlier test's): comparisons leave it out.
	FromStart bool
	Created   time.Time
	Answered  time.Time
	Hangup    time.Time
	Cause     string
	Joins     []Join
	// Beeps are when mod_avmd reported a voicemail beep on the leg; Apps the applications it ran.
	Beeps []time.Time
	Apps  []AppRun
}

// Up: no hangup seen yet.
func (l Leg) Up() bool { return l.Hangup.IsZero() }

// Role is "agent", "supervisor" or "customer", from the destination the leg dialed.
func (l Leg) Role() string {
	switch {
	case strings.HasPrefix(l.Dest, "agent-"):
		return "agent"
	case strings.HasPrefix(l.Dest, "supervisor-"):
		return "supervisor"
	}
	return "customer"
}

// AgentID is N of an agent-N leg, or 0.
func (l Leg) AgentID() int {
	if l.Role() != "agent" {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(l.Dest, "agent-"))
	return n
}

// FirstJoin is the leg's first join with someone else: a room other than its own (an agent's
// room is named by its own UUID) or a bridge.
func (l Leg) FirstJoin() (Join, bool) {
	for _, j := range l.Joins {
		if j.Kind == "room" && j.Room == l.UUID {
			continue
		}
		return j, true
	}
	return Join{}, false
}

// Joined: the leg was with an agent (customer) or a customer (agent) at some time.
func (l Leg) Joined() bool { _, ok := l.FirstJoin(); return ok }

// TalkEnd is when the leg's first join ended: its del-member / unbridge, or its hangup.
func (l Leg) TalkEnd() time.Time {
	j, ok := l.FirstJoin()
	if !ok {
		return time.Time{}
	}
	end := j.Left
	if end.IsZero() || (!l.Hangup.IsZero() && l.Hangup.Before(end)) {
		end = l.Hangup
	}
	return end
}

// Talk is the switch's talk time of a customer leg: from its first join to its end.
func (l Leg) Talk() time.Duration {
	j, ok := l.FirstJoin()
	if !ok || l.TalkEnd().IsZero() {
		return 0
	}
	return l.TalkEnd().Sub(j.At)
}

func (l Leg) String() string {
	s := fmt.Sprintf("%s %s created %s", l.UUID, l.ChannelName, l.Created.Format("15:04:05.000"))
	if !l.Answered.IsZero() {
		s += " answered +" + l.Answered.Sub(l.Created).Round(time.Millisecond).String()
	}
	for _, j := range l.Joins {
		with := j.Room
		if j.Kind == "bridge" {
			with = j.Peer
		}
		s += fmt.Sprintf(" %s %s +%v", j.Kind, with, j.At.Sub(l.Created).Round(time.Millisecond))
		if !j.Left.IsZero() {
			s += fmt.Sprintf("..+%v(%s)", j.Left.Sub(l.Created).Round(time.Millisecond), j.LeftBy)
		}
	}
	if !l.Hangup.IsZero() {
		s += fmt.Sprintf(" hangup +%v %s", l.Hangup.Sub(l.Created).Round(time.Millisecond), l.Cause)
	}
	return s
}

// Observer follows the lab switch on an event-socket connection of its own, independent of
// the engine, and keeps every channel's story (Leg), keyed by UUID.
type Observer struct {
	addr, password string

	events *eslConn

	cmdMu sync.Mutex
	cmd   *eslConn // api commands (show channels, uuid_exists), redialed when it fails

	mu     sync.Mutex
	legs   map[string]*Leg
	order  []string
	count  int
	errors []string
	only   map[string]bool // caller IDs of the legs that count (nil: all)
}

// Only restricts the observer's answers (Legs, ALegs, Leg, StillUp) to legs created with one of
// these caller IDs, so others' calls on a shared lab switch are left out. It applies to the legs
// already seen too.
func (o *Observer) Only(callerIDs ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.only = map[string]bool{}
	for _, id := range callerIDs {
		o.only[id] = true
	}
}

// counts: the leg passes the Only filter. Called with o.mu held.
func (o *Observer) counts(l *Leg) bool { return o.only == nil || o.only[l.CallerID] }

// NewObserver connects to the lab switch and subscribes; it fails when the switch does not
// answer.
func NewObserver(addr, password string) (*Observer, error) {
	o := &Observer{addr: addr, password: password, legs: map[string]*Leg{}}
	ev, err := dialESL(addr, password, 5*time.Second, o.handle)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := ev.command(ctx, "event plain "+ObserverEvents)
	if err != nil || !strings.HasPrefix(f.Header.Get("Reply-Text"), "+OK") {
		ev.Close()
		return nil, fmt.Errorf("subscribe on %s: %v %v", addr, err, f)
	}
	o.events = ev
	return o, nil
}

// Close ends both connections.
func (o *Observer) Close() {
	o.events.Close()
	o.cmdMu.Lock()
	if o.cmd != nil {
		o.cmd.Close()
		o.cmd = nil
	}
	o.cmdMu.Unlock()
}

// Err is why the event connection ended, or nil while it runs.
func (o *Observer) Err() error {
	select {
	case <-o.events.done:
		return o.events.closedErr()
	default:
		return nil
	}
}

func eventTime(e *wire.Event) time.Time {
	if us, err := strconv.ParseInt(e.Header.Get("Event-Date-Timestamp"), 10, 64); err == nil && us > 0 {
		return time.UnixMicro(us)
	}
	return e.Received
}

// leg returns the leg of id, creating it for a channel first seen after its CHANNEL_CREATE.
func (o *Observer) leg(id string, e *wire.Event) *Leg {
	l := o.legs[id]
	if l == nil {
		l = &Leg{UUID: id}
		o.legs[id] = l
		o.order = append(o.order, id)
	}
	if l.ChannelName == "" && e != nil && e.Header.Get("Unique-ID") == id {
		l.ChannelName = e.Header.Get("Channel-Name")
		l.Dest = e.Header.Get("Caller-Destination-Number")
		l.BLeg = strings.HasSuffix(l.ChannelName, "-b")
	}
	return l
}

func (o *Observer) handle(e *wire.Event) {
	at := eventTime(e)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.count++
	id := e.UniqueID()
	switch e.Name() {
	case "CHANNEL_CREATE":
		l := o.leg(id, e)
		l.Created, l.FromStart = at, true
		l.CallerID = e.Header.Get("Caller-Caller-ID-Number")
	case "CHANNEL_ANSWER":
		if l := o.leg(id, e); l.Answered.IsZero() {
			l.Answered = at
		}
	case "CHANNEL_BRIDGE":
		a, b := e.Header.Get("Bridge-A-Unique-ID"), e.Header.Get("Bridge-B-Unique-ID")
		if a == "" || b == "" {
			o.errorf("CHANNEL_BRIDGE of %s without both Bridge-A/B-Unique-ID", id)
			return
		}
		o.leg(a, e).join(Join{Kind: "bridge", Peer: b, At: at})
		o.leg(b, e).join(Join{Kind: "bridge", Peer: a, At: at})
	case "CHANNEL_UNBRIDGE":
		a, b := e.Header.Get("Bridge-A-Unique-ID"), e.Header.Get("Bridge-B-Unique-ID")
		if a == "" {
			a = id
		}
		if b == "" {
			b = e.Header.Get("Other-Leg-Unique-ID")
		}
		o.leg(a, e).leave("bridge", b, at, "unbridge")
		if b != "" {
			o.leg(b, e).leave("bridge", a, at, "unbridge")
		}
	case "CHANNEL_HANGUP_COMPLETE":
		l := o.leg(id, e)
		if l.Hangup.IsZero() {
			l.Hangup = at
			l.Cause = e.Header.Get("Hangup-Cause")
		}
		if l.Created.IsZero() {
			// Created before the observer subscribed: the event still says when.
			if us, err := strconv.ParseInt(e.Header.Get("Caller-Channel-Created-Time"), 10, 64); err == nil && us > 0 {
				l.Created = time.UnixMicro(us)
			}
		}
		for i := range l.Joins {
			if l.Joins[i].Left.IsZero() {
				l.Joins[i].Left, l.Joins[i].LeftBy = at, "hangup"
			}
		}
	case "CHANNEL_EXECUTE":
		l := o.leg(id, e)
		l.Apps = append(l.Apps, AppRun{Name: e.Header.Get("Application"), Data: e.Header.Get("Application-Data"), At: at})
	case "CUSTOM":
		if e.Header.Get("Event-Subclass") == "avmd::beep" && id != "" {
			l := o.leg(id, nil)
			l.Beeps = append(l.Beeps, at)
			return
		}
		if e.Header.Get("Event-Subclass") != "conference::maintenance" || id == "" {
			return
		}
		room := e.Header.Get("Conference-Name")
		switch e.Header.Get("Action") {
		case "add-member":
			o.leg(id, nil).join(Join{Kind: "room", Room: room, At: at})
		case "del-member":
			o.leg(id, nil).leave("room", room, at, "del-member")
		}
	}
}

func (l *Leg) join(j Join) { l.Joins = append(l.Joins, j) }

// leave ends the latest open (or hangup-closed, when this is earlier) join with that room or peer.
func (l *Leg) leave(kind, with string, at time.Time, by string) {
	for i := len(l.Joins) - 1; i >= 0; i-- {
		j := &l.Joins[i]
		if j.Kind != kind || (kind == "room" && j.Room != with) || (kind == "bridge" && with != "" && j.Peer != with) {
			continue
		}
		if j.Left.IsZero() || (j.LeftBy == "hangup" && at.Before(j.Left)) {
			j.Left, j.LeftBy = at, by
		}
		return
	}
}

func (o *Observer) errorf(format string, args ...any) {
	o.errors = append(o.errors, fmt.Sprintf(format, args...))
}

// Anomalies are events the observer could not make sense of.
func (o *Observer) Anomalies() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.errors...)
}

// Events is how many events the observer has read.
func (o *Observer) Events() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count
}

// Legs is a copy of every leg seen, in the order first seen.
func (o *Observer) Legs() []Leg {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Leg, 0, len(o.order))
	for _, id := range o.order {
		if !o.counts(o.legs[id]) {
			continue
		}
		l := *o.legs[id]
		l.Joins = append([]Join(nil), l.Joins...)
		out = append(out, l)
	}
	return out
}

// Leg is a copy of one leg.
func (o *Observer) Leg(id string) (Leg, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l, ok := o.legs[id]
	if !ok || !o.counts(l) {
		return Leg{}, false
	}
	c := *l
	c.Joins = append([]Join(nil), l.Joins...)
	return c, true
}

// ALegs are the legs placed since the observer subscribed (loopback a-legs), of a role ("" for
// all).
func (o *Observer) ALegs(role string) []Leg {
	var out []Leg
	for _, l := range o.Legs() {
		if l.FromStart && !l.BLeg && l.ChannelName != "" && (role == "" || l.Role() == role) {
			out = append(out, l)
		}
	}
	return out
}

// WaitFor polls the observer's legs until cond holds or ctx ends.
func (o *Observer) WaitFor(ctx context.Context, what string, cond func(o *Observer) bool) error {
	for !cond(o) {
		if err := o.Err(); err != nil {
			return fmt.Errorf("waiting for %s: observer connection ended: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// API runs one api command on the observer's command connection (redialed when needed).
func (o *Observer) API(ctx context.Context, cmd string) (string, error) {
	o.cmdMu.Lock()
	defer o.cmdMu.Unlock()
	if o.cmd != nil {
		select {
		case <-o.cmd.done:
			o.cmd = nil
		default:
		}
	}
	if o.cmd == nil {
		c, err := dialESL(o.addr, o.password, 5*time.Second, nil)
		if err != nil {
			return "", err
		}
		o.cmd = c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return o.cmd.api(ctx, cmd)
}

// Command sends one command line (bgapi …) on the observer's command connection and returns
// its Reply-Text.
func (o *Observer) Command(ctx context.Context, line string) (string, error) {
	if _, err := o.API(ctx, "status"); err != nil { // dials the connection when needed
		return "", err
	}
	o.cmdMu.Lock()
	defer o.cmdMu.Unlock()
	if o.cmd == nil {
		return "", errESLClosed
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	f, err := o.cmd.command(ctx, line)
	if err != nil {
		return "", err
	}
	return f.Header.Get("Reply-Text"), nil
}

// ShowChannels is `show channels as json`: UUID → channel name. The real switch fills it from
// its core database asynchronously: a fresh channel is missing for up to a few hundred
// milliseconds and a finished one lingers as long (see the lab notes in doc.go).
func (o *Observer) ShowChannels(ctx context.Context) (map[string]string, error) {
	body, err := o.API(ctx, "show channels as json")
	if err != nil {
		return nil, err
	}
	var v struct {
		RowCount int                 `json:"row_count"`
		Rows     []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return nil, fmt.Errorf("show channels as json: %w: %.200q", err, body)
	}
	out := map[string]string{}
	for _, r := range v.Rows {
		out[r["uuid"]] = r["name"]
	}
	return out, nil
}

// Exists is `uuid_exists ID`, which the switch answers from its live sessions at once.
func (o *Observer) Exists(ctx context.Context, id string) (bool, error) {
	body, err := o.API(ctx, "uuid_exists "+id)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(body) == "true", nil
}

// UpLeg is a channel still up on the switch.
type UpLeg struct {
	UUID, Name string
	Leg        Leg  // the observer's story of it (empty when it never saw the channel)
	Listed     bool // in show channels
	Seen       bool // the observer saw it and no hangup yet
}

// StillUp lists the channels that are up: every channel `show channels` lists or the observer
// saw without a hangup, each confirmed with uuid_exists (show channels lags both ways). Under
// Only, channels the observer did not see created with those caller IDs are left out.
func (o *Observer) StillUp(ctx context.Context) ([]UpLeg, error) {
	listed, err := o.ShowChannels(ctx)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	filtered := o.only != nil
	o.mu.Unlock()
	cand := map[string]*UpLeg{}
	for id, name := range listed {
		if _, ours := o.Leg(id); filtered && !ours {
			continue
		}
		cand[id] = &UpLeg{UUID: id, Name: name, Listed: true}
	}
	for _, l := range o.Legs() {
		if l.Up() {
			u := cand[l.UUID]
			if u == nil {
				u = &UpLeg{UUID: l.UUID, Name: l.ChannelName}
				cand[l.UUID] = u
			}
			u.Seen = true
		}
	}
	var out []UpLeg
	for id, u := range cand {
		ok, err := o.Exists(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if l, seen := o.Leg(id); seen {
			u.Leg = l
		}
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
