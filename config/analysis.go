package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// AnswerAnalysis is a campaign's answering-machine detection (P-3): which detector the switch
// runs on the customer's answer, how long the engine waits for its verdict and what it does
// with a machine. The detector runs on FreeSWITCH; kakeru never decodes audio.
type AnswerAnalysis struct {
	// Detector: "none" (default: every answer is a person), "avmd" (mod_avmd's voicemail beep
	// plus mod_dptools' detect_audio and detect_silence greeting measurement, all in
	// FreeSWITCH's tree) or
	// "custom" (an application of the operator's choice, read through Custom).
	Detector string `mapstructure:"detector"`
	// TimeLimit bounds classification: an answer without a verdict by then is unsure and treated
	// as a person. Default 3s, between 1s and 6s.
	TimeLimit time.Duration `mapstructure:"time_limit"`
	// MachineAction: hangup (default), voicemail (play VoicemailMessage after the beep, then
	// hang up) or agent (put through to an agent like a person, without counting as one).
	MachineAction string `mapstructure:"machine_action"`
	// VoicemailMessage is the message left on a machine (a playback target); required with
	// machine_action voicemail.
	VoicemailMessage string `mapstructure:"voicemail_message"`
	// BeepTimeout: a machine whose beep has not come this long after its answer gets the message
	// all the same. Default 30s, between 5s and 120s.
	BeepTimeout time.Duration `mapstructure:"beep_timeout"`
	// The avmd detector's greeting measurement (detect_audio, then detect_silence, on the
	// customer's audio in 20 ms frames): a person says a short greeting and waits; a machine
	// speaks on. SilenceThreshold is the energy under which a frame is silence (default 200).
	SilenceThreshold int `mapstructure:"silence_threshold"`
	// HumanSilence is the silence after a greeting that ends it (default 800ms).
	HumanSilence time.Duration `mapstructure:"human_silence"`
	// MaxHumanGreeting is the longest greeting taken for a person's (default 1500ms): speech
	// still going this long after it started (plus human_silence) is a machine's.
	MaxHumanGreeting time.Duration `mapstructure:"max_human_greeting"`
	// Custom maps another detector's verdict (detector custom).
	Custom CustomDetector `mapstructure:"custom"`
	// FalsePositiveEstimate is the share of persons the detector takes for machines (and hangs
	// up on): the regulator (Ofcom) counts them as abandoned, so predictive pacing keeps the
	// recorded abandons that much under the target (P-2). Default 0.01 with a detector, in
	// [0, target_abandon_rate).
	FalsePositiveEstimate float64 `mapstructure:"false_positive_estimate"`
}

// CustomDetector runs Application (with Data) on the customer's answer and reads the verdict
// from the channel variable Variable when the application completes (CHANNEL_EXECUTE_COMPLETE),
// or from the header Header of the CUSTOM event whose subclass is Event. The verdict's value is
// looked up in Human, Machine and Unsure (case-insensitively); anything else is unsure.
type CustomDetector struct {
	Application string `mapstructure:"application"`
	Data        string `mapstructure:"data"`
	Variable    string `mapstructure:"variable"`
	Event       string `mapstructure:"event"`
	Header      string `mapstructure:"header"`
	// DetailVariable, optional, is recorded with the verdict (e.g. mod_amd's amd_cause).
	DetailVariable string   `mapstructure:"detail_variable"`
	Human          []string `mapstructure:"human"`
	Machine        []string `mapstructure:"machine"`
	Unsure         []string `mapstructure:"unsure"`
}

// Detectors and machine actions.
const (
	DetectorNone   = "none"
	DetectorAVMD   = "avmd"
	DetectorCustom = "custom"

	MachineHangup    = "hangup"
	MachineVoicemail = "voicemail"
	MachineAgent     = "agent"
)

// Defaults and bounds of answer analysis.
const (
	DefaultAnalysisTimeLimit = 3 * time.Second
	MinAnalysisTimeLimit     = time.Second
	MaxAnalysisTimeLimit     = 6 * time.Second
	DefaultBeepTimeout       = 30 * time.Second
	MinBeepTimeout           = 5 * time.Second
	MaxBeepTimeout           = 120 * time.Second
	DefaultSilenceThreshold  = 200
	DefaultHumanSilence      = 800 * time.Millisecond
	DefaultMaxHumanGreeting  = 1500 * time.Millisecond
	DefaultFalsePositive     = 0.01
	// RegulatedConnectDeadline is the regulators' limit (FTC/FCC, Ofcom: 2 seconds) on the
	// time a classified person may wait for an agent: with a detector, the connect deadline,
	// which counts from the verdict, may not be longer.
	RegulatedConnectDeadline = 2 * time.Second
)

// Enabled: the campaign classifies answers.
func (a AnswerAnalysis) Enabled() bool {
	return a.Detector == DetectorAVMD || a.Detector == DetectorCustom
}

// Recording is a campaign's call recording.
type Recording struct {
	// Mode: off (default), all (every connected call, from the moment the customer reaches the
	// agent) or on_request (when the agent asks, during the call).
	Mode string `mapstructure:"mode"`
	// Path is the file's path under the recordings directory, a template of {campaign},
	// {date} (YYYY-MM-DD in the campaign's zone), {job}, {attempt} and {format}; it must hold
	// {attempt}. Default "{campaign}/{date}/{attempt}.{format}".
	Path string `mapstructure:"path"`
	// Format: wav (default) or mp3 (the switch needs mod_shout for mp3).
	Format string `mapstructure:"format"`
}

// Recording modes.
const (
	RecordingOff       = "off"
	RecordingAll       = "all"
	RecordingOnRequest = "on_request"

	DefaultRecordingPath = "{campaign}/{date}/{attempt}.{format}"
)

// Recordings says where recordings live: Directory as kakeru reads it, SwitchDirectory as the
// switch writes it (the same directory, seen from the switch's machine; default Directory).
type Recordings struct {
	Directory       string `mapstructure:"directory"`
	SwitchDirectory string `mapstructure:"switch_directory"`
}

// SwitchDir is where the switch writes recordings.
func (r Recordings) SwitchDir() string {
	if r.SwitchDirectory != "" {
		return r.SwitchDirectory
	}
	return r.Directory
}

func applyAnalysisDefaults(cp *Campaign, present map[string]bool, p string) {
	a := &cp.AnswerAnalysis
	if !present[p+"answer_analysis.detector"] {
		a.Detector = DetectorNone
	}
	if !present[p+"answer_analysis.time_limit"] {
		a.TimeLimit = DefaultAnalysisTimeLimit
	}
	if !present[p+"answer_analysis.machine_action"] {
		a.MachineAction = MachineHangup
	}
	if !present[p+"answer_analysis.beep_timeout"] {
		a.BeepTimeout = DefaultBeepTimeout
	}
	if !present[p+"answer_analysis.silence_threshold"] {
		a.SilenceThreshold = DefaultSilenceThreshold
	}
	if !present[p+"answer_analysis.human_silence"] {
		a.HumanSilence = DefaultHumanSilence
	}
	if !present[p+"answer_analysis.max_human_greeting"] {
		a.MaxHumanGreeting = DefaultMaxHumanGreeting
	}
	if !present[p+"answer_analysis.false_positive_estimate"] && a.Enabled() {
		a.FalsePositiveEstimate = DefaultFalsePositive
	}
	if !present[p+"recording.mode"] {
		cp.Recording.Mode = RecordingOff
	}
	if !present[p+"recording.path"] {
		cp.Recording.Path = DefaultRecordingPath
	}
	if !present[p+"recording.format"] {
		cp.Recording.Format = "wav"
	}
}

var (
	appNamePattern  = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	subclassPattern = regexp.MustCompile(`^[A-Za-z0-9_:.-]{1,100}$`)
	templatePattern = regexp.MustCompile(`^[A-Za-z0-9_./{}-]{1,200}$`)
	placeholder     = regexp.MustCompile(`\{[^}]*\}`)
)

func (v *validator) answerAnalysis(p string, a AnswerAnalysis, pc Pacing) {
	target := pc.TargetAbandonRate
	switch a.Detector {
	case DetectorNone:
		return
	case DetectorAVMD, DetectorCustom:
	default:
		v.add(p+".detector", "must be none, avmd or custom, got %q", a.Detector)
		return
	}
	if pc.ConnectDeadline > RegulatedConnectDeadline {
		v.add(strings.TrimSuffix(p, ".answer_analysis")+".pacing.connect_deadline",
			"must be at most %s with answer analysis (the regulators' limit, counted from the verdict), got %s",
			RegulatedConnectDeadline, pc.ConnectDeadline)
	}
	if !(a.FalsePositiveEstimate >= 0 && a.FalsePositiveEstimate < target) {
		v.add(p+".false_positive_estimate", "must be at least 0 and under the campaign's target_abandon_rate (%g), got %g", target, a.FalsePositiveEstimate)
	}
	if a.TimeLimit < MinAnalysisTimeLimit || a.TimeLimit > MaxAnalysisTimeLimit {
		v.add(p+".time_limit", "must be between %s and %s, got %s", MinAnalysisTimeLimit, MaxAnalysisTimeLimit, a.TimeLimit)
	}
	switch a.MachineAction {
	case MachineHangup, MachineAgent:
	case MachineVoicemail:
		v.playback(p+".voicemail_message", a.VoicemailMessage)
		if a.BeepTimeout < MinBeepTimeout || a.BeepTimeout > MaxBeepTimeout {
			v.add(p+".beep_timeout", "must be between %s and %s, got %s", MinBeepTimeout, MaxBeepTimeout, a.BeepTimeout)
		}
	default:
		v.add(p+".machine_action", "must be hangup, voicemail or agent, got %q", a.MachineAction)
	}
	if a.Detector == DetectorAVMD {
		if a.SilenceThreshold < 1 || a.SilenceThreshold > 32767 {
			v.add(p+".silence_threshold", "must be between 1 and 32767, got %d", a.SilenceThreshold)
		}
		if a.HumanSilence < 100*time.Millisecond || a.HumanSilence >= a.TimeLimit {
			v.add(p+".human_silence", "must be at least 100ms and shorter than time_limit (%s), got %s", a.TimeLimit, a.HumanSilence)
		}
		if a.MaxHumanGreeting < 100*time.Millisecond || a.MaxHumanGreeting >= a.TimeLimit {
			v.add(p+".max_human_greeting", "must be at least 100ms and shorter than time_limit (%s), got %s", a.TimeLimit, a.MaxHumanGreeting)
		}
		return
	}
	c := a.Custom
	cp := p + ".custom"
	if !appNamePattern.MatchString(c.Application) {
		v.add(cp+".application", "must be an application name (letters, digits, '_'), got %q", c.Application)
	}
	if strings.ContainsFunc(c.Data, func(r rune) bool { return r < ' ' || r == 0x7f || r == '^' || r == '\'' }) {
		v.add(cp+".data", "must not hold control characters, quotes or '^'")
	}
	switch {
	case c.Variable != "" && c.Event != "":
		v.add(cp+".event", "give either variable or event (with header), not both")
	case c.Variable != "":
		if !chanVarName(c.Variable) {
			v.add(cp+".variable", "must be a channel variable name, got %q", c.Variable)
		}
	case c.Event != "":
		if !subclassPattern.MatchString(c.Event) {
			v.add(cp+".event", "must be a CUSTOM event subclass (e.g. amd::result), got %q", c.Event)
		}
		if c.Header == "" || !chanVarName(c.Header) {
			v.add(cp+".header", "must name the event header carrying the verdict, got %q", c.Header)
		}
	default:
		v.add(cp+".variable", "give the channel variable (or the event and header) carrying the verdict")
	}
	if c.DetailVariable != "" && !chanVarName(c.DetailVariable) {
		v.add(cp+".detail_variable", "must be a channel variable name, got %q", c.DetailVariable)
	}
	if len(c.Human) == 0 {
		v.add(cp+".human", "list the values meaning a person")
	}
	if len(c.Machine) == 0 {
		v.add(cp+".machine", "list the values meaning a machine")
	}
}

func chanVarName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

func (v *validator) recording(p string, r Recording, store Recordings) {
	switch r.Mode {
	case RecordingOff:
		return
	case RecordingAll, RecordingOnRequest:
	default:
		v.add(p+".mode", "must be off, all or on_request, got %q", r.Mode)
		return
	}
	if store.Directory == "" {
		v.add("freeswitch.recordings.directory", "is required when a campaign records calls (%s.mode %s)", p, r.Mode)
	}
	if r.Format != "wav" && r.Format != "mp3" {
		v.add(p+".format", "must be wav or mp3, got %q", r.Format)
	}
	if !templatePattern.MatchString(r.Path) || strings.HasPrefix(r.Path, "/") || strings.Contains(r.Path, "..") ||
		path.Clean(r.Path) != r.Path {
		v.add(p+".path", "must be a relative path of letters, digits, '_', '-', '.', '/' and placeholders, got %q", r.Path)
		return
	}
	for _, ph := range placeholder.FindAllString(r.Path, -1) {
		switch ph {
		case "{campaign}", "{date}", "{job}", "{attempt}", "{format}":
		default:
			v.add(p+".path", "unknown placeholder %s (known: {campaign} {date} {job} {attempt} {format})", ph)
		}
	}
	if !strings.Contains(r.Path, "{attempt}") {
		v.add(p+".path", "must hold {attempt}, so that every call has a file of its own")
	}
	if !strings.HasSuffix(r.Path, ".{format}") {
		v.add(p+".path", "must end in .{format}: the switch picks the file's format by its extension")
	}
}

func (v *validator) recordings(r Recordings) {
	for key, dir := range map[string]string{"freeswitch.recordings.directory": r.Directory,
		"freeswitch.recordings.switch_directory": r.SwitchDirectory} {
		if dir != "" && (!path.IsAbs(dir) || strings.ContainsFunc(dir, func(r rune) bool { return r <= ' ' || r == '\'' || r == '^' })) {
			v.add(key, "must be an absolute path without spaces or quotes, got %q", dir)
		}
	}
}

// RecordingPath fills the campaign's path template for one attempt.
func (r Recording) RecordingPath(campaign int, job, attempt int64, day time.Time) string {
	return strings.NewReplacer("{campaign}", fmt.Sprint(campaign), "{date}", day.Format("2006-01-02"),
		"{job}", fmt.Sprint(job), "{attempt}", fmt.Sprint(attempt), "{format}", r.Format).Replace(r.Path)
}
