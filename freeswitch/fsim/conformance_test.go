package fsim_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

const captures = "../testdata/esl-captures"

// shape is what must agree between the simulator and real FreeSWITCH for one frame: its type,
// its header names, and whether a reply or api body is a refusal.
func shape(f *wire.Frame) string {
	names := make([]string, 0, len(f.Header))
	for _, h := range f.Header {
		names = append(names, h.Name)
	}
	refusal := strings.HasPrefix(f.Header.Get("Reply-Text"), "-ERR") || strings.HasPrefix(string(f.Body), "-ERR")
	return fmt.Sprintf("%s %v refusal=%v", f.ContentType(), names, refusal)
}

func frames(t *testing.T, r io.Reader, max int) []string {
	t.Helper()
	fr := wire.NewReader(r)
	var out []string
	for len(out) < max {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		out = append(out, shape(f))
	}
	return out
}

// The simulator answers the commands of the captures with frames of the same types, header sets
// and refusals as FreeSWITCH 1.11.1 (docs/event-socket.md §5).
func TestSimulatorMatchesCaptures(t *testing.T) {
	for _, name := range []string{"01-auth-badcmd", "01b-auth-wrong-password", "01c-command-before-auth",
		"02-api-status-uuid-exists", "07-exit-disconnect"} {
		t.Run(name, func(t *testing.T) {
			recorded, err := os.ReadFile(filepath.Join(captures, name+".esl"))
			if err != nil {
				t.Fatal(err)
			}
			sent, err := os.ReadFile(filepath.Join(captures, name+".sent"))
			if err != nil {
				t.Fatal(err)
			}
			want := frames(t, strings.NewReader(string(recorded)), 1000)
			s := start(t, fsim.Answering(time.Second, 0))
			nc, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := nc.Write(sent); err != nil {
				t.Fatal(err)
			}
			got := frames(t, nc, len(want))
			if !slices.Equal(got, want) {
				t.Fatalf("simulator:\n  %s\nFreeSWITCH 1.11.1:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
