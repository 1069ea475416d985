package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// Answer analysis (P-3): the switch classifies an answer, the engine decides. A campaign with a
// detector originates its customers into an inline dialplan that starts the detector on the
// answer and then parks; the detector's verdict comes back as channel events, and the engine
// moves a person to an agent, hangs a machine up or leaves it the campaign's voicemail message
// after its beep. No audio is decoded here.

// Verdicts of an answer.
const (
	amdHuman   = "human"
	amdMachine = "machine"
	amdUnsure  = "unsure" // no verdict, or the detector's own doubt: treated as a person
)

const (
	// frame is the audio frame of detect_audio's and detect_silence's counts (20 ms at the
	// switch's default ptime).
	frame = 20 * time.Millisecond
	// speechFrames is how much sound (more than 3 frames, 80 ms) starts a greeting.
	speechFrames = 3
	// verdictMargin is how long past the detector's own time limit the engine waits for the
	// verdict event before it decides unsure itself.
	verdictMargin = 500 * time.Millisecond
)

// analysis is one call's answer classification.
type analysis struct {
	cfg     config.AnswerAnalysis
	limit   time.Time // answered and still unclassified at this time: unsure
	result  string
	detail  string
	took    time.Duration
	avmd    bool      // mod_avmd runs on the leg: stopped before the customer moves on
	beep    bool      // mod_avmd heard the beep
	beepBy  time.Time // voicemail: the message plays at the beep, or at this time without one
	played  *time.Time
	decided bool
}

// verdict is what the attempt records (nil before an answer).
func (a *analysis) verdict(answered *time.Time) *store.AnswerVerdict {
	if a == nil || answered == nil {
		return nil
	}
	v := &store.AnswerVerdict{Result: a.result, Detail: a.detail, Took: a.took, VoicemailAt: a.played}
	if a.result == amdMachine {
		v.MachineAction = a.cfg.MachineAction
	}
	return v
}

// analysisApps are the applications a classifying campaign's customer runs on answer, before
// it parks: the detector, and mod_avmd whenever a beep matters (the avmd detector itself, or a
// voicemail message to leave after it).
func analysisApps(a config.AnswerAnalysis) (apps []freeswitch.App, avmd bool) {
	avmd = a.Detector == config.DetectorAVMD || a.MachineAction == config.MachineVoicemail
	if avmd {
		apps = append(apps, freeswitch.App{Name: "avmd_start"})
	}
	switch a.Detector {
	case config.DetectorAVMD:
		// detect_audio THRESHOLD FRAMES TIMEOUT_MS returns when the greeting starts, or at the
		// time limit when nobody speaks; detect_silence THRESHOLD FRAMES TIMEOUT_MS then returns
		// at the silence that ends it, or when it has gone on longer than a person's greeting.
		// (wait_for_silence would do both in one, but it measures only frames that carry a
		// sequence number, which loopback legs' never do: it hears nothing there.)
		apps = append(apps,
			freeswitch.App{Name: "detect_audio", Data: fmt.Sprintf("%d %d %d", a.SilenceThreshold, speechFrames, a.TimeLimit.Milliseconds())},
			freeswitch.App{Name: "detect_silence", Data: fmt.Sprintf("%d %d %d", a.SilenceThreshold,
				max(1, int(a.HumanSilence/frame)), (a.MaxHumanGreeting + a.HumanSilence).Milliseconds())})
	case config.DetectorCustom:
		apps = append(apps, freeswitch.App{Name: a.Custom.Application, Data: a.Custom.Data})
	}
	return append(apps, freeswitch.App{Name: "park"}), avmd
}

// avmdVerdict reads the avmd detector's greeting measurement from its applications'
// completions: no sound until the time limit is unsure (silence); a greeting that ends in
// silence within a person's greeting time is a person's; one still going then is a machine's.
// ok is false for other completions: the start of a greeting (its end decides), another
// application, or one cut short (a transfer or hangup sets no result).
func avmdVerdict(ev *wire.Event) (result, detail string, ok bool) {
	switch ev.Header.Get("Application") {
	case "detect_audio":
		if ev.Header.Get("variable_detect_audio_timeout") == "true" {
			return amdUnsure, "silence", true
		}
	case "detect_silence":
		switch ev.Header.Get("variable_detect_silence_timeout") {
		case "false":
			return amdHuman, "short_greeting", true
		case "true":
			return amdMachine, "long_greeting", true
		}
	}
	return "", "", false
}

// customVerdict reads a custom detector's verdict from its application's completion (a channel
// variable) or its own CUSTOM event; a value in none of the lists is unsure.
func customVerdict(c config.CustomDetector, ev *wire.Event) (result, detail string, ok bool) {
	var value string
	switch {
	case c.Variable != "" && ev.Name() == "CHANNEL_EXECUTE_COMPLETE" && ev.Header.Get("Application") == c.Application:
		value = ev.Header.Get("variable_" + c.Variable)
		if value == "" {
			return "", "", false // cut short: no verdict
		}
	case c.Event != "" && ev.Name() == "CUSTOM" && ev.Header.Get("Event-Subclass") == c.Event:
		value = ev.Header.Get(c.Header)
	default:
		return "", "", false
	}
	detail = value
	if c.DetailVariable != "" {
		if d := ev.Header.Get("variable_" + c.DetailVariable); d != "" {
			detail = d
		}
	}
	detail = strings.ToLower(detail)
	if len(detail) > 100 {
		detail = detail[:100]
	}
	match := func(list []string) bool {
		for _, v := range list {
			if strings.EqualFold(v, value) {
				return true
			}
		}
		return false
	}
	switch {
	case match(c.Human):
		return amdHuman, detail, true
	case match(c.Machine):
		return amdMachine, detail, true
	default:
		return amdUnsure, detail, true
	}
}

// analysisEvent handles a classifying (or machine) call's detector events; false when ev is
// none of them.
func (e *Engine) analysisEvent(ctx context.Context, j *job, c *call, ev *wire.Event) bool {
	e.mu.Lock()
	a := c.amd
	state := c.state
	e.mu.Unlock()
	if a == nil {
		return false
	}
	if ev.Name() == "CUSTOM" && ev.Header.Get("Event-Subclass") == freeswitch.AVMDBeep {
		e.mu.Lock()
		a.beep = true
		e.mu.Unlock()
		switch state {
		case callClassifying:
			e.classified(ctx, j, c, amdMachine, "beep")
		case callMachine:
			e.leaveVoicemail(ctx, j, c)
		}
		return true
	}
	if state != callClassifying {
		return false
	}
	var result, detail string
	var ok bool
	if a.cfg.Detector == config.DetectorAVMD {
		if ev.Name() == "CHANNEL_EXECUTE_COMPLETE" {
			result, detail, ok = avmdVerdict(ev)
		}
	} else {
		result, detail, ok = customVerdict(a.cfg.Custom, ev)
	}
	if ok {
		e.classified(ctx, j, c, result, detail)
	}
	return ok
}

// classified acts on an answer's verdict, once: a person (or unsure) waits for an agent under
// the connect deadline, which counts from now (P-2); a machine is hung up, left the voicemail
// message after its beep, or put through to an agent without counting as a person.
func (e *Engine) classified(ctx context.Context, j *job, c *call, result, detail string) {
	now := e.o.Now()
	e.mu.Lock()
	a := c.amd
	if a == nil || c.state != callClassifying || c.answered == nil {
		e.mu.Unlock()
		return
	}
	a.result, a.detail, a.took, a.decided = result, detail, now.Sub(*c.answered), true
	c.answerEvent = time.Now() // the answer-to-bridge latency counts from the verdict
	if h := e.o.Hooks.Classified; h != nil {
		h(j.campaign, result)
	}
	if result != amdMachine {
		c.toLocked(callWaiting)
		c.deadline = now.Add(e.connectDeadline(j))
		e.observeAnswerLocked(j, c, now)
		e.callEventLocked(j, c, liveevents.CallOffered, nil)
		e.mu.Unlock()
		e.connect(ctx, j, c)
		return
	}
	e.observeMachineLocked(j, c, now)
	switch a.cfg.MachineAction {
	case config.MachineAgent:
		c.toLocked(callWaiting)
		c.deadline = now.Add(e.connectDeadline(j))
		e.callEventLocked(j, c, liveevents.CallOffered, map[string]any{"answering_machine": true})
		e.mu.Unlock()
		e.connect(ctx, j, c)
	case config.MachineVoicemail:
		c.toLocked(callMachine)
		a.beepBy = c.answered.Add(a.cfg.BeepTimeout)
		beep := a.beep
		e.mu.Unlock()
		if beep {
			e.leaveVoicemail(ctx, j, c)
		}
	default:
		c.toLocked(callMachine)
		e.mu.Unlock()
		e.command(ctx, c.node, uuidKill(c.uuid, "NORMAL_CLEARING"))
	}
}

// leaveVoicemail plays the campaign's message to a machine once, after its beep (or the beep
// timeout), then hangs up.
func (e *Engine) leaveVoicemail(ctx context.Context, j *job, c *call) {
	now := e.o.Now()
	e.mu.Lock()
	a := c.amd
	if a == nil || c.state != callMachine || a.played != nil || a.cfg.MachineAction != config.MachineVoicemail {
		e.mu.Unlock()
		return
	}
	a.played = &now
	msg := a.cfg.VoicemailMessage
	e.mu.Unlock()
	cmd, err := freeswitch.UUIDTransferInline(c.uuid, []freeswitch.App{{Name: "avmd_stop"},
		{Name: "playback", Data: msg}, {Name: "hangup", Data: "NORMAL_CLEARING"}})
	if err != nil {
		e.o.Logger.Warn("voicemail message not sent", "job", j.id, "attempt", c.attemptID, "err", err)
		cmd = uuidKill(c.uuid, "NORMAL_CLEARING")
	}
	e.command(ctx, c.node, cmd)
}

// checkAnalysisLocked finds the classifying calls past their time limit (unsure: a person) and
// the machines whose beep has not come by the beep timeout. Caller holds e.mu.
func checkAnalysisLocked(c *call, now time.Time) (unsure, voicemail bool) {
	a := c.amd
	switch {
	case a == nil:
	case c.state == callClassifying && now.After(a.limit):
		return true, false
	case c.state == callMachine && a.played == nil && a.cfg.MachineAction == config.MachineVoicemail && now.After(a.beepBy):
		return false, true
	}
	return false, false
}

// roomApps are the applications that move a customer into an agent's room: mod_avmd stops
// first when it runs on the leg, so it neither costs the switch nor reports the room's beeps.
func roomApps(c *call, room string) []freeswitch.App {
	if c.amd != nil && c.amd.avmd {
		return []freeswitch.App{{Name: "avmd_stop"}, {Name: "conference", Data: room}}
	}
	return []freeswitch.App{{Name: "conference", Data: room}}
}
