package engine

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

func event(kv ...string) *wire.Event {
	var h wire.Header
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, wire.Field{Name: kv[i], Value: kv[i+1]})
	}
	return &wire.Event{Header: h}
}

// P-3: the avmd detector reads wait_for_silence's measurement of the greeting: a short one
// ended by silence is a person's, a long one a machine's, silence or too little speech unsure.
func TestAVMDVerdictFromTheGreeting(t *testing.T) {
	a := config.AnswerAnalysis{Detector: config.DetectorAVMD, TimeLimit: 3 * time.Second,
		HumanSilence: 800 * time.Millisecond, MaxHumanGreeting: 1500 * time.Millisecond}
	complete := func(timeout, hits string) *wire.Event {
		return event("Event-Name", "CHANNEL_EXECUTE_COMPLETE", "Application", "wait_for_silence",
			"variable_wait_for_silence_timeout", timeout, "variable_wait_for_silence_listenhits", hits)
	}
	for _, c := range []struct {
		name           string
		ev             *wire.Event
		result, detail string
		ok             bool
	}{
		{"hello then silence", complete("false", "30"), amdHuman, "short_greeting", true},
		{"greeting longer than a person's, then a pause", complete("false", "90"), amdMachine, "long_greeting", true},
		{"speaking through the time limit", complete("true", "140"), amdMachine, "long_greeting", true},
		{"silence", complete("true", "0"), amdUnsure, "silence", true},
		{"a little speech, no pause", complete("true", "40"), amdUnsure, "no_pause", true},
		// A transfer or hangup cuts the application short: it sets no result.
		{"cut short", event("Event-Name", "CHANNEL_EXECUTE_COMPLETE", "Application", "wait_for_silence"), "", "", false},
		{"another application", event("Event-Name", "CHANNEL_EXECUTE_COMPLETE", "Application", "park"), "", "", false},
	} {
		r, d, ok := avmdVerdict(a, c.ev)
		if r != c.result || d != c.detail || ok != c.ok {
			t.Errorf("%s: got %q %q %v, want %q %q %v", c.name, r, d, ok, c.result, c.detail, c.ok)
		}
	}
}

// P-3: a custom detector's verdict is a channel variable at its application's completion, or a
// header of its own event, looked up in the configured lists; an unknown value is unsure.
func TestCustomVerdictMapping(t *testing.T) {
	byVar := config.CustomDetector{Application: "amd", Variable: "amd_result", DetailVariable: "amd_cause",
		Human: []string{"HUMAN"}, Machine: []string{"MACHINE"}, Unsure: []string{"NOTSURE"}}
	byEvent := config.CustomDetector{Application: "detect", Event: "vendor::amd", Header: "Verdict",
		Human: []string{"person"}, Machine: []string{"machine", "fax"}}
	done := func(app, result, cause string) *wire.Event {
		return event("Event-Name", "CHANNEL_EXECUTE_COMPLETE", "Application", app, "variable_amd_result", result,
			"variable_amd_cause", cause)
	}
	for _, c := range []struct {
		name           string
		d              config.CustomDetector
		ev             *wire.Event
		result, detail string
		ok             bool
	}{
		{"human", byVar, done("amd", "HUMAN", "HUMAN-1000-1000"), amdHuman, "human-1000-1000", true},
		{"machine, case-insensitive", byVar, done("amd", "machine", "LONGGREETING"), amdMachine, "longgreeting", true},
		{"not sure", byVar, done("amd", "NOTSURE", "TOOLONG"), amdUnsure, "toolong", true},
		{"unknown value", byVar, done("amd", "MAYBE", ""), amdUnsure, "maybe", true},
		{"cut short: no value", byVar, done("amd", "", ""), "", "", false},
		{"another application", byVar, done("park", "HUMAN", ""), "", "", false},
		{"event", byEvent, event("Event-Name", "CUSTOM", "Event-Subclass", "vendor::amd", "Verdict", "fax"), amdMachine, "fax", true},
		{"another event", byEvent, event("Event-Name", "CUSTOM", "Event-Subclass", "other", "Verdict", "fax"), "", "", false},
	} {
		r, d, ok := customVerdict(c.d, c.ev)
		if r != c.result || d != c.detail || ok != c.ok {
			t.Errorf("%s: got %q %q %v, want %q %q %v", c.name, r, d, ok, c.result, c.detail, c.ok)
		}
	}
}

// The detector runs before the customer parks; mod_avmd runs whenever a beep matters.
func TestAnalysisApps(t *testing.T) {
	a := config.AnswerAnalysis{Detector: config.DetectorAVMD, TimeLimit: 3 * time.Second, SilenceThreshold: 200,
		HumanSilence: 800 * time.Millisecond, MachineAction: config.MachineHangup}
	apps, avmd := analysisApps(a)
	if !avmd || len(apps) != 3 || apps[0].Name != "avmd_start" || apps[1].Name != "wait_for_silence" ||
		apps[1].Data != "200 40 5 3000" || apps[2].Name != "park" {
		t.Fatalf("avmd: %+v %v", apps, avmd)
	}
	a.Detector, a.Custom = config.DetectorCustom, config.CustomDetector{Application: "amd", Data: "x=1"}
	if apps, avmd = analysisApps(a); avmd || len(apps) != 2 || apps[0].Name != "amd" || apps[0].Data != "x=1" {
		t.Fatalf("custom, hang up machines: %+v %v", apps, avmd)
	}
	a.MachineAction = config.MachineVoicemail
	if apps, avmd = analysisApps(a); !avmd || len(apps) != 3 || apps[0].Name != "avmd_start" || apps[1].Name != "amd" {
		t.Fatalf("custom, voicemail: %+v %v", apps, avmd)
	}
}
