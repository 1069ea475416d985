package engine_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// analysis turns on campaign 1's answer analysis with the avmd detector, its timings shortened
// so that the simulated switch (on the real clock) decides within a second, and records its
// connected calls under dir (unless dir is empty).
func analysis(action, dir string) func(*config.Config) {
	return func(cfg *config.Config) {
		cp := &cfg.Campaigns[0]
		cp.AnswerAnalysis = config.AnswerAnalysis{Detector: config.DetectorAVMD, TimeLimit: time.Second,
			MachineAction: action, VoicemailMessage: "tone_stream://%(2000,0,620)", BeepTimeout: 30 * time.Second,
			SilenceThreshold: 200, HumanSilence: 100 * time.Millisecond, MaxHumanGreeting: 300 * time.Millisecond}
		if dir != "" {
			cp.Recording = config.Recording{Mode: config.RecordingAll, Path: config.DefaultRecordingPath, Format: "wav"}
			cfg.FreeSWITCH.Recordings = config.Recordings{Directory: dir}
		}
	}
}

// fates gives each number its fate; agents' phones answer at once and stay.
func fates(byTel map[string]fsim.Fate) fsim.Script {
	return func(dial string) fsim.Fate {
		for tel, f := range byTel {
			if strings.Contains(dial, "/"+tel+"/") {
				return f
			}
		}
		return fsim.Fate{Answer: true}
	}
}

func offered(h *harness, attempt int64) bool {
	for _, ev := range h.events.of(liveevents.CallOffered) {
		if ev.Data["attempt_id"] == attempt {
			return true
		}
	}
	return false
}

// P-3, P-2: with answer analysis the switch classifies each answer before any agent is sought.
// A machine (its greeting goes on) is hung up and recorded machine without an agent; a person
// (a short hello, then silence) is put through, the detector stopped first, and recorded with
// its verdict; nobody speaking is unsure, a person, whose connect deadline counts from the
// verdict, not the answer. The connected call is recorded from the moment it reaches the agent.
func TestAnswerAnalysisClassifiesBeforeTheAgent(t *testing.T) {
	t.Parallel()
	const person, machine, silent = "09011110001", "09011110002", "09011110003"
	dir := t.TempDir()
	h := newHarness(t, harnessOptions{tels: []string{person, machine, silent},
		script: fates(map[string]fsim.Fate{
			person:  {Answer: true, Ring: 20 * time.Millisecond, Voice: fsim.Person, Greeting: 100 * time.Millisecond},
			machine: {Answer: true, Ring: 20 * time.Millisecond, Voice: fsim.Machine, Greeting: 2 * time.Second, Beep: true},
			silent:  {Answer: true, Ring: 20 * time.Millisecond, Voice: fsim.Silence},
		}),
		configure: func(cfg *config.Config) { pacing(1, "ratio", 3)(cfg); analysis(config.MachineHangup, dir)(cfg) }})
	// The switch refuses the first recording, as the lab switch does when two calls create the
	// same new day's directory at once: the engine asks again.
	var refused atomic.Bool
	h.tap.Intercept(func(cmd string) *apiAnswer {
		if strings.HasPrefix(cmd, "uuid_record ") && refused.CompareAndSwap(false, true) {
			return &apiAnswer{err: &freeswitch.CommandError{Command: "uuid_record", Reply: "-ERR Cannot record session!"}}
		}
		return nil
	})
	h.join(1001)
	h.waitFor("the three numbers answered", func() bool {
		for _, tel := range []string{person, machine, silent} {
			if a := h.store.Attempts(tel); len(a) != 1 || a[0].AnsweredAt == nil {
				return false
			}
		}
		return true
	})

	// The detector runs on the answer, before the customer parks.
	for _, tel := range []string{person, machine, silent} {
		if o := h.originates("loopback/" + tel + "/"); len(o) != 1 ||
			!strings.Contains(o[0], " 'm:^:avmd_start:^detect_audio:200 3 1000^detect_silence:200 5 400^park:' inline") {
			t.Fatalf("originate of %s: %q", tel, o)
		}
	}
	// The machine: hung up at its verdict, never offered to an agent.
	h.waitFor("the machine recorded", func() bool { return h.store.Outcome(machine) == domain.OutcomeMachine })
	m := h.store.Attempts(machine)[0]
	if m.AgentID != nil || m.BridgedAt != nil || m.Analysis == nil || m.Analysis.Result != "machine" ||
		m.Analysis.Detail != "long_greeting" || m.Analysis.MachineAction != "hangup" || m.RecordingPath != "" || offered(h, m.ID) {
		t.Fatalf("machine %+v %+v", m, m.Analysis)
	}
	if k := h.commands("api uuid_kill " + h.customerLeg(machine)); len(k) != 1 || !strings.HasSuffix(k[0], " NORMAL_CLEARING") {
		t.Fatalf("machine hung up with %q", k)
	}

	// The person: put through with the detector stopped first, and recorded from the join.
	on := h.waitState(1001, domain.AgentOnCall)
	p := h.store.Attempts(person)[0]
	if on.AttemptID != p.ID {
		t.Fatalf("agent on attempt %d, the person's is %d", on.AttemptID, p.ID)
	}
	leg := h.customerLeg(person)
	if mv := h.commands("api uuid_transfer " + leg); len(mv) != 1 ||
		mv[0] != "api uuid_transfer "+leg+" 'm:^:avmd_stop:^conference:"+h.agentLeg(1001)+"@default' inline" {
		t.Fatalf("person moved with %q", mv)
	}
	file := filepath.Join(dir, "1", h.clock.Now().Format("2006-01-02"), fmtID(p.ID)+".wav")
	h.waitFor("the recording started", func() bool { return len(h.commands("api uuid_record "+leg+" start ")) == 1 })
	if r := h.commands("api uuid_record " + leg); r[0] != "api uuid_record "+leg+" start "+file || len(h.tap.Sent("uuid_record ")) != 2 {
		t.Fatalf("recording %q (sent %q), want the file %s", r, h.tap.Sent("uuid_record "), file)
	}

	// Nobody speaking: unsure at the detector's time limit, a person waiting for an agent; the
	// agent is busy, so it is abandoned at the connect deadline counted from the verdict.
	s := h.store.Attempts(silent)[0]
	// Time passes on the engine's clock while the detector listens (it decides on the switch's).
	h.clock.Advance(900 * time.Millisecond)
	h.waitFor("the silent number offered", func() bool { return offered(h, s.ID) })
	h.advance(1900 * time.Millisecond)
	if o, ab := h.store.Outcome(silent), h.commands("api uuid_transfer "+h.customerLeg(silent)); o != domain.OutcomeInProgress || len(ab) != 0 {
		t.Fatalf("silent number %s, %q before its deadline", o, ab)
	}
	h.advance(100 * time.Millisecond)
	h.waitFor("the silent number abandoned", func() bool { return h.store.Outcome(silent) == domain.OutcomeAbandoned })
	if s = h.store.Attempts(silent)[0]; s.Analysis == nil || s.Analysis.Result != "unsure" || s.Analysis.Detail != "silence" {
		t.Fatalf("silent number %+v", s.Analysis)
	}

	h.hangupCustomer(1001)
	h.waitFor("the person's call and recording written", func() bool {
		a := h.store.Attempts(person)[0]
		return a.Outcome == domain.OutcomeConnected && a.RecordingLength != nil
	})
	p = h.store.Attempts(person)[0]
	if p.Analysis == nil || p.Analysis.Result != "human" || p.Analysis.Detail != "short_greeting" || p.Analysis.MachineAction != "" ||
		p.RecordingPath != "1/"+h.clock.Now().Format("2006-01-02")+"/"+fmtID(p.ID)+".wav" {
		t.Fatalf("person %+v %+v", p, p.Analysis)
	}
	fi, err := os.Stat(file)
	if err != nil || p.RecordingBytes != fi.Size() || *p.RecordingLength <= 0 {
		t.Fatalf("recording file %v %v, recorded %d bytes, %v", fi, err, p.RecordingBytes, *p.RecordingLength)
	}
	// The pacer counted the two persons as live answers and the machine as none (P-2).
	if v, ok := h.in.eng.Pacing(h.job); !ok || v.Compliance.Rolling24h.Live != 2 || v.Compliance.Rolling24h.Abandoned != 1 {
		t.Fatalf("pacing view %+v", v.Compliance)
	}
}

// P-3: with the voicemail action, a machine hears the campaign's message once its beep has been
// heard, then is hung up; the attempt records when the message started.
func TestVoicemailAfterTheBeep(t *testing.T) {
	t.Parallel()
	const machine = "09011110002"
	h := newHarness(t, harnessOptions{tels: []string{machine},
		script: fates(map[string]fsim.Fate{
			machine: {Answer: true, Ring: 20 * time.Millisecond, Voice: fsim.Machine, Greeting: 600 * time.Millisecond, Beep: true},
		}),
		configure: analysis(config.MachineVoicemail, "")})
	var sent atomic.Pointer[time.Time]
	h.tap.Intercept(func(cmd string) *apiAnswer {
		if strings.Contains(cmd, "^playback:") {
			now := time.Now()
			sent.CompareAndSwap(nil, &now)
		}
		return nil
	})
	h.join(1001)
	h.waitFor("the machine recorded", func() bool { return h.store.Outcome(machine) == domain.OutcomeMachine })
	m := h.store.Attempts(machine)[0]
	if m.Analysis == nil || m.Analysis.Result != "machine" || m.Analysis.MachineAction != "voicemail" || m.Analysis.VoicemailAt == nil {
		t.Fatalf("machine %+v", m.Analysis)
	}
	leg := h.customerLeg(machine)
	if vm := h.commands("api uuid_transfer " + leg); len(vm) != 1 ||
		vm[0] != "api uuid_transfer "+leg+" 'm:^:avmd_stop:^playback:tone_stream://%(2000,0,620)^hangup:NORMAL_CLEARING' inline" {
		t.Fatalf("voicemail %q", vm)
	}
	// The message went out after the beep, which the machine plays at the end of its greeting:
	// not at the verdict (its greeting still going after 400 ms).
	var answered time.Time
	for _, r := range h.sw.History() {
		if r.UUID == leg {
			answered = r.Answered
		}
	}
	if at := sent.Load(); m.Analysis.Detail != "long_greeting" || at == nil || at.Sub(answered) < 600*time.Millisecond {
		t.Fatalf("verdict %s, message sent at %v, answered at %v", m.Analysis.Detail, at, answered)
	}
	if h.agent(1001).State != domain.AgentAvailable {
		t.Fatalf("agent %+v", h.agent(1001))
	}
}

func fmtID(id int64) string { return strconv.FormatInt(id, 10) }

// P-3, P-2: with the agent action a machine is put through like a person, and recorded
// connected with its verdict, but it is no person: the pacer counts it in no live answer.
func TestMachineForAnAgent(t *testing.T) {
	t.Parallel()
	const machine = "09011110002"
	h := newHarness(t, harnessOptions{tels: []string{machine},
		script: fates(map[string]fsim.Fate{
			machine: {Answer: true, Ring: 20 * time.Millisecond, Voice: fsim.Machine, Greeting: 2 * time.Second, Beep: true},
		}),
		configure: analysis(config.MachineAgent, "")})
	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	h.hangupCustomer(1001)
	h.waitFor("the machine's call recorded", func() bool { return h.store.Outcome(machine) == domain.OutcomeConnected })
	m := h.store.Attempts(machine)[0]
	if m.ID != on.AttemptID || m.Analysis == nil || m.Analysis.Result != "machine" || m.Analysis.MachineAction != "agent" {
		t.Fatalf("machine %+v %+v", m, m.Analysis)
	}
	if v, ok := h.in.eng.Pacing(h.job); !ok || v.Compliance.Rolling24h.Live != 0 || v.Compliance.Rolling24h.Abandoned != 0 {
		t.Fatalf("pacing view %+v", v.Compliance)
	}
}

// Recording on request: nothing is recorded until the agent asks; the agent may stop it (a
// card number read out), and the attempt keeps the part recorded, its length up to the stop.
func TestRecordingOnRequestStartsAndStops(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	dir := t.TempDir()
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: func(cfg *config.Config) {
		cfg.Campaigns[0].Recording = config.Recording{Mode: config.RecordingOnRequest, Path: config.DefaultRecordingPath, Format: "wav"}
		cfg.FreeSWITCH.Recordings = config.Recordings{Directory: dir}
	}})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	h.waitFor("the call connected", func() bool { return len(h.events.of(liveevents.CallConnected)) == 1 })
	leg := h.customerLeg(tel)
	h.passes(2)
	if r := h.commands("api uuid_record " + leg); len(r) != 0 {
		t.Fatalf("recorded without a request: %q", r)
	}
	h.request(1001, domain.RequestRecordCall, "")
	h.waitFor("the recording started", func() bool { return len(h.commands("api uuid_record "+leg+" start ")) == 1 })
	h.advance(3 * time.Second)
	h.request(1001, domain.RequestStopRecording, "")
	h.waitFor("the recording stopped", func() bool { return len(h.commands("api uuid_record "+leg+" stop ")) == 1 })
	h.request(1001, domain.RequestStopRecording, "") // once only
	h.advance(5 * time.Second)
	h.hangupCustomer(1001)
	h.waitFor("the recording written", func() bool {
		a := h.store.Attempts(tel)[0]
		return a.Outcome == domain.OutcomeConnected && a.RecordingLength != nil
	})
	a := h.store.Attempts(tel)[0]
	if n := len(h.commands("api uuid_record " + leg + " stop ")); n != 1 || a.RecordingPath == "" {
		t.Fatalf("stops %d, attempt %+v", n, a)
	}
	if _, err := os.Stat(filepath.Join(dir, a.RecordingPath)); err != nil {
		t.Fatal(err)
	}
}
