package fsim

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// recording is one `uuid_record C start PATH` running on a leg.
type recording struct {
	path    string
	started time.Time
}

// uuidRecordLocked answers `uuid_record UUID start|stop PATH` as the lab switch does (capture 14):
// start sends RECORD_START and answers "+OK Success"; the recording ends at `stop PATH` (or
// `stop all`) or at the hangup, with RECORD_STOP (after the application's EXECUTE_COMPLETE,
// before HANGUP_COMPLETE), and the file is there: an 8 kHz 16-bit mono WAV of silence as long as
// the recording on the simulator's clock, in directories made as needed. Only .wav is
// recorded: the lab has no mod_shout, and for an .mp3 (or any other format) the switch
// answers "-ERR Cannot record session!" and leaves record_completion_cause=uri-failure on the leg.
// Caller holds s.mu.
func (s *Server) uuidRecordLocked(args []string) string {
	if len(args) < 3 {
		return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
	}
	ch := s.chans[args[0]]
	if ch == nil {
		return noSuchChannel
	}
	path := args[2]
	switch args[1] {
	case "start":
		if !strings.EqualFold(filepath.Ext(path), ".wav") {
			ch.setVar("record_completion_cause", "uri-failure")
			return "-ERR Cannot record session!\n"
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			ch.setVar("record_completion_cause", "uri-failure")
			return "-ERR Cannot record session!\n"
		}
		ch.recordings = append(ch.recordings, &recording{path: path, started: s.o.Clock.Now()})
		s.emitChannelTailLocked("RECORD_START", ch, nil, [][2]string{{"Record-File-Path", path}})
		return "+OK Success\n"
	case "stop":
		n := len(ch.recordings)
		for _, r := range slices.Clone(ch.recordings) {
			if path == "all" || r.path == path {
				s.stopRecordingLocked(ch, r, "success-maxtime") // what 1.11.1 reports for a stop
			}
		}
		if len(ch.recordings) == n {
			return "-ERR Cannot stop record session!\n"
		}
		return "+OK Success\n"
	}
	return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
}

// stopRecordingLocked ends a recording: the file, the record_* variables, RECORD_STOP. Caller
// holds s.mu.
func (s *Server) stopRecordingLocked(ch *channel, r *recording, cause string) {
	ch.recordings = slices.DeleteFunc(ch.recordings, func(o *recording) bool { return o == r })
	ms := s.o.Clock.Now().Sub(r.started).Milliseconds()
	samples := ms * 8
	size := int64(44) + 2*samples
	if err := writeSilentWAV(r.path, samples); err != nil {
		cause, size = "uri-failure", 0
	}
	ch.setVar("record_file_size", itoa(size))
	ch.setVar("record_samples", itoa(samples))
	ch.setVar("record_seconds", itoa(ms/1000))
	ch.setVar("record_ms", itoa(ms))
	ch.setVar("record_completion_cause", cause)
	s.emitChannelTailLocked("RECORD_STOP", ch, nil, [][2]string{{"Record-File-Path", r.path}, {"Record-Completion-Cause", cause}})
}

// writeSilentWAV writes a PCM WAV file, 8000 Hz, 16 bits, mono, of samples zero samples.
func writeSilentWAV(path string, samples int64) error {
	data := uint32(2 * samples)
	h := make([]byte, 44, 44+data)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], 16000) // bytes per second
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
	if err := os.WriteFile(path, append(h, make([]byte, data)...), 0o644); err != nil {
		return fmt.Errorf("fsim recording: %w", err)
	}
	return nil
}
