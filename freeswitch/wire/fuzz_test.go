package wire_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// FuzzReadFrame: any bytes end in frames or an error, never a panic; plain events parse or fail
// cleanly.
func FuzzReadFrame(f *testing.F) {
	for _, name := range []string{"01-auth-badcmd", "04-busy-plain", "07-exit-disconnect"} {
		b, err := os.ReadFile(filepath.Join(captures, name+".esl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 4096)])
	}
	f.Add([]byte("Content-Length: 5\nContent-Type: text/event-plain\n\nA: %zz"))
	f.Add([]byte("Content-Type: auth/request\n\n\n\nContent-Length: -1\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := wire.NewReader(bytes.NewReader(data))
		for range 1000 {
			fr, err := r.ReadFrame()
			if err != nil {
				if err == io.EOF && len(bytes.TrimLeft(data, "\r\n")) > 0 && fr != nil {
					t.Fatal("frame with EOF")
				}
				return
			}
			if fr.ContentType() == "text/event-plain" {
				_, _ = wire.ParsePlainEvent(fr)
			}
		}
	})
}

// BenchmarkReadPlainEvents reads and parses the engine call-flow capture's frames.
func BenchmarkReadPlainEvents(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(captures, "09-engine-call-flow.esl"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	events := 0
	for b.Loop() {
		r := wire.NewReader(bytes.NewReader(data))
		for {
			f, err := r.ReadFrame()
			if err != nil {
				break
			}
			if f.ContentType() == "text/event-plain" {
				if _, err := wire.ParsePlainEvent(f); err == nil {
					events++
				}
			}
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
