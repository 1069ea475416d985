//go:build record

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// The answer-analysis numbers of the lab (scripts/freeswitch-lab-config.sh): 0910RTTTNNNN a
// person who says "hello?" and is then silent for TTT s, 0911RNNNNNNN a machine (4 s greeting,
// a 1000 Hz beep, 20 s of silence), 0912RTTTNNNN silence for TTT s.
const (
	personInRoom   = "loopback/091010054893/customers"
	machineBeeps   = "loopback/091110004893/customers"
	nobodySpeaks   = "loopback/091210104893/customers"
	personMovedNow = "loopback/091010104894/customers"
)

// analysis is the inline dialplan of a customer's originate with mod_avmd and wait_for_silence
// (thresh 200, 40 silent frames, 5 heard frames, 3 s): the engine's form (issue 15).
var analysis = []freeswitch.App{{Name: "avmd_start"}, {Name: "wait_for_silence", Data: "200 40 5 3000"}, {Name: "park"}}

// answerAnalysis is capture 14: customers originated with beep detection and a wait for
// silence, as the engine dials a campaign with answer analysis, and what the engine does with
// each verdict: a person moved into the agent's room (avmd_stop first) and recorded there (an
// mp3 path refused, a wav path in directories that do not exist yet), hanging up by itself; a
// machine whose beep (avmd::beep) is answered with a message then hangup; silence ended with
// `avmd C stop` and uuid_kill; a person moved while wait_for_silence still runs, recorded and
// the recording stopped by uuid_record stop, then killed. The recordings are removed after.
func answerAnalysis(s *session) error {
	if r, err := s.command(must(freeswitch.EventSubscription(freeswitch.EngineEvents()))); err != nil || r != "+OK event listener enabled plain" {
		return fmt.Errorf("subscription: %q %v", r, err)
	}
	dir := filepath.Join(os.TempDir(), "kakeru-lab-rec-"+freeswitch.NewUUID()[:8])
	defer os.RemoveAll(dir)
	a := freeswitch.NewUUID()
	job, err := s.agent(a)
	if err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("agent's originate: %q %v", r, err)
	}
	if _, err := s.wait("the agent in its room", 5*time.Second, member("add-member", a)); err != nil {
		return err
	}
	room := must(freeswitch.Room(a, profile))
	toRoom := []freeswitch.App{{Name: "avmd_stop"}, {Name: "conference", Data: room}}
	dialWithAnalysis := func(c, dial string, attempt int) error {
		job, err := s.originate(freeswitch.Originate{UUID: c, DialString: dial, Inline: analysis,
			Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: customerCallerID},
				{Name: "originate_timeout", Value: "25"}, {Name: "ignore_early_media", Value: "true"},
				{Name: "dialer_attempt_id", Value: fmt.Sprint(attempt)},
				{Name: "conference_enter_sound", Value: beepTone}}})
		if err != nil {
			return err
		}
		if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
			return fmt.Errorf("customer %s: originate %q %v", c, r, err)
		}
		return nil
	}
	silenceWaited := func(c string) (*wire.Event, error) {
		return s.wait("wait_for_silence of "+c, 6*time.Second, func(e *wire.Event) bool {
			return e.Name() == "CHANNEL_EXECUTE_COMPLETE" && e.UniqueID() == c && e.Header.Get("Application") == "wait_for_silence"
		})
	}
	transfer := func(c string, apps []freeswitch.App) error {
		if r, err := s.api(must(freeswitch.UUIDTransferInline(c, apps))); err != nil || r != "+OK\n" {
			return fmt.Errorf("transfer of %s: %q %v", c, r, err)
		}
		return nil
	}

	// 1: a person, moved into the room once the wait for silence has ended, recorded there.
	c1 := freeswitch.NewUUID()
	if err := dialWithAnalysis(c1, personInRoom, 1); err != nil {
		return err
	}
	if _, err := silenceWaited(c1); err != nil {
		return err
	}
	if err := transfer(c1, toRoom); err != nil {
		return err
	}
	if _, err := s.wait("the customer "+c1+" in the room", 2*time.Second, member("add-member", c1)); err != nil {
		return err
	}
	if r, err := s.api(must(freeswitch.UUIDRecord(c1, true, filepath.Join(dir, "c1.mp3")))); err != nil || !strings.HasPrefix(r, "-ERR") {
		return fmt.Errorf("recording to mp3 without mod_shout: %q %v", r, err)
	}
	wav := filepath.Join(dir, "attempt", "1", "c1.wav")
	if r, err := s.api(must(freeswitch.UUIDRecord(c1, true, wav))); err != nil || r != "+OK Success\n" {
		return fmt.Errorf("uuid_record start: %q %v", r, err)
	}
	if _, err := s.wait("RECORD_STOP of "+c1, 6*time.Second, channelEvent("RECORD_STOP", c1)); err != nil {
		return err
	}
	if err := s.gone(c1, 2*time.Second); err != nil {
		return err
	}
	if _, err := os.Stat(wav); err != nil {
		return fmt.Errorf("the recording: %w", err)
	}
	time.Sleep(300 * time.Millisecond)

	// 2: a machine: its beep, then the message and hangup.
	c2 := freeswitch.NewUUID()
	if err := dialWithAnalysis(c2, machineBeeps, 2); err != nil {
		return err
	}
	if _, err := s.wait("the beep of "+c2, 8*time.Second, func(e *wire.Event) bool {
		return e.Name() == "CUSTOM" && e.Header.Get("Event-Subclass") == freeswitch.AVMDBeep && e.UniqueID() == c2
	}); err != nil {
		return err
	}
	if err := transfer(c2, []freeswitch.App{{Name: "avmd_stop"}, {Name: "playback", Data: abandonMsg},
		{Name: "hangup", Data: "NORMAL_CLEARING"}}); err != nil {
		return err
	}
	if err := s.gone(c2, 3*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// 3: nobody speaks: beep detection stopped by the api, the call hung up.
	c3 := freeswitch.NewUUID()
	if err := dialWithAnalysis(c3, nobodySpeaks, 3); err != nil {
		return err
	}
	if _, err := silenceWaited(c3); err != nil {
		return err
	}
	if r, err := s.api(must(freeswitch.AVMDStop(c3))); err != nil || r == "" {
		return fmt.Errorf("avmd stop: %q %v", r, err)
	}
	if r, err := s.api(must(freeswitch.UUIDKill(c3, "NORMAL_CLEARING"))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of %s: %q %v", c3, r, err)
	}
	if err := s.gone(c3, 2*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// 4: a person moved while the wait for silence still runs; recorded, the recording
	// stopped, then hung up by the client.
	c4 := freeswitch.NewUUID()
	if err := dialWithAnalysis(c4, personMovedNow, 4); err != nil {
		return err
	}
	time.Sleep(time.Second)
	if err := transfer(c4, toRoom); err != nil {
		return err
	}
	if _, err := s.wait("the customer "+c4+" in the room", 2*time.Second, member("add-member", c4)); err != nil {
		return err
	}
	wav4 := filepath.Join(dir, "c4.wav")
	if r, err := s.api(must(freeswitch.UUIDRecord(c4, true, wav4))); err != nil || r != "+OK Success\n" {
		return fmt.Errorf("uuid_record start: %q %v", r, err)
	}
	time.Sleep(time.Second)
	if r, err := s.api(must(freeswitch.UUIDRecord(c4, false, wav4))); err != nil || r != "+OK Success\n" {
		return fmt.Errorf("uuid_record stop: %q %v", r, err)
	}
	if _, err := s.wait("RECORD_STOP of "+c4, 2*time.Second, channelEvent("RECORD_STOP", c4)); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if r, err := s.api(must(freeswitch.UUIDKill(c4, "NORMAL_CLEARING"))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of %s: %q %v", c4, r, err)
	}
	if err := s.gone(c4, 2*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	if r, err := s.api(must(freeswitch.UUIDKill(a, ""))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of the agent: %q %v", r, err)
	}
	if err := s.gone(a, 2*time.Second); err != nil {
		return err
	}
	if _, err := s.wait("the room's end", 2*time.Second, roomEvent("conference-destroy", a)); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if err := s.exit(); err != nil {
		return err
	}
	if _, err := os.Stat(wav4); err != nil {
		return errors.Join(errors.New("the stopped recording"), err)
	}
	return nil
}

// detectChain is the analysis a loopback leg can hear: detect_audio (4 loud frames, 3 s), then
// detect_silence (41 silent frames, 3 s).
var detectChain = []freeswitch.App{{Name: "avmd_start"}, {Name: "detect_audio", Data: "200 3 3000"},
	{Name: "detect_silence", Data: "200 40 3000"}, {Name: "park"}}

// answerDetect is capture 15: the three answer-analysis fates with detect_audio and
// detect_silence instead of wait_for_silence, which hear the lab's loopback legs: a person
// (audio at once, silence after the hello), a machine (audio, then detect_silence times out
// during the greeting; its beep), silence (detect_audio times out). Each is hung up once its
// verdict (and the machine's beep) is in.
func answerDetect(s *session) error {
	if r, err := s.command(must(freeswitch.EventSubscription(freeswitch.EngineEvents()))); err != nil || r != "+OK event listener enabled plain" {
		return fmt.Errorf("subscription: %q %v", r, err)
	}
	for i, dial := range []string{"loopback/091010054895/customers", "loopback/091110004896/customers",
		"loopback/091210104897/customers"} {
		c := freeswitch.NewUUID()
		job, err := s.originate(freeswitch.Originate{UUID: c, DialString: dial, Inline: detectChain,
			Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: customerCallerID},
				{Name: "originate_timeout", Value: "25"}, {Name: "ignore_early_media", Value: "true"},
				{Name: "dialer_attempt_id", Value: fmt.Sprint(i + 1)}}})
		if err != nil {
			return err
		}
		if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
			return fmt.Errorf("customer %s: originate %q %v", c, r, err)
		}
		verdict, err := s.wait("detect_silence of "+c, 8*time.Second, func(e *wire.Event) bool {
			return e.Name() == "CHANNEL_EXECUTE_COMPLETE" && e.UniqueID() == c && e.Header.Get("Application") == "detect_silence"
		})
		if err != nil {
			return err
		}
		want := [][2]string{{"false", "false"}, {"false", "true"}, {"true", "false"}}[i]
		if got := [2]string{verdict.Header.Get("variable_detect_audio_timeout"), verdict.Header.Get("variable_detect_silence_timeout")}; got != want {
			return fmt.Errorf("%s: detect_audio_timeout/detect_silence_timeout %v, want %v", dial, got, want)
		}
		if i == 1 {
			if _, err := s.wait("the beep of "+c, 3*time.Second, func(e *wire.Event) bool {
				return e.Name() == "CUSTOM" && e.Header.Get("Event-Subclass") == freeswitch.AVMDBeep && e.UniqueID() == c
			}); err != nil {
				return err
			}
		}
		if r, err := s.api(must(freeswitch.UUIDKill(c, "NORMAL_CLEARING"))); err != nil || r != "+OK\n" {
			return fmt.Errorf("uuid_kill of %s: %q %v", c, r, err)
		}
		if err := s.gone(c, 2*time.Second); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
	return s.exit()
}
