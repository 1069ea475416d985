//go:build lab

package labtest

import (
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// amdList is n numbers: 30% answering machines, 57% persons (ring 0-2 s, on the line 8-15 s:
// the simulated agents hang up first), 5% nobody speaking (unsure, a person), 4% busy, 4% no
// answer.
func amdList(n int, seed uint64) []string {
	r := mrand.New(mrand.NewPCG(seed, 15))
	tels := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		switch p := r.IntN(100); {
		case p < 30:
			tels = append(tels, Machine(r.IntN(3), i))
		case p < 87:
			tels = append(tels, Person(r.IntN(3), 8+r.IntN(8), i))
		case p < 92:
			tels = append(tels, Silent(r.IntN(3), 10, i))
		case p < 96:
			tels = append(tels, Busy(i))
		default:
			tels = append(tels, NoAnswer(i))
		}
	}
	return tels
}

// analysisOptions turn on campaign 1's answer analysis (detector avmd, machines handled by
// action) and the recording of every connected call under dir.
func analysisOptions(o Options, action, dir string) Options {
	o.Edit = func(cfg map[string]any) {
		c := cfg["campaigns"].([]any)[0].(map[string]any)
		aa := map[string]any{"detector": "avmd", "time_limit": "3s", "machine_action": action}
		if action == "voicemail" {
			aa["voicemail_message"] = VoicemailMessage
			aa["beep_timeout"] = "15s"
		}
		c["answer_analysis"] = aa
		// The lab's detector takes no person for a machine (none in 1,000 calls): nothing unseen
		// to keep room for.
		aa["false_positive_estimate"] = 0
		c["recording"] = map[string]any{"mode": "all", "path": "{campaign}/{date}/{attempt}.{format}"}
		cfg["freeswitch"].(map[string]any)["recordings"] = map[string]any{"directory": dir}
	}
	return o
}

// answerMachinesDay is how long TestLabAnswerMachines' calling day lasts from its instance's
// start: every contact dialed with room to spare. The guard holds the run close to progressive,
// closer as the day's end nears: dialing took 4m10s, 4m29s and 4m35s with days of 8, 6 and 5
// minutes.
const answerMachinesDay = 6 * time.Minute

// VoicemailMessage is what the lab leaves on machines: 2 s of 620 Hz.
const VoicemailMessage = "tone_stream://%(2000,0,620)"

// wavLength reads a PCM WAV file's length from its header and data size.
func wavLength(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, fmt.Errorf("%s: not a WAV file", path)
	}
	var byteRate uint32
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		body := off + 8
		switch id {
		case "fmt ":
			if body+12 > len(b) {
				return 0, fmt.Errorf("%s: short fmt chunk", path)
			}
			byteRate = binary.LittleEndian.Uint32(b[body+8 : body+12])
		case "data":
			if byteRate == 0 {
				return 0, fmt.Errorf("%s: data before fmt", path)
			}
			size = min(size, len(b)-body) // a header not updated yet: what is there
			return time.Duration(float64(size) / float64(byteRate) * float64(time.Second)), nil
		}
		off = body + size + size%2
	}
	return 0, fmt.Errorf("%s: no data chunk", path)
}

// callingDayEnding makes the run campaign 1's calling day: its business hours end margin from
// now, rounded up to the minute, in the campaign's zone (J-6: the job dials no later). A run
// that would go past midnight there is skipped: the day-budget guard counts on that end.
func callingDayEnding(t *testing.T, o Options, margin time.Duration) Options {
	edit := o.Edit
	o.Edit = func(cfg map[string]any) {
		if edit != nil {
			edit(cfg)
		}
		c := cfg["campaigns"].([]any)[0].(map[string]any)
		zone, _ := c["time_zone"].(string)
		if zone == "" {
			zone = "Asia/Tokyo" // the configuration's default
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().In(loc)
		end := now.Add(margin)
		if rest := time.Duration(end.Second())*time.Second + time.Duration(end.Nanosecond()); rest > 0 {
			end = end.Add(time.Minute - rest)
		}
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
		hhmm := end.Format("15:04")
		switch {
		case end.After(midnight):
			t.Skipf("the run (%v from %s) would cross midnight in %s: its calling day would end at 24:00, not with the run",
				margin, now.Format("15:04:05"), zone)
		case end.Equal(midnight):
			hhmm = "24:00"
		}
		c["business_hours"].(map[string]any)["end"] = hhmm
		t.Logf("campaign 1's calling day ends at %s %s", hhmm, zone)
	}
	return o
}

// Answer analysis on the real switch (P-3, P-2): 300 contacts, predictive, 30% answering
// machines, detector avmd (mod_avmd's beep and wait_for_silence's greeting), machines hung up,
// every connected call recorded. Machines never reach an agent and are recorded machine; persons
// are classified human, silent numbers unsure (and given an agent); the abandon rate over
// persons stays within the campaign's 3% target; every connected call has a recording whose
// length (the switch's and the file's) is within 1 s of the talk time. The campaign's calling
// day ends shortly after the run, so the day-budget guard (P-2, issue 18) holds the run's rate
// within the target. About 5 minutes.
func TestLabAnswerMachines(t *testing.T) {
	const contacts = 300
	agents := []int{1001, 1002, 1003, 1004, 1005, 1006}
	recDir := t.TempDir()
	o := observe(t)
	opts := analysisOptions(Options{Agents: agents, Pacing: "predictive", ConnectDeadline: 2 * time.Second}, "hangup", recDir)
	in := StartInstance(t, callingDayEnding(t, opts, answerMachinesDay))
	o.Only(in.CallerIDs()...)
	tels := amdList(contacts, 1)
	job := in.CreateJob(t, "answer analysis", tels)
	in.StartJob(t, job.ID)
	sim := &AgentSim{In: in, Job: job.ID, Agents: agents, Talk: 5 * time.Second, Wrap: 500 * time.Millisecond,
		Codes: []string{"interested", "not_interested"}}
	attempts, released := workJob(t, sim, o, contacts, 8*time.Minute, time.Minute)
	legs := o.Legs()
	c := Compare(legs, attempts, Expect{Released: released, ConnectDeadline: in.ConnectDeadline(), ClassifyLimit: 3500 * time.Millisecond})
	t.Logf("switch vs PostgreSQL:\n%s", c.Summary())
	if err := c.WriteReport(filepath.Join(in.Dir, "comparison.txt"), legs); err != nil {
		t.Error(err)
	}
	for _, p := range c.Problems {
		t.Error(p.String())
	}
	for _, d := range c.AgentDrops {
		t.Error("agent leg: " + d)
	}
	for _, ov := range c.Overlaps {
		t.Error(ov)
	}
	if len(attempts) < contacts {
		t.Errorf("%d attempts for %d contacts", len(attempts), contacts)
	}

	byUUID := map[string]Leg{}
	for _, l := range legs {
		byUUID[l.UUID] = l
	}
	verdicts := map[string]map[string]int{} // fate → verdict → count
	took := map[string][]time.Duration{}
	var persons, abandoned, recorded int
	for _, a := range attempts {
		f := FateOf(a.Tel)
		kind := "person"
		switch {
		case f.Machine:
			kind = "machine"
		case !f.Answers:
			continue
		case !f.Speaks:
			kind = "silent"
		}
		if a.AnsweredAt.IsZero() {
			continue
		}
		if verdicts[kind] == nil {
			verdicts[kind] = map[string]int{}
		}
		verdicts[kind][a.AMDResult+"/"+a.AMDDetail]++
		took[kind] = append(took[kind], time.Duration(a.AMDMillis)*time.Millisecond)
		switch kind {
		case "machine":
			// Never a person's (P-3): hung up without an agent.
			if a.Outcome != "machine" || a.AMDResult != "machine" || a.AgentID != 0 || a.MachineAction != "hangup" {
				t.Errorf("machine: %s", a)
			}
		default:
			if a.AMDResult == "machine" || a.Outcome == "machine" {
				t.Errorf("a %s taken for a machine: %s", kind, a)
			}
			if kind == "silent" && a.AMDResult != "unsure" {
				t.Errorf("silence not unsure: %s", a)
			}
			persons++
			if a.Outcome == "abandoned" {
				abandoned++
			}
		}
		if a.Outcome != "connected" {
			if a.RecordingPath != "" {
				t.Errorf("a call that never reached an agent was recorded: %s", a)
			}
			continue
		}
		// Recorded from the join to the end: the switch's length and the file's both within 1 s
		// of the talk time.
		talk := byUUID[a.ChannelUUID].Talk()
		if a.RecordingPath == "" || a.RecordingMillis < 0 || a.RecordingBytes <= 0 {
			t.Errorf("connected call without a finished recording: %s", a)
			continue
		}
		recorded++
		if d := absDur(time.Duration(a.RecordingMillis)*time.Millisecond - talk); d > time.Second {
			t.Errorf("recording %dms, the switch's talk %v: %s", a.RecordingMillis, talk.Round(time.Millisecond), a)
		}
		fileLen, err := wavLength(filepath.Join(recDir, a.RecordingPath))
		if err != nil {
			t.Errorf("%s: %v", a, err)
			continue
		}
		if d := absDur(fileLen - talk); d > time.Second {
			t.Errorf("recording file %v long, the switch's talk %v: %s", fileLen.Round(time.Millisecond), talk.Round(time.Millisecond), a)
		}
		if !strings.HasPrefix(a.RecordingPath, "1/") || !strings.HasSuffix(a.RecordingPath, fmt.Sprintf("/%d.wav", a.ID)) {
			t.Errorf("recording path %q does not follow the campaign's template", a.RecordingPath)
		}
	}
	for kind, v := range verdicts {
		t.Logf("%s: verdicts %v, classification time p50 %v p90 %v", kind, v,
			Percentile(sortedDur(took[kind]), 0.5), Percentile(sortedDur(took[kind]), 0.9))
	}
	if verdicts["machine"]["machine/long_greeting"]+verdicts["machine"]["machine/beep"] == 0 {
		t.Errorf("no machine classified: %v", verdicts)
	}
	if human := verdicts["person"]["human/short_greeting"]; human*10 < sum(verdicts["person"])*9 {
		t.Errorf("persons classified human %d of %d", human, sum(verdicts["person"]))
	}
	rate := 0.0
	if persons > 0 {
		rate = float64(abandoned) / float64(persons)
	}
	t.Logf("abandon rate over persons %.2f%% (%d of %d); %d connected calls recorded", rate*100, abandoned, persons, recorded)
	// Held by the day-budget guard (P-2, issue 18): the calls uncovered by a ready agent never
	// outnumber the abandons the target still allows plus the credit of the rest of the day,
	// none at its end, so a day that ends with the run ends within the target. The lab's detector
	// takes no person for a machine: the recorded rate is the rate over persons.
	if rate > 0.03 {
		t.Errorf("abandon rate over persons %.2f%% > 3%%", rate*100)
	}
}

// Voicemail drop on the real switch: answering machines hear the campaign's message only after
// their beep (mod_avmd's avmd::beep), then are hung up; a person among them reaches the agent.
func TestLabVoicemailDrop(t *testing.T) {
	agents := []int{1001}
	o := observe(t)
	in := StartInstance(t, analysisOptions(Options{Agents: agents, Pacing: "progressive"}, "voicemail", t.TempDir()))
	o.Only(in.CallerIDs()...)
	tels := []string{Machine(0, 1), Machine(1, 2), Person(0, 3, 3), Machine(0, 4)}
	job := in.CreateJob(t, "voicemail", tels)
	in.StartJob(t, job.ID)
	sim := &AgentSim{In: in, Job: job.ID, Agents: agents, Talk: 2 * time.Second, Wrap: 300 * time.Millisecond}
	attempts, _ := workJob(t, sim, o, len(tels), 2*time.Minute, 0)
	byUUID := map[string]Leg{}
	for _, l := range o.Legs() {
		byUUID[l.UUID] = l
	}
	for _, a := range attempts {
		l := byUUID[a.ChannelUUID]
		if !FateOf(a.Tel).Machine {
			if a.Outcome != "connected" || a.AMDResult != "human" {
				t.Errorf("person: %s", a)
			}
			continue
		}
		if a.Outcome != "machine" || a.MachineAction != "voicemail" || a.VoicemailAt.IsZero() || l.Joined() {
			t.Errorf("machine: %s (%s)", a, l)
			continue
		}
		if len(l.Beeps) == 0 {
			t.Errorf("mod_avmd reported no beep: %s", l)
			continue
		}
		var played time.Time
		for _, app := range l.Apps {
			if app.Name == "playback" && app.Data == VoicemailMessage {
				played = app.At
			}
		}
		switch {
		case played.IsZero():
			t.Errorf("the voicemail message never played: %s %+v", l, l.Apps)
		case played.Before(l.Beeps[0]):
			t.Errorf("message at +%v before the beep at +%v", played.Sub(l.Answered), l.Beeps[0].Sub(l.Answered))
		case played.Sub(l.Beeps[0]) > time.Second:
			t.Errorf("message %v after the beep", played.Sub(l.Beeps[0]))
		default:
			t.Logf("%s: beep at +%v, message at +%v, hung up +%v", a.Tel, l.Beeps[0].Sub(l.Answered).Round(time.Millisecond),
				played.Sub(l.Answered).Round(time.Millisecond), l.Hangup.Sub(l.Answered).Round(time.Millisecond))
		}
		// The message (2 s) is heard to its end, then the engine's hangup.
		if l.Hangup.Sub(played) < 1900*time.Millisecond {
			t.Errorf("hung up %v after the message started", l.Hangup.Sub(played))
		}
	}
}

func sortedDur(d []time.Duration) []time.Duration {
	out := slices.Clone(d)
	slices.Sort(out)
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// A custom detector on the real switch (P-3): any application whose verdict is a channel
// variable at its completion, mapped by the campaign's lists. Here mod_dptools' detect_silence
// stands in for an operator's detector: a greeting that ends within 2.3 s is a person's, one
// still going then a machine's (detect_silence_timeout false / true).
func TestLabCustomDetector(t *testing.T) {
	agents := []int{1001}
	o := observe(t)
	opts := Options{Agents: agents, Pacing: "progressive", Edit: func(cfg map[string]any) {
		c := cfg["campaigns"].([]any)[0].(map[string]any)
		c["answer_analysis"] = map[string]any{"detector": "custom", "time_limit": "3s", "machine_action": "hangup",
			"custom": map[string]any{"application": "detect_silence", "data": "200 40 2300", "variable": "detect_silence_timeout",
				"human": []any{"false"}, "machine": []any{"true"}}}
	}}
	in := StartInstance(t, opts)
	o.Only(in.CallerIDs()...)
	tels := []string{Machine(0, 1), Person(0, 3, 2)}
	job := in.CreateJob(t, "custom detector", tels)
	in.StartJob(t, job.ID)
	sim := &AgentSim{In: in, Job: job.ID, Agents: agents, Talk: time.Second, Wrap: 300 * time.Millisecond}
	attempts, _ := workJob(t, sim, o, len(tels), time.Minute, 0)
	for _, a := range attempts {
		want, detail := "human", "false"
		if FateOf(a.Tel).Machine {
			want, detail = "machine", "true"
		}
		if a.AMDResult != want || a.AMDDetail != detail || (want == "machine") != (a.Outcome == "machine") {
			t.Errorf("%s: want %s", a, want)
		}
	}
}
