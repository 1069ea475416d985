package wire_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

const captures = "../testdata/esl-captures"

// chunked returns the capture's bytes in exactly the reads the real client made (.timeline).
type chunked struct {
	data   []byte
	chunks []int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.chunks) > 0 {
		n, c.chunks = c.chunks[0], c.chunks[1:]
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func recvChunks(t *testing.T, timeline string) []int {
	f, err := os.Open(timeline)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Fields(sc.Text())
		if len(cols) == 4 && cols[1] == "RECV" {
			n, err := strconv.Atoi(strings.TrimPrefix(cols[3], "len="))
			if err != nil {
				t.Fatalf("%s: %q", timeline, sc.Text())
			}
			out = append(out, n)
		}
	}
	return out
}

func readAll(t *testing.T, r io.Reader) []*wire.Frame {
	t.Helper()
	fr := wire.NewReader(r)
	var frames []*wire.Frame
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(frames), err)
		}
		frames = append(frames, f)
	}
}

var knownTypes = map[string]bool{"auth/request": true, "command/reply": true, "api/response": true,
	"text/event-plain": true, "text/event-json": true, "text/disconnect-notice": true}

type replay struct {
	frames []*wire.Frame
	events []*wire.Event
}

// replayCapture parses a capture with its real chunking, checks it the same way with 1-byte reads
// and one read, and parses every plain event.
func replayCapture(t *testing.T, name string) replay {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(captures, name+".esl"))
	if err != nil {
		t.Fatal(err)
	}
	chunks := recvChunks(t, filepath.Join(captures, name+".timeline"))
	sum := 0
	for _, n := range chunks {
		sum += n
	}
	if sum != len(data) {
		t.Fatalf("%s: timeline covers %d bytes, capture has %d", name, sum, len(data))
	}
	frames := readAll(t, &chunked{data: data, chunks: chunks})
	oneByte := readAll(t, iotestOneByte(data))
	whole := readAll(t, bytes.NewReader(data))
	if len(frames) != len(oneByte) || len(frames) != len(whole) {
		t.Fatalf("%s: %d frames with real chunking, %d byte by byte, %d in one read", name, len(frames), len(oneByte), len(whole))
	}
	var r replay
	r.frames = frames
	for i, f := range frames {
		if !knownTypes[f.ContentType()] {
			t.Errorf("%s frame %d: content type %q", name, i, f.ContentType())
		}
		if !bytes.Equal(f.Body, whole[i].Body) || len(f.Header) != len(oneByte[i].Header) {
			t.Errorf("%s frame %d differs with another chunking", name, i)
		}
		if f.ContentType() == "text/event-plain" {
			e, err := wire.ParsePlainEvent(f)
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, i, err)
			}
			if e.Name() == "" {
				t.Errorf("%s frame %d: event without a name", name, i)
			}
			r.events = append(r.events, e)
		}
		if f.ContentType() == "text/event-json" {
			e, err := wire.ParseJSONEvent(f)
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, i, err)
			}
			r.events = append(r.events, e)
		}
	}
	return r
}

func eventNames(r replay) []string {
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Name()
	}
	return out
}

// A JSON capture and its plain twin (separate real calls, so counts and interleavings differ)
// show the same kinds of channel events; the JSON busy result keeps its body and duplicate keys.
func TestJSONMatchesPlain(t *testing.T) {
	kinds := func(r replay) map[string]bool {
		out := map[string]bool{}
		for _, n := range eventNames(r) {
			if strings.HasPrefix(n, "CHANNEL_") || n == "BACKGROUND_JOB" {
				out[n] = true
			}
		}
		return out
	}
	for _, base := range []string{"03-originate-answered", "04-busy", "04-noanswer", "04-unallocated", "05-agent-bridge-kill"} {
		p, j := kinds(replayCapture(t, base+"-plain")), kinds(replayCapture(t, base+"-json"))
		if len(p) == 0 || len(p) != len(j) {
			t.Errorf("%s: plain kinds %v, json kinds %v", base, p, j)
		}
		for k := range p {
			if !j[k] {
				t.Errorf("%s: %s in plain only", base, k)
			}
		}
	}
	for _, e := range replayCapture(t, "04-busy-json").events {
		if e.Name() == "BACKGROUND_JOB" && string(e.Body) != "-ERR USER_BUSY\n" {
			t.Errorf("json job body %q", e.Body)
		}
		if e.Name() == "CHANNEL_HANGUP_COMPLETE" && len(e.Header.Values("Hangup-Cause")) != 2 {
			t.Errorf("json hangup complete keeps %d Hangup-Cause", len(e.Header.Values("Hangup-Cause")))
		}
	}
}

func iotestOneByte(b []byte) io.Reader {
	chunks := make([]int, len(b))
	for i := range chunks {
		chunks[i] = 1
	}
	return &chunked{data: b, chunks: chunks}
}

// Every capture of real FreeSWITCH 1.11.1 traffic parses, whatever the chunking.
func TestReplayEveryCapture(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(captures, "*.esl"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", captures)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".esl")
		t.Run(name, func(t *testing.T) {
			r := replayCapture(t, name)
			if len(r.frames) == 0 {
				t.Fatal("no frames")
			}
		})
	}
}

func bodies(r replay, contentType string) []string {
	var out []string
	for _, f := range r.frames {
		if f.ContentType() == contentType {
			out = append(out, string(f.Body))
		}
	}
	return out
}

func replies(r replay) []string {
	var out []string
	for _, f := range r.frames {
		if f.ContentType() == "command/reply" {
			out = append(out, f.Header.Get("Reply-Text"))
		}
	}
	return out
}

// Facts read off the capture bytes by hand (see ../testdata/esl-captures/README.md).
func TestCaptureFacts(t *testing.T) {
	t.Run("01 unknown command", func(t *testing.T) {
		r := replayCapture(t, "01-auth-badcmd")
		if r.frames[0].ContentType() != "auth/request" {
			t.Fatalf("first frame %q", r.frames[0].ContentType())
		}
		rs := replies(r)
		if len(rs) != 3 || rs[0] != "+OK accepted" || rs[1] != "-ERR command not found" || rs[2] != "-ERR command not found" {
			t.Fatalf("replies %q", rs)
		}
	})
	t.Run("01b wrong password", func(t *testing.T) {
		r := replayCapture(t, "01b-auth-wrong-password")
		last := r.frames[len(r.frames)-1]
		if rs := replies(r); len(rs) != 1 || rs[0] != "-ERR invalid" || last.ContentType() != "text/disconnect-notice" {
			t.Fatalf("replies %q, last %q", rs, last.ContentType())
		}
	})
	t.Run("02 api bodies", func(t *testing.T) {
		b := bodies(replayCapture(t, "02-api-status-uuid-exists"), "api/response")
		if len(b) < 4 || b[1] != "false" || !strings.HasPrefix(b[2], "-ERR No such channel!") || !strings.HasPrefix(b[3], "-ERR no_such_api_cmd") {
			t.Fatalf("api bodies %q", b)
		}
	})
	t.Run("04 busy job result and duplicate headers", func(t *testing.T) {
		r := replayCapture(t, "04-busy-plain")
		var job *wire.Event
		dup := false
		for _, e := range r.events {
			if e.Name() == "BACKGROUND_JOB" {
				job = e
			}
			if e.Name() == "CHANNEL_HANGUP_COMPLETE" && len(e.Header.Values("Hangup-Cause")) == 2 {
				dup = true
			}
		}
		if job == nil || string(job.Body) != "-ERR USER_BUSY\n" {
			t.Fatalf("job %+v", job)
		}
		if !dup {
			t.Error("no CHANNEL_HANGUP_COMPLETE with Hangup-Cause twice")
		}
	})
	t.Run("03 decoded values", func(t *testing.T) {
		r := replayCapture(t, "03-originate-answered-plain")
		v := r.events[0].Header.Get("Event-Date-Local")
		if !strings.Contains(v, " ") || !strings.Contains(v, ":") || strings.Contains(v, "%") {
			t.Fatalf("Event-Date-Local %q not decoded", v)
		}
	})
	t.Run("07 disconnect notice", func(t *testing.T) {
		r := replayCapture(t, "07-exit-disconnect")
		last := r.frames[len(r.frames)-1]
		if last.ContentType() != "text/disconnect-notice" || len(last.Body) != 67 || replies(r)[len(replies(r))-1] != "+OK bye" {
			t.Fatalf("last frame %q with %d bytes", last.ContentType(), len(last.Body))
		}
	})
	t.Run("08 client Job-UUID echoed", func(t *testing.T) {
		r := replayCapture(t, "08-bgapi-job-uuid")
		seen := map[string]bool{}
		for _, e := range r.events {
			if e.Name() == "BACKGROUND_JOB" {
				seen[e.JobUUID()] = true
			}
		}
		for _, id := range []string{"c0ffee00-0000-4000-8000-000000000008", "c0ffee00-0000-4000-8000-000000000009", "c0ffee00-0000-4000-8000-00000000000a"} {
			if !seen[id] {
				t.Errorf("no BACKGROUND_JOB for %s", id)
			}
		}
	})
	t.Run("12 engine room flow", func(t *testing.T) {
		r := replayCapture(t, "12-engine-room-flow")
		if rs := replies(r); len(rs) < 2 || rs[0] != "+OK accepted" || rs[1] != "+OK event listener enabled plain" {
			t.Fatalf("replies %q", rs)
		}
		agent := r.events[0].UniqueID() // the agent's leg is created first; its room is named after it
		var ok, cleared int
		var members []string
		for _, e := range r.events {
			switch {
			case e.Name() == "BACKGROUND_JOB" && string(e.Body) == "-ERR NORMAL_CLEARING\n":
				cleared++
			case e.Name() == "BACKGROUND_JOB" && strings.HasPrefix(string(e.Body), "+OK "):
				ok++
			case e.Name() == "CUSTOM":
				if e.Header.Get("Event-Subclass") != "conference::maintenance" || e.Header.Get("Conference-Name") != agent {
					t.Errorf("CUSTOM %s of room %s", e.Header.Get("Event-Subclass"), e.Header.Get("Conference-Name"))
				}
				if e.Header.Get("Action") == "add-member" {
					members = append(members, e.UniqueID())
				}
			}
		}
		if ok != 4 || cleared != 1 {
			t.Errorf("jobs: %d +OK, %d -ERR NORMAL_CLEARING; want 4 and 1", ok, cleared)
		}
		if len(members) != 3 || members[0] != agent {
			t.Errorf("add-member %v; want the agent, then two customers", members)
		}
		b := bodies(r, "api/response")
		if len(b) < 4 || b[len(b)-3] != agent || b[len(b)-2] != "true" {
			t.Errorf("api bodies %q; want conference_name %s (no newline), then true", b, agent)
		}
		if last := r.frames[len(r.frames)-1]; last.ContentType() != "text/disconnect-notice" {
			t.Errorf("last frame %q", last.ContentType())
		}
	})
	t.Run("13 show channels lags CHANNEL_CREATE", func(t *testing.T) {
		r := replayCapture(t, "13-show-channels-lag")
		var leg string
		var listings []string
		for _, f := range r.frames {
			if f.ContentType() == "text/event-plain" && leg == "" {
				if e, _ := wire.ParsePlainEvent(f); e.Name() == "CHANNEL_CREATE" {
					leg = e.UniqueID()
				}
			}
			if f.ContentType() == "api/response" && strings.Contains(string(f.Body), "row_count") {
				if leg == "" {
					t.Fatal("show channels answered before any CHANNEL_CREATE")
				}
				listings = append(listings, string(f.Body))
			}
		}
		if len(listings) != 2 || strings.Contains(listings[0], leg) || !strings.Contains(listings[1], leg) {
			t.Fatalf("listings of %s: %q", leg, listings)
		}
		var v struct {
			RowCount int `json:"row_count"`
		}
		if err := json.Unmarshal([]byte(listings[1]), &v); err != nil || v.RowCount != 2 {
			t.Errorf("second listing: %d rows (%v); want the loopback pair", v.RowCount, err)
		}
		if b := bodies(r, "api/response"); !slices.Contains(b, "true") {
			t.Errorf("api bodies %q: no uuid_exists true", b)
		}
	})
}

func TestReaderBounds(t *testing.T) {
	for name, in := range map[string]string{
		"huge body":       "Content-Length: 999999999999\n\n",
		"no colon":        "garbage line\n\n",
		"truncated body":  "Content-Length: 10\n\nabc",
		"truncated lines": "Content-Type: command/reply\nReply-Text: +OK",
	} {
		if _, err := wire.NewReader(strings.NewReader(in)).ReadFrame(); err == nil || err == io.EOF {
			t.Errorf("%s: got %v", name, err)
		}
	}
	long := "X: " + strings.Repeat("a", wire.MaxLineBytes+10) + "\n\n"
	if _, err := wire.NewReader(strings.NewReader(long)).ReadFrame(); err == nil {
		t.Error("over-long line accepted")
	}
}
