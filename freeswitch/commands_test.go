package freeswitch_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch"
)

var update = flag.Bool("update", false, "rewrite golden files")

// builders gives a test short forms: ok unwraps a builder's result, api wraps it in `api`, bg
// makes a bgapi originate.
func builders(t *testing.T) (ok func(string, error) string, api func(string, error) string, bg func(freeswitch.Originate, string) string) {
	ok = func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	api = func(s string, err error) string { return ok(freeswitch.API(ok(s, err))) }
	bg = func(o freeswitch.Originate, job string) string {
		return ok(freeswitch.BgAPI(ok(freeswitch.OriginateCmd(o)), job))
	}
	return ok, api, bg
}

// sentCommands splits a capture's .sent file into its commands, without the auth line.
func sentCommands(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "esl-captures", name))
	if err != nil {
		t.Fatal(err)
	}
	cmds := strings.Split(strings.TrimSuffix(string(raw), "\n\n"), "\n\n")
	return cmds[1:]
}

// The builders reproduce, byte for byte, what kakeru sent to a real FreeSWITCH 1.11.1 in the
// engine call-flow capture (docs/event-socket.md §4).
func TestBuildersReproduceCapture09(t *testing.T) {
	ok, api, bg := builders(t)
	const (
		agent  = "b050d810-4efd-40c3-af27-ec111eb49eff"
		c1, c2 = "55713d9f-24e6-4e14-a91a-610835258b8b", "95c8f671-abc7-49fc-b43e-0b0b13e9c683"
		sup    = "42d6bb0d-292f-4ca0-9853-0022ffa5959e"
		c3     = "88837d87-5695-48a1-95be-d2d283e51ffe"
		hold   = "tone_stream://%(1000,4000,440);loops=-1"
		beep   = "tone_stream://%(200,0,1000)"
	)
	customer := func(uuid, tel, attempt string) freeswitch.Originate {
		return freeswitch.Originate{UUID: uuid, DialString: "loopback/" + tel + "/customers", App: "&park()", Vars: []freeswitch.Var{
			{"origination_caller_id_number", "0312345678"}, {"originate_timeout", "25"}, {"ignore_early_media", "true"}, {"dialer_attempt_id", attempt}}}
	}
	want := []string{
		// The subscription of the engine then, before the agents' rooms (capture 11).
		ok(freeswitch.EventSubscription(freeswitch.EngineEvents()[:13])),
		bg(freeswitch.Originate{UUID: agent, DialString: "loopback/agent-1001/agents", App: "&park()", Vars: []freeswitch.Var{
			{"origination_caller_id_number", "0011"}, {"park_after_bridge", "true"}, {"ignore_early_media", "true"}, {"originate_timeout", "30"}}},
			"08d9789d-1624-46c5-82c1-c65470686c0b"),
		api(freeswitch.UUIDBroadcast(agent, hold, "aleg")),
		bg(customer(c1, "08100500001", "1"), "0f20241b-a094-4c22-a3f3-08f2292c5db1"),
		api(freeswitch.UUIDBreak(agent, true)),
		api(freeswitch.UUIDBroadcast(agent, beep, "aleg")),
		api(freeswitch.UUIDBridge(c1, agent)),
		api(freeswitch.UUIDBroadcast(agent, hold, "aleg")),
		bg(customer(c2, "09060000002", "2"), "f76a6682-a4e5-4bd6-b1dc-852e7d95a554"),
		api(freeswitch.UUIDBreak(agent, true)),
		api(freeswitch.UUIDBroadcast(agent, beep, "aleg")),
		api(freeswitch.UUIDBridge(c2, agent)),
		bg(freeswitch.Originate{UUID: sup, DialString: "loopback/agent-9001/agents", App: "&eavesdrop(" + agent + ")",
			Vars: []freeswitch.Var{{"eavesdrop_whisper_aleg", "true"}}}, "eb6811f2-1ee1-4600-b6a3-8dbfb6001e70"),
		api(freeswitch.UUIDKill(c2, "NORMAL_CLEARING")),
		api(freeswitch.UUIDExists(agent)),
		api(freeswitch.UUIDKill(sup, "")),
		bg(freeswitch.Originate{UUID: c3, DialString: "loopback/09060000003/customers", App: "&park()", Vars: []freeswitch.Var{
			{"ignore_early_media", "true"}, {"originate_timeout", "25"}, {"dialer_attempt_id", "3"}}}, "77a17b93-13b3-4f89-81d9-22b3786ee3e9"),
		api(freeswitch.UUIDTransferInline(c3, []freeswitch.App{{"playback", "tone_stream://%(500,0,800)"}, {"hangup", "NORMAL_CLEARING"}})),
		api(freeswitch.UUIDKill(agent, "")),
	}
	got := sentCommands(t, "09-engine-call-flow.sent")
	if len(got) != len(want) {
		t.Fatalf("capture has %d commands, built %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("command %d:\nbuilt %q\nsent  %q", i, want[i], got[i])
		}
	}
}

func TestBuildersReproduceCapture10(t *testing.T) {
	_, api, _ := builders(t)
	got := sentCommands(t, "10-edge-cases.sent")
	for _, tc := range []struct {
		i    int
		want string
	}{
		{3, api(freeswitch.UUIDKill("e55f27b0-aabf-4266-ae35-39f75b1e1881", "ORIGINATOR_CANCEL"))},
		{6, api(freeswitch.ShowChannelsJSON(), nil)},
		{7, api(freeswitch.ShowCallsJSON(), nil)},
		{8, api(freeswitch.UUIDGetVar("545d482e-88b7-4cb4-ba7a-96ce33be49b7", "other_loopback_leg_uuid"))},
	} {
		if got[tc.i] != tc.want {
			t.Errorf("command %d: built %q, sent %q", tc.i, tc.want, got[tc.i])
		}
	}
}

// Golden originate strings: values with commas, quotes and spaces.
func TestOriginateGolden(t *testing.T) {
	ok, _, _ := builders(t)
	const a = "b050d810-4efd-40c3-af27-ec111eb49eff"
	cases := []freeswitch.Originate{
		{UUID: a, DialString: "sofia/gateway/main/0312345678", App: "&park()", Vars: []freeswitch.Var{
			{"origination_caller_id_number", "0312345678"}, {"originate_timeout", "25"}, {"ignore_early_media", "true"}, {"dialer_attempt_id", "42"}}},
		{UUID: a, DialString: "user/1001", App: "&park()", Vars: []freeswitch.Var{
			{"origination_caller_id_name", "Kakeru Outbound"}, {"absolute_codec_string", "PCMU,PCMA"}, {"sip_h_X-Note", "O'Brien, Inc."}}},
		{UUID: a, DialString: "sofia/gateway/main/0312345678", App: "&park()", Vars: []freeswitch.Var{
			{"execute_on_answer", "avmd_start"}, {"back", `C:\path`}, {"brace", "a}b"}}},
	}
	var out strings.Builder
	for _, c := range cases {
		out.WriteString(ok(freeswitch.OriginateCmd(c)))
		out.WriteString("\n")
	}
	path := filepath.Join("testdata", "originate.golden")
	if *update {
		os.WriteFile(path, []byte(out.String()), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestBuildersRefuseInjection(t *testing.T) {
	const a = "b050d810-4efd-40c3-af27-ec111eb49eff"
	for name, err := range map[string]error{
		"newline in var":  second(freeswitch.OriginateCmd(freeswitch.Originate{UUID: a, DialString: "user/1", App: "&park()", Vars: []freeswitch.Var{{"x", "1\napi shutdown"}}})),
		"bad var name":    second(freeswitch.OriginateCmd(freeswitch.Originate{UUID: a, DialString: "user/1", App: "&park()", Vars: []freeswitch.Var{{"x=y", "1"}}})),
		"bad uuid":        second(freeswitch.OriginateCmd(freeswitch.Originate{UUID: "nope", DialString: "user/1", App: "&park()"})),
		"empty dial":      second(freeswitch.OriginateCmd(freeswitch.Originate{UUID: a, App: "&park()"})),
		"space in dial":   second(freeswitch.OriginateCmd(freeswitch.Originate{UUID: a, DialString: "user/1 &api", App: "&park()"})),
		"kill cause":      second(freeswitch.UUIDKill(a, "NORMAL CLEARING")),
		"bgapi newline":   second(freeswitch.BgAPI("status\n\napi shutdown", "c0ffee00-0000-4000-8000-000000000008")),
		"bgapi job":       second(freeswitch.BgAPI("status", "job")),
		"transfer caret":  second(freeswitch.UUIDTransferInline(a, []freeswitch.App{{"playback", "a^b"}})),
		"broadcast leg":   second(freeswitch.UUIDBroadcast(a, "x.wav", "other")),
		"broadcast space": second(freeswitch.UUIDBroadcast(a, "x.wav aleg", "aleg")),
		"setvar value":    second(freeswitch.UUIDSetVar(a, "x", "a b")),
		"no events":       second(freeswitch.EventSubscription(nil)),
		// The switch would read it as a CUSTOM subclass and never send it.
		"event after CUSTOM": second(freeswitch.EventSubscription([]string{"CUSTOM", "avmd::beep", "RECORD_STOP"})),
		"bridge bad uuid":    second(freeswitch.UUIDBridge(a, "x")),
		"record bad path":    second(freeswitch.UUIDRecord(a, true, "")),
		"getvar bad name":    second(freeswitch.UUIDGetVar(a, "a b")),
		"exists bad uuid":    second(freeswitch.UUIDExists("")),
	} {
		if !errors.Is(err, freeswitch.ErrBadCommand) {
			t.Errorf("%s: got %v, want ErrBadCommand", name, err)
		}
	}
}

func second(_ string, err error) error { return err }

// docs/event-socket.md §4.5: listen and whisper legs; endpoints that are not one dial string are refused.
func TestSupervisionCmd(t *testing.T) {
	const sup, agent = "11111111-2222-4333-8444-555555555555", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	got, err := freeswitch.SupervisionCmd(freeswitch.Supervision{UUID: sup, Endpoint: "sofia/internal/2001@pbx", AgentLeg: agent, CallerID: "0011"})
	want := "originate {origination_uuid=" + sup + ",origination_caller_id_number=0011}sofia/internal/2001@pbx &eavesdrop(" + agent + ")"
	if err != nil || got != want {
		t.Fatalf("listen: %q %v", got, err)
	}
	got, err = freeswitch.SupervisionCmd(freeswitch.Supervision{UUID: sup, Endpoint: "user/2001", AgentLeg: agent, CallerID: "0011", Whisper: true})
	want = "originate {origination_uuid=" + sup + ",origination_caller_id_number=0011,eavesdrop_whisper_aleg=true}user/2001 &eavesdrop(" + agent + ")"
	if err != nil || got != want {
		t.Fatalf("whisper: %q %v", got, err)
	}
	for _, ep := range []string{"", "user/2001 &park()", "user/2001\n", "{x=1}user/2001", "user/20'01", "user/2001\t", "a\x7f", "[x]user/1"} {
		if _, err := freeswitch.SupervisionCmd(freeswitch.Supervision{UUID: sup, Endpoint: ep, AgentLeg: agent, CallerID: "0011"}); !errors.Is(err, freeswitch.ErrBadCommand) {
			t.Errorf("endpoint %q accepted", ep)
		}
	}
	if _, err := freeswitch.SupervisionCmd(freeswitch.Supervision{UUID: sup, Endpoint: "user/1", AgentLeg: "x)&park(", CallerID: "0011"}); err == nil {
		t.Error("agent leg not checked")
	}
}

// The desk's commands reproduce capture 17 byte for byte: the loopback pair joining agent 2's
// room to agent 1's, and the room lists (with the room's name, without its profile).
func TestBuildersReproduceCapture17(t *testing.T) {
	sent, err := os.ReadFile(filepath.Join("testdata", "esl-captures", "17-desk-consult.sent"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		a1 = "07f03bbe-a9ba-4bbf-ad43-ee70addba42b"
		a2 = "4404af25-2106-40db-9f61-2f09b3218a1f"
		l  = "ca9e4391-7487-4af3-9c97-c80aed796220"
	)
	ok, api, bg := builders(t)
	room1, room2 := ok(freeswitch.Room(a1, "kakeru")), ok(freeswitch.Room(a2, "kakeru"))
	for _, want := range []string{
		bg(freeswitch.Originate{UUID: l, DialString: freeswitch.LoopbackToRoom(room2), App: "&conference(" + room1 + ")",
			Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: "0093"}, {Name: "originate_timeout", Value: "30"},
				{Name: "ignore_early_media", Value: "true"}}}, "37061000-c023-4afd-9fb1-b20eac74c87b"),
		api(freeswitch.ConferenceList(room1)),
		api(freeswitch.ConferenceList(a2)),
	} {
		if !strings.Contains(string(sent), want+"\n\n") {
			t.Errorf("capture 17 has no %q", want)
		}
	}
	for _, bad := range []string{"", "a b", "a'b", "a\nlist", "a^b", "a,b"} {
		if _, err := freeswitch.ConferenceList(bad); !errors.Is(err, freeswitch.ErrBadCommand) {
			t.Errorf("ConferenceList(%q) = %v, want ErrBadCommand", bad, err)
		}
	}
}
