//go:build lab

package labtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Who is in a room and who hears whom, asked of the lab switch itself (docs/event-socket.md
// "Hold, transfer and conference"), so a test of the agent's desk can check what the engine
// did to the calls and not only what it recorded.

// RoomMember is one line of `conference NAME list`:
// `ID;CHANNEL;UUID;CALLER-ID-NAME;CALLER-ID-NUMBER;FLAGS;VOLUME-IN;VOLUME-OUT;ENERGY`, the latest
// member to join first.
type RoomMember struct {
	ID      int    // Member-ID: a leg keeps it from room to room
	Channel string // e.g. loopback/agent-1-a
	UUID    string
	// CallerIDName and CallerIDNumber as the room sees them: a loopback a-leg's number is its
	// context's name (agents, customers) once answered; a loopback b-leg has no name.
	CallerIDName, CallerIDNumber string
	Flags                        []string // hear, speak, and floor for the member holding the floor
}

// Can tells whether the member has a flag: "hear", "speak", "floor".
func (m RoomMember) Can(flag string) bool { return slices.Contains(m.Flags, flag) }

// ErrNoRoom is what RoomMembers answers for a room the switch does not have (never made, or
// destroyed about 20 ms after its last member left).
var ErrNoRoom = errors.New("no such conference room")

// ParseRoomList reads the body of `api conference NAME list`. `-ERR Conference NAME not found`
// is ErrNoRoom; any other -ERR, or a line that is not nine fields, is an error.
func ParseRoomList(body string) ([]RoomMember, error) {
	if strings.HasPrefix(body, "-ERR Conference ") && strings.HasSuffix(strings.TrimSpace(body), " not found") {
		return nil, ErrNoRoom
	}
	if strings.HasPrefix(body, "-ERR") {
		return nil, fmt.Errorf("conference list: %s", strings.TrimSpace(body))
	}
	var out []RoomMember
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, ";")
		if len(f) != 9 {
			return nil, fmt.Errorf("conference list line %q: %d fields, want 9", line, len(f))
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("conference list line %q: member id: %w", line, err)
		}
		out = append(out, RoomMember{ID: id, Channel: f[1], UUID: f[2], CallerIDName: f[3], CallerIDNumber: f[4],
			Flags: strings.Split(f[5], "|")})
	}
	return out, nil
}

// Switch is a control connection of the tests' own to the lab switch, for questions about legs
// and rooms. Safe for concurrent use (one command on the wire at a time).
type Switch struct{ k *eslConn }

// DialSwitch connects to the lab switch (ESLAddr, ESLPassword) within 5 s.
func DialSwitch() (*Switch, error) {
	k, err := dialESL(ESLAddr(), ESLPassword(), 5*time.Second, nil)
	if err != nil {
		return nil, err
	}
	return &Switch{k: k}, nil
}

// Close ends the connection.
func (s *Switch) Close() { s.k.Close() }

// API runs one api command and returns its body.
func (s *Switch) API(ctx context.Context, cmd string) (string, error) { return s.k.api(ctx, cmd) }

// RoomMembers lists a room's members (room is NAME or NAME@PROFILE); ErrNoRoom when the switch
// has no such room.
func (s *Switch) RoomMembers(ctx context.Context, room string) ([]RoomMember, error) {
	name, _, _ := strings.Cut(room, "@")
	if name == "" || strings.ContainsAny(name, " \r\n") {
		return nil, fmt.Errorf("room name %q", name)
	}
	body, err := s.k.api(ctx, "conference "+name+" list")
	if err != nil {
		return nil, err
	}
	return ParseRoomList(body)
}

// InRoom is the UUIDs of a room's members, nil when the room does not exist.
func (s *Switch) InRoom(ctx context.Context, room string) ([]string, error) {
	members, err := s.RoomMembers(ctx, room)
	if errors.Is(err, ErrNoRoom) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.UUID
	}
	return out, nil
}

// LegAlive tells whether the switch has the channel (uuid_exists, which answers from the live
// sessions, unlike `show channels`).
func (s *Switch) LegAlive(ctx context.Context, uuid string) (bool, error) {
	body, err := s.k.api(ctx, "uuid_exists "+uuid)
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(body) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("uuid_exists %s: %q", uuid, body)
}

// RoomOf is the room (its name, without the profile) a leg is a member of now, "" when it is
// in none. conference_name stays on a leg that left its room, so the room's list must name it.
func (s *Switch) RoomOf(ctx context.Context, uuid string) (string, error) {
	name, err := s.k.api(ctx, "uuid_getvar "+uuid+" conference_name")
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(name, "-ERR") || name == "_undef_" || name == "" {
		return "", nil
	}
	in, err := s.InRoom(ctx, name)
	if err != nil || !slices.Contains(in, uuid) {
		return "", err
	}
	return name, nil
}

// HearEachOther tells whether two legs hear each other: both members of one room, or of two
// rooms joined by a loopback pair (one half a member of each room; other_loopback_leg_uuid names
// the other half).
func (s *Switch) HearEachOther(ctx context.Context, a, b string) (bool, error) {
	ra, err := s.RoomOf(ctx, a)
	if err != nil || ra == "" {
		return false, err
	}
	rb, err := s.RoomOf(ctx, b)
	if err != nil || rb == "" {
		return false, err
	}
	if ra == rb {
		return true, nil
	}
	inA, err := s.InRoom(ctx, ra)
	if err != nil {
		return false, err
	}
	inB, err := s.InRoom(ctx, rb)
	if err != nil {
		return false, err
	}
	for _, m := range inA {
		other, err := s.k.api(ctx, "uuid_getvar "+m+" other_loopback_leg_uuid")
		if err != nil {
			return false, err
		}
		if slices.Contains(inB, other) {
			return true, nil
		}
	}
	return false, nil
}
