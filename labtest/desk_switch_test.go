//go:build lab

package labtest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// The room helpers (rooms.go) against the lab switch, through the desk's moves as the engine
// sends them (docs/event-socket.md "Hold, transfer and conference"): a customer in agent 1's
// room, on hold in a room of its own, agent 2's room joined to agent 1's by a loopback pair, the
// customer moved into agent 2's room and the pair killed (its b leg ends with it).
func TestLabDeskRooms(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sw, err := DialSwitch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	var legs []string
	t.Cleanup(func() { // whatever happened, nothing of this test stays up on the shared switch
		for _, l := range legs {
			sw.API(context.Background(), "uuid_kill "+l)
		}
	})
	originate := func(id, vars, dial, app string) {
		t.Helper()
		legs = append(legs, id)
		body, err := sw.API(ctx, "originate {origination_uuid="+id+",origination_caller_id_number=0096"+vars+"}"+dial+" "+app)
		if err != nil || !strings.HasPrefix(body, "+OK ") {
			t.Fatalf("originate %s: %q %v", dial, body, err)
		}
	}
	api := func(cmd string) {
		t.Helper()
		if body, err := sw.API(ctx, cmd); err != nil || body != "+OK\n" {
			t.Fatalf("%s: %q %v", cmd, body, err)
		}
	}
	until := func(what string, cond func() (bool, error)) {
		t.Helper()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			ok, err := cond()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if ok {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: not within the test's minute", what)
			case <-tick.C:
			}
		}
	}
	roomIs := func(leg, room string) func() (bool, error) {
		return func() (bool, error) {
			r, err := sw.RoomOf(ctx, leg)
			return r == room, err
		}
	}
	hear := func(a, b string, want bool) {
		t.Helper()
		if got, err := sw.HearEachOther(ctx, a, b); err != nil || got != want {
			t.Fatalf("%s and %s hear each other: %v %v, want %v", a[:8], b[:8], got, err, want)
		}
	}
	move := func(leg, room string) {
		t.Helper()
		api("uuid_transfer " + leg + " 'm:^:conference:" + room + "@kakeru' inline")
		until(leg[:8]+" in "+room, roomIs(leg, room))
	}

	a1, a2, c, l := newUUID(), newUUID(), newUUID(), newUUID()
	originate(a1, ",conference_moh_sound=tone_stream://%(1000\\,4000\\,440);loops=-1", "loopback/agent-9601/agents", "&conference("+a1+"@kakeru)")
	originate(a2, "", "loopback/agent-9602/agents", "&conference("+a2+"@kakeru)")
	until("the agents in their rooms", func() (bool, error) {
		r1, err := sw.RoomOf(ctx, a1)
		if err != nil {
			return false, err
		}
		r2, err := sw.RoomOf(ctx, a2)
		return r1 == a1 && r2 == a2, err
	})
	hear(a1, a2, false)

	originate(c, ",conference_moh_sound=tone_stream://%(300\\,2700\\,523);loops=-1", "loopback/"+StaysUp(9601)+"/customers", "&park()")
	move(c, a1)
	hear(c, a1, true)
	members, err := sw.RoomMembers(ctx, a1+"@kakeru")
	if err != nil || len(members) != 2 || members[0].UUID != c || members[1].UUID != a1 || !members[0].Can("hear") || !members[0].Can("speak") {
		t.Fatalf("agent 1's room, the latest first: %+v %v", members, err)
	}
	id := members[0].ID

	move(c, c+"-hold") // hold: alone in a room of its own
	hear(c, a1, false)
	if in, err := sw.InRoom(ctx, c+"-hold"); err != nil || !slices.Equal(in, []string{c}) {
		t.Fatalf("the hold room: %v %v", in, err)
	}
	if members, err := sw.RoomMembers(ctx, c+"-hold"); err != nil || members[0].ID != id {
		t.Fatalf("the customer's Member-ID in the hold room: %+v %v, was %d", members, err, id)
	}

	// Consult agent 2: its room joined to agent 1's by a loopback pair.
	originate(l, "", "loopback/conference:"+a2+"@kakeru/default/inline", "&conference("+a1+"@kakeru)")
	until("the pair's a leg in agent 1's room", roomIs(l, a1))
	bleg, err := sw.API(ctx, "uuid_getvar "+l+" other_loopback_leg_uuid")
	if err != nil {
		t.Fatal(err)
	}
	legs = append(legs, bleg)
	until("the pair's b leg in agent 2's room", roomIs(bleg, a2))
	hear(a1, a2, true)
	hear(c, a2, false)

	// Finish: the customer into agent 2's room, the pair hung up; its b leg ends with it.
	move(c, a2)
	api("uuid_kill " + l + " NORMAL_CLEARING")
	until("the pair's b leg gone", func() (bool, error) {
		alive, err := sw.LegAlive(ctx, bleg)
		return !alive, err
	})
	hear(c, a2, true)
	hear(a1, a2, false)
	until("the hold room gone", func() (bool, error) {
		_, err := sw.RoomMembers(ctx, c+"-hold")
		return err == ErrNoRoom, nil
	})

	for _, leg := range []string{c, a1, a2} {
		api("uuid_kill " + leg + " NORMAL_CLEARING")
	}
	until("the rooms gone", func() (bool, error) {
		in1, err := sw.InRoom(ctx, a1)
		if err != nil {
			return false, err
		}
		in2, err := sw.InRoom(ctx, a2)
		return in1 == nil && in2 == nil, err
	})
}
