package freeswitch

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Builders for every ESL command kakeru sends (docs/event-socket.md §4). They are the only place that formats
// command text; each validates its input so that nothing can inject a second command (a line
// break ends an ESL command) or split an argument.

// ErrBadCommand is wrapped by every refusal of a builder.
var ErrBadCommand = errors.New("invalid ESL command argument")

var (
	uuidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	varNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// Channel variable names may hold dashes (sip_h_X-Header); never ',', '=', braces or spaces.
	chanVarPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)
	tokenPattern   = regexp.MustCompile(`^[^\s'^]+$`) // one space-free argument
	// eventNamePattern is an event's name (CHANNEL_ANSWER), as opposed to a CUSTOM subclass
	// (conference::maintenance).
	eventNamePattern = regexp.MustCompile(`^[A-Z][A-Z_]*$`)
)

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadCommand, fmt.Sprintf(format, args...))
}

func checkUUID(what, v string) error {
	if !uuidPattern.MatchString(v) {
		return bad("%s %q is not a UUID", what, v)
	}
	return nil
}

func checkToken(what, v string) error {
	if !tokenPattern.MatchString(v) {
		return bad("%s %q must be one argument without spaces, quotes or ^", what, v)
	}
	return nil
}

// EngineEvents are the events the engine subscribes to (docs/event-socket.md §3): those of
// capture 09, then those of answer analysis and recording, then CUSTOM and its subclasses,
// the CUSTOM subclasses given last (a custom answering-machine detector's verdict event).
// CUSTOM comes last because the switch reads every name after it as a subclass: an event
// name written after CUSTOM is silently never sent.
func EngineEvents(subclasses ...string) []string {
	ev := []string{"CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER",
		"CHANNEL_PARK", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
		"CHANNEL_DESTROY", "BACKGROUND_JOB", "HEARTBEAT", "DTMF",
		"CHANNEL_EXECUTE_COMPLETE", "RECORD_START", "RECORD_STOP", "CUSTOM", ConferenceMaintenance, AVMDBeep}
	for _, s := range subclasses {
		if !slices.Contains(ev, s) {
			ev = append(ev, s)
		}
	}
	return ev
}

// AVMDBeep is mod_avmd's CUSTOM event subclass for a voicemail beep heard on a channel
// (headers Unique-ID, Beep-Status: DETECTED, Frequency …).
const AVMDBeep = "avmd::beep"

// ConferenceMaintenance is the CUSTOM event subclass of mod_conference's member and room
// events (add-member, del-member …): how the engine sees a customer join an agent's room.
const ConferenceMaintenance = "conference::maintenance"

// EventSubscription is `event plain NAME …`: plain only, because eslgo cannot parse JSON events
// and plain is what kakeru's reader parses (docs/event-socket.md §1).
func EventSubscription(names []string) (string, error) {
	if len(names) == 0 {
		return "", bad("no events to subscribe to")
	}
	custom := false
	for _, n := range names {
		if err := checkToken("event", n); err != nil {
			return "", err
		}
		// The switch reads every name after CUSTOM as a subclass, so an event written there
		// would never be sent, without an error.
		if custom && eventNamePattern.MatchString(n) {
			return "", bad("event %s after CUSTOM would be taken for a CUSTOM subclass: name it before CUSTOM", n)
		}
		custom = custom || n == "CUSTOM"
	}
	return "event plain " + strings.Join(names, " "), nil
}

// Var is one channel variable of an originate, in the order given.
type Var struct{ Name, Value string }

// Originate is the argument of `originate`: {origination_uuid=UUID,VARS…}DIALSTRING APP.
type Originate struct {
	UUID       string // pre-generated channel UUID: the attempt row holds it before the command is sent
	Vars       []Var  // after origination_uuid, in this order (eslgo's helper orders them randomly)
	DialString string // e.g. sofia/gateway/main/0312345678 or loopback/agent-1001/agents
	App        string // e.g. &park() or &eavesdrop(UUID)
	// Inline, when set instead of App, is an inline dialplan the answered leg runs, e.g. a
	// prompt then the agent's room (`'m:^:playback:X^conference:ROOM@PROFILE' inline`).
	Inline []App
}

// Arg is the originate argument text. Values are escaped as FreeSWITCH's variable parser
// (switch_separate_string) reads them: a backslash escapes the next character, so a comma is
// written `\,` and does not end the variable; a value with spaces is wrapped in single quotes,
// which group it as one argument of the originate command, with `\'` for a quote inside.
func (o Originate) Arg() (string, error) {
	if err := checkUUID("origination_uuid", o.UUID); err != nil {
		return "", err
	}
	if err := checkToken("dial string", o.DialString); err != nil {
		return "", err
	}
	app := o.App
	if len(o.Inline) > 0 {
		if o.App != "" {
			return "", bad("an originate runs an application or an inline dialplan, not both")
		}
		var err error
		if app, err = inlineDialplan(o.Inline); err != nil {
			return "", err
		}
	} else if !strings.HasPrefix(o.App, "&") || strings.ContainsAny(o.App, " \r\n'") {
		return "", bad("application %q must be one &app(args) without spaces", o.App)
	}
	var b strings.Builder
	b.WriteString("{origination_uuid=")
	b.WriteString(o.UUID)
	for _, v := range o.Vars {
		if !chanVarPattern.MatchString(v.Name) {
			return "", bad("variable name %q", v.Name)
		}
		if strings.ContainsAny(v.Value, "\r\n\x00") {
			return "", bad("variable %s holds a line break", v.Name)
		}
		b.WriteByte(',')
		b.WriteString(v.Name)
		b.WriteByte('=')
		b.WriteString(escapeVarValue(v.Value))
	}
	b.WriteByte('}')
	b.WriteString(o.DialString)
	b.WriteByte(' ')
	b.WriteString(app)
	return b.String(), nil
}

func escapeVarValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `'`, `\'`, `}`, `\}`)
	e := r.Replace(v)
	if strings.ContainsAny(v, " \t") {
		return "'" + e + "'"
	}
	return e
}

// BgAPI is `bgapi CMD` with the client's own Job-UUID header: registering for the result before
// sending means it can never arrive unseen (docs/event-socket.md §1).
func BgAPI(cmd, jobUUID string) (string, error) {
	if err := checkUUID("Job-UUID", jobUUID); err != nil {
		return "", err
	}
	if cmd == "" || strings.ContainsAny(cmd, "\r\n") {
		return "", bad("bgapi command %q", cmd)
	}
	return "bgapi " + cmd + "\nJob-UUID: " + jobUUID, nil
}

// API is `api CMD`; the socket sends no events while it runs, so it is for quick commands only.
func API(cmd string) (string, error) {
	if cmd == "" || strings.ContainsAny(cmd, "\r\n") {
		return "", bad("api command %q", cmd)
	}
	return "api " + cmd, nil
}

// OriginateCmd is the command text of an originate, for BgAPI.
func OriginateCmd(o Originate) (string, error) {
	arg, err := o.Arg()
	if err != nil {
		return "", err
	}
	return "originate " + arg, nil
}

// UUIDBridge bridges two parked legs.
func UUIDBridge(a, b string) (string, error) {
	if err := errors.Join(checkUUID("leg", a), checkUUID("leg", b)); err != nil {
		return "", err
	}
	return "uuid_bridge " + a + " " + b, nil
}

// UUIDKill hangs a leg up, with a cause when one is given.
func UUIDKill(uuid, cause string) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	if cause == "" {
		return "uuid_kill " + uuid, nil
	}
	if !varNamePattern.MatchString(cause) {
		return "", bad("hangup cause %q", cause)
	}
	return "uuid_kill " + uuid + " " + cause, nil
}

// UUIDBreak stops what a leg is playing; all also empties its queue (hold music loops).
func UUIDBreak(uuid string, all bool) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	if all {
		return "uuid_break " + uuid + " all", nil
	}
	return "uuid_break " + uuid, nil
}

// UUIDBroadcast plays path to a leg: leg is aleg, bleg or both.
func UUIDBroadcast(uuid, path, leg string) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	if err := checkToken("path", path); err != nil {
		return "", err
	}
	switch leg {
	case "aleg", "bleg", "both":
	default:
		return "", bad("broadcast leg %q", leg)
	}
	return "uuid_broadcast " + uuid + " " + path + " " + leg, nil
}

// AVMDStop ends mod_avmd's beep detection on a leg: `avmd UUID stop`.
func AVMDStop(uuid string) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	return "avmd " + uuid + " stop", nil
}

// App is one dialplan application of an inline transfer.
type App struct{ Name, Data string }

// UUIDTransferInline runs applications on a leg, e.g. the abandon message then hangup. The
// `m:^:` prefix makes ^ the separator, so data with commas (tone_stream://%(500,0,800)) survives
// the inline dialplan, which otherwise splits on commas (docs/event-socket.md §4.3).
func UUIDTransferInline(uuid string, apps []App) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	d, err := inlineDialplan(apps)
	if err != nil {
		return "", err
	}
	return "uuid_transfer " + uuid + " " + d, nil
}

// inlineDialplan is `'m:^:app:data^app:data' inline`.
func inlineDialplan(apps []App) (string, error) {
	if len(apps) == 0 {
		return "", bad("no applications to transfer to")
	}
	parts := make([]string, len(apps))
	for i, a := range apps {
		if !varNamePattern.MatchString(a.Name) {
			return "", bad("application name %q", a.Name)
		}
		// Spaces are kept: the whole dialplan is one quoted argument and the inline dialplan
		// splits only on ^ (then an application from its data on the first ':').
		if strings.ContainsAny(a.Data, "^'\r\n\x00") {
			return "", bad("application data %q must not hold ^, quotes or line breaks", a.Data)
		}
		parts[i] = a.Name + ":" + a.Data
	}
	return "'m:^:" + strings.Join(parts, "^") + "' inline", nil
}

// Room is an agent's conference room, `NAME@PROFILE`: the agent's phone stays in it for the
// whole session and customers are moved in and out, so nothing a customer does can take the
// agent's phone with it (a uuid_bridge whose other side vanishes mid-setup hangs up both).
func Room(name, profile string) (string, error) {
	if err := checkToken("room", name); err != nil || strings.ContainsAny(name, "@'^,") {
		return "", bad("room name %q", name)
	}
	if err := checkToken("conference profile", profile); err != nil || strings.ContainsAny(profile, "@'^,") {
		return "", bad("conference profile %q", profile)
	}
	return name + "@" + profile, nil
}

// UUIDTransferToRoom moves a leg into a conference room (Room).
func UUIDTransferToRoom(uuid, room string) (string, error) {
	return UUIDTransferInline(uuid, []App{{Name: "conference", Data: room}})
}

// UUIDRecord starts or stops recording a leg to path.
func UUIDRecord(uuid string, start bool, path string) (string, error) {
	if err := errors.Join(checkUUID("leg", uuid), checkToken("path", path)); err != nil {
		return "", err
	}
	action := "stop"
	if start {
		action = "start"
	}
	return "uuid_record " + uuid + " " + action + " " + path, nil
}

// UUIDExists asks whether a channel is still up (reconciliation after a reconnect).
func UUIDExists(uuid string) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	return "uuid_exists " + uuid, nil
}

// UUIDGetVar reads a channel variable.
func UUIDGetVar(uuid, name string) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	if !chanVarPattern.MatchString(name) {
		return "", bad("variable name %q", name)
	}
	return "uuid_getvar " + uuid + " " + name, nil
}

// UUIDSetVar sets a channel variable; the value is one argument without line breaks.
func UUIDSetVar(uuid, name, value string) (string, error) {
	if err := checkUUID("leg", uuid); err != nil {
		return "", err
	}
	if !chanVarPattern.MatchString(name) {
		return "", bad("variable name %q", name)
	}
	if err := checkToken("value", value); err != nil {
		return "", err
	}
	return "uuid_setvar " + uuid + " " + name + " " + value, nil
}

// ShowChannelsJSON lists live channels (what reconciliation reads).
func ShowChannelsJSON() string { return "show channels as json" }

// ShowCallsJSON lists live bridged calls.
func ShowCallsJSON() string { return "show calls as json" }

// CheckDialString refuses an endpoint that is not one originate target: spaces, control
// characters, quotes, ^ and the characters that would open channel variables or a second
// application ({ } [ ] < > &), and the separators that would dial several endpoints at once
// (',' rings them together, '|' one after another, ":_:" is an enterprise originate).
func CheckDialString(s string) error {
	if s == "" || len(s) > 256 {
		return bad("dial string must be 1 to 256 characters")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`'"^{}[]<>&\,|`, r) {
			return bad("dial string %q holds %q", s, r)
		}
	}
	if strings.Contains(s, ":_:") {
		return bad("dial string %q holds \":_:\": one endpoint only", s)
	}
	return nil
}

// CheckOriginateTarget refuses what an originate's dial string cannot be: empty, or holding
// spaces, quotes or ^ (the originate command would split or misread it). Configured dial
// strings are checked with it at load, so the switch is never sent one it would refuse.
func CheckOriginateTarget(s string) error { return checkToken("dial string", s) }

// Supervision is the originate of a supervisor's leg (docs/event-socket.md §4.5): the supervisor's phone is
// called and, once answered, listens to the agent's leg; Whisper also lets the agent (only) hear
// the supervisor.
type Supervision struct {
	UUID     string // the supervision leg's channel UUID
	Endpoint string // the supervisor's dial string
	AgentLeg string // the channel UUID of the agent's phone leg
	CallerID string // shown on the supervisor's phone
	Whisper  bool
}

// SupervisionCmd is `originate {origination_uuid=…,origination_caller_id_number=…[,eavesdrop_whisper_aleg=true]}ENDPOINT &eavesdrop(AGENT_LEG)`.
func SupervisionCmd(s Supervision) (string, error) {
	if err := errors.Join(CheckDialString(s.Endpoint), checkUUID("agent leg", s.AgentLeg)); err != nil {
		return "", err
	}
	vars := []Var{{Name: "origination_caller_id_number", Value: s.CallerID}}
	if s.Whisper {
		vars = append(vars, Var{Name: "eavesdrop_whisper_aleg", Value: "true"})
	}
	return OriginateCmd(Originate{UUID: s.UUID, Vars: vars, DialString: s.Endpoint, App: "&eavesdrop(" + s.AgentLeg + ")"})
}

// ConferenceList is `conference NAME list`: the members of a room, one line each
// (docs/event-socket.md "Hold, transfer and conference"). room is NAME@PROFILE (Room) or the bare
// NAME: the api knows a room by its name alone.
func ConferenceList(room string) (string, error) {
	name, _, _ := strings.Cut(room, "@")
	if err := checkToken("room", name); err != nil || strings.ContainsAny(name, "'^,") {
		return "", bad("room name %q", name)
	}
	return "conference " + name + " list", nil
}

// LoopbackToRoom is the dial string of a loopback pair whose far (b) leg runs the inline
// dialplan `conference:ROOM` and so joins room (NAME@PROFILE, from Room); the originate's own
// application (`&conference(OTHER@PROFILE)`) puts the near (a) leg in another room, which joins
// the two rooms. room must come from Room: it is not checked again here.
func LoopbackToRoom(room string) string {
	return "loopback/conference:" + room + "/default/inline"
}
