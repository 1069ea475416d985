package fsim_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

var labRecordings = regexp.MustCompile(`/tmp/kakeru-lab-rec-[0-9a-f]+`)

// recordInTempDir makes capture 14's recordings, made under the lab machine's /tmp, go to a
// directory of the test's own.
func recordInTempDir() func(t *testing.T, cmd string) string {
	dir := ""
	return func(t *testing.T, cmd string) string {
		if dir == "" {
			dir = t.TempDir()
		}
		return labRecordings.ReplaceAllLiteralString(cmd, dir)
	}
}

// checkAnalysis: the verdict variables of every wait_for_silence, in order, are the real
// switch's (on its loopback legs: UnsequencedFrames), then checkRecordings.
func checkAnalysis(t *testing.T, cmds []string, want, got []*wire.Frame) {
	t.Helper()
	verdicts := func(frames []*wire.Frame) []string {
		var out []string
		for _, f := range frames {
			e, err := wire.ParsePlainEvent(f)
			if err == nil && f.ContentType() == "text/event-plain" && e.Name() == "CHANNEL_EXECUTE_COMPLETE" &&
				e.Header.Get("Application") == "wait_for_silence" {
				out = append(out, e.Header.Get("variable_wait_for_silence_timeout")+"/"+
					e.Header.Get("variable_wait_for_silence_listenhits")+"/"+e.Header.Get("variable_wait_for_silence_silence_hits"))
			}
		}
		return out
	}
	if w, g := verdicts(want), verdicts(got); strings.Join(w, " ") != strings.Join(g, " ") {
		t.Errorf("wait_for_silence verdicts %v, FreeSWITCH %v", g, w)
	}
	checkRecordings(t, cmds, want, got)
}

// checkDetectVerdicts: detect_audio and detect_silence give the real switch's verdicts, in order.
func checkDetectVerdicts(t *testing.T, _ []string, want, got []*wire.Frame) {
	t.Helper()
	verdicts := func(frames []*wire.Frame) []string {
		var out []string
		for _, f := range frames {
			e, err := wire.ParsePlainEvent(f)
			if err == nil && f.ContentType() == "text/event-plain" && e.Name() == "CHANNEL_EXECUTE_COMPLETE" {
				if app := e.Header.Get("Application"); strings.HasPrefix(app, "detect_") {
					out = append(out, app+"="+e.Header.Get("variable_"+app+"_timeout")+"/"+e.Header.Get("variable_"+app+"_hits"))
				}
			}
		}
		return out
	}
	if w, g := verdicts(want), verdicts(got); strings.Join(w, " ") != strings.Join(g, " ") {
		t.Errorf("detect verdicts %v, FreeSWITCH %v", g, w)
	}
}

// checkRecordings: each RECORD_STOP of the simulator names a WAV file that exists, 8 kHz 16-bit
// mono with record_samples samples, and records as long as the real switch did (within 60 ms).
func checkRecordings(t *testing.T, _ []string, want, got []*wire.Frame) {
	t.Helper()
	stops := func(frames []*wire.Frame) []*wire.Event {
		var out []*wire.Event
		for _, f := range frames {
			if e, err := wire.ParsePlainEvent(f); err == nil && f.ContentType() == "text/event-plain" && e.Name() == "RECORD_STOP" {
				out = append(out, e)
			}
		}
		return out
	}
	w, g := stops(want), stops(got)
	if len(w) != 2 || len(g) != len(w) {
		t.Fatalf("RECORD_STOP: simulator %d, FreeSWITCH %d", len(g), len(w))
	}
	for i := range w {
		wms, _ := strconv.Atoi(w[i].Header.Get("variable_record_ms"))
		gms, _ := strconv.Atoi(g[i].Header.Get("variable_record_ms"))
		if d := gms - wms; d < -60 || d > 60 {
			t.Errorf("recording %d: %d ms, FreeSWITCH %d ms", i, gms, wms)
		}
		if gc, wc := g[i].Header.Get("Record-Completion-Cause"), w[i].Header.Get("Record-Completion-Cause"); gc != wc {
			t.Errorf("recording %d: completion cause %q, FreeSWITCH %q", i, gc, wc)
		}
		b, err := os.ReadFile(g[i].Header.Get("Record-File-Path"))
		if err != nil {
			t.Fatalf("recording %d: %v", i, err)
		}
		samples, _ := strconv.Atoi(g[i].Header.Get("variable_record_samples"))
		if len(b) != 44+2*samples || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || b[22] != 1 || b[24] != 0x40 || b[25] != 0x1f {
			t.Errorf("recording %d: %d bytes, not a mono 8 kHz WAV of %d samples", i, len(b), samples)
		}
		if size := g[i].Header.Get("variable_record_file_size"); size != strconv.Itoa(len(b)) {
			t.Errorf("recording %d: record_file_size %s, file %d bytes", i, size, len(b))
		}
	}
}

// The answer-analysis applications hear the fate's sound as the switch's would (issue 15):
// wait_for_silence ends 25 frames after SIL silent frames that follow more than LISTEN heard
// ones, else at its timeout (the first two frames read at once, as on the lab switch); mod_avmd
// reports a machine's beep 80 ms after it starts; mod_amd gives its verdict. The applications
// start 20 ms after the answer (OriginateReturn).
func TestAnswerAnalysisFollowsTheFate(t *testing.T) {
	cases := []struct {
		fate  fsim.Fate
		app   string
		after time.Duration
		vars  map[string]string
		beep  time.Duration // after the answer; 0: none
	}{
		{fsim.Fate{}, "wait_for_silence:200 40 5 3000", 1880 * time.Millisecond,
			map[string]string{"wait_for_silence_timeout": "false", "wait_for_silence_listenhits": "30",
				"wait_for_silence_silence_hits": "0"}, 0},
		{fsim.Fate{Voice: fsim.Machine, Beep: true}, "wait_for_silence:200 40 5 3000", 2980 * time.Millisecond,
			map[string]string{"wait_for_silence_timeout": "true", "wait_for_silence_listenhits": "149"}, 4080 * time.Millisecond},
		{fsim.Fate{Voice: fsim.Silence}, "wait_for_silence:200 40 5 3000", 2980 * time.Millisecond,
			map[string]string{"wait_for_silence_timeout": "true", "wait_for_silence_listenhits": "0"}, 0},
		{fsim.Fate{}, "detect_audio:200 3 3000", 60 * time.Millisecond, map[string]string{"detect_audio_timeout": "false"}, 0},
		{fsim.Fate{Voice: fsim.Silence}, "detect_audio:200 3 3000", 2980 * time.Millisecond,
			map[string]string{"detect_audio_timeout": "true", "detect_audio_hits": "0"}, 0},
		{fsim.Fate{Greeting: time.Second}, "detect_silence:200 40 3000", 1800 * time.Millisecond,
			map[string]string{"detect_silence_timeout": "false"}, 0},
		{fsim.Fate{Greeting: time.Second}, "amd", 1820 * time.Millisecond,
			map[string]string{"amd_result": "HUMAN", "amd_cause": "HUMAN"}, 0},
		{fsim.Fate{Voice: fsim.Machine, Beep: true, BeepAfter: time.Second}, "amd", 1520 * time.Millisecond,
			map[string]string{"amd_result": "MACHINE", "amd_cause": "LONGGREETING"}, 5080 * time.Millisecond},
		{fsim.Fate{Voice: fsim.Silence}, "amd", 2520 * time.Millisecond,
			map[string]string{"amd_result": "MACHINE", "amd_cause": "INITIALSILENCE"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.app, func(t *testing.T) {
			tc.fate.Answer, tc.fate.Ring = true, time.Second
			r := newRawSession(t, fsim.Options{Script: func(string) fsim.Fate { return tc.fate }},
				"CHANNEL_ANSWER CHANNEL_EXECUTE_COMPLETE CUSTOM avmd::beep")
			app, _, _ := strings.Cut(tc.app, ":")
			c := r.originate(customerDial, "'m:^:avmd_start^"+tc.app+"^park' inline")
			var answered, ended, beep time.Time
			var done *wire.Event
			for range 400 {
				r.advance(frameStep)
				for _, e := range r.events {
					switch {
					case e.Name() == "CHANNEL_ANSWER":
						answered = r.clock.Now()
					case e.Name() == "CHANNEL_EXECUTE_COMPLETE" && e.Header.Get("Application") == app:
						ended, done = r.clock.Now(), e
					case e.Name() == "CUSTOM" && e.Header.Get("Variable_uuid") == "" && e.Header.Get("Channel-State") == "":
						beep = r.clock.Now()
						if e.UniqueID() != c || e.Header.Get("Beep-Status") != "DETECTED" {
							t.Errorf("avmd::beep %v", e.Header)
						}
					}
				}
				r.events = nil
			}
			if done == nil {
				t.Fatalf("no CHANNEL_EXECUTE_COMPLETE of %s", app)
			}
			if took := ended.Sub(answered); took != tc.after {
				t.Errorf("%s ended %v after the answer, want %v", tc.app, took, tc.after)
			}
			for k, v := range tc.vars {
				if got := done.Header.Get("variable_" + k); got != v {
					t.Errorf("%s: %s=%q, want %q", tc.app, k, got, v)
				}
			}
			if got := time.Duration(0); !beep.IsZero() {
				got = beep.Sub(answered)
				if got != tc.beep {
					t.Errorf("avmd::beep %v after the answer, want %v", got, tc.beep)
				}
			} else if tc.beep != 0 {
				t.Errorf("no avmd::beep, want one %v after the answer", tc.beep)
			}
		})
	}
}

// frameStep is how far the analysis test moves the clock at a time: one 20 ms frame.
const frameStep = 20 * time.Millisecond

// uuid_record and avmd answer as the lab switch does (capture 14): an mp3 is refused, a stop
// of nothing recorded is refused, a recording stopped by uuid_record stop is a WAV as long as
// it ran, and a recording still running at the hangup ends with it, in directories made for it.
func TestRecordingAndAVMDReplies(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: fsim.Answering(time.Second, 10*time.Second)},
		"CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE RECORD_START RECORD_STOP")
	c := r.originate(customerDial, "&park()")
	r.advance(2 * time.Second)
	dir := t.TempDir()
	for cmd, want := range map[string]string{
		"api uuid_record " + c + " start " + dir + "/x.mp3":     "-ERR Cannot record session!\n",
		"api uuid_record " + c + " stop " + dir + "/none.wav":   "-ERR Cannot stop record session!\n",
		"api avmd " + c + " stop":                               "+ERR, avmd has not yet been started on\n [" + c + "] [" + customerDial + "]\n\n",
		"api uuid_record " + c + " start " + dir + "/a/b/1.wav": "+OK Success\n",
		"api uuid_record " + c + " start " + dir + "/2.wav":     "+OK Success\n",
	} {
		if got := r.send(cmd); got != want {
			t.Errorf("%s: %q, want %q", cmd, got, want)
		}
	}
	r.advance(1500 * time.Millisecond)
	if got := r.send("api uuid_record " + c + " stop " + dir + "/2.wav"); got != "+OK Success\n" {
		t.Fatalf("stop: %q", got)
	}
	r.advance(10 * time.Second) // the customer hangs up 10 s after the answer
	eq(t, "recordings", r.take(), "RECORD_START "+c[:8], "RECORD_START "+c[:8], "RECORD_STOP "+c[:8],
		"CHANNEL_HANGUP NORMAL_CLEARING "+c[:8], "RECORD_STOP "+c[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8])
	for path, ms := range map[string]int{dir + "/2.wav": 1500, dir + "/a/b/1.wav": 9000} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 44+16*ms {
			t.Errorf("%s: %d bytes, want a %d ms WAV (%d)", path, len(b), ms, 44+16*ms)
		}
	}
}
