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

// P-3: the avmd detector reads detect_audio's and detect_silence's completions: no sound by
// the time limit is unsure, a greeting ended by silence in a person's time is a person's, one
// still going then a machine's.
func TestAVMDVerdictFromTheGreeting(t *testing.T) {
	complete := func(app, variable, value string) *wire.Event {
		return event("Event-Name", "CHANNEL_EXECUTE_COMPLETE", "Application", app, variable, value)
	}
	for _, c := range []struct {
		name           string
		ev             *wire.Event
		result, detail string
		ok             bool
	}{
		{"silence", complete("detect_audio", "variable_detect_audio_timeout", "true"), amdUnsure, "silence", true},
		{"a greeting starts: its end decides", complete("detect_audio", "variable_detect_audio_timeout", "false"), "", "", false},
		{"hello then silence", complete("detect_silence", "variable_detect_silence_timeout", "false"), amdHuman, "short_greeting", true},
		{"speaking on", complete("detect_silence", "variable_detect_silence_timeout", "true"), amdMachine, "long_greeting", true},
		// A transfer or hangup cuts the application short: it sets no result.
		{"cut short", event("Event-Name", "CHANNEL_EXECUTE_COMPLETE", "Application", "detect_silence"), "", "", false},
		{"another application", complete("park", "variable_detect_silence_timeout", "false"), "", "", false},
	} {
		r, d, ok := avmdVerdict(c.ev)
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
	a.MaxHumanGreeting = 1500 * time.Millisecond
	apps, avmd := analysisApps(a)
	if !avmd || len(apps) != 4 || apps[0].Name != "avmd_start" || apps[1].Name != "detect_audio" || apps[1].Data != "200 3 3000" ||
		apps[2].Name != "detect_silence" || apps[2].Data != "200 40 2300" || apps[3].Name != "park" {
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
