//go:build lab

package labtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// Record records what a leg hears and says (uuid_record, a WAV file written by the switch on
// this machine) for d, and returns the file's 16-bit samples and rate.
func (o *Observer) Record(ctx context.Context, leg, path string, d time.Duration) ([]int16, int, error) {
	if r, err := o.API(ctx, fmt.Sprintf("uuid_record %s start %s", leg, path)); err != nil || !strings.HasPrefix(r, "+OK") {
		return nil, 0, fmt.Errorf("uuid_record %s start: %q %v", leg, r, err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	// The leg may have ended meanwhile: then the switch has closed the file already.
	_, _ = o.API(context.Background(), fmt.Sprintf("uuid_record %s stop %s", leg, path))
	var samples []int16
	var rate int
	var err error
	for range 50 { // the switch closes the file asynchronously
		if samples, rate, err = ReadWAV(path); err == nil && len(samples) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return samples, rate, err
}

// ReadWAV reads a 16-bit PCM WAV file's first channel.
func ReadWAV(path string) ([]int16, int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(raw) < 12 || string(raw[0:4]) != "RIFF" || string(raw[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE file")
	}
	var rate, channels, bits int
	for p := 12; p+8 <= len(raw); {
		id, size := string(raw[p:p+4]), int(binary.LittleEndian.Uint32(raw[p+4:p+8]))
		body := raw[p+8:]
		if size > len(body) {
			size = len(body) // a file still being written
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
		case "data":
			if bits != 16 || channels < 1 {
				return nil, 0, fmt.Errorf("want 16-bit PCM, got %d bits, %d channels", bits, channels)
			}
			n := size / 2 / channels
			out := make([]int16, n)
			for i := range n {
				out[i] = int16(binary.LittleEndian.Uint16(body[i*2*channels:]))
			}
			return out, rate, nil
		}
		p += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}

// ToneFraction is the share of 20 ms frames whose energy is mostly at freq (Goertzel): how much
// of the recording is that tone.
func ToneFraction(samples []int16, rate int, freq float64) float64 {
	frame := rate / 50
	if frame == 0 || len(samples) < frame {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	frames, tone := 0, 0
	for off := 0; off+frame <= len(samples); off += frame {
		var s1, s2, energy float64
		for _, v := range samples[off : off+frame] {
			x := float64(v)
			energy += x * x
			s := x + coeff*s1 - s2
			s2, s1 = s1, s
		}
		frames++
		power := s1*s1 + s2*s2 - coeff*s1*s2 // |X(f)|² of the frame
		// A pure tone puts N·energy/2 into its bin; well above a quarter of that is the tone.
		if energy/float64(frame) > 1e4 && power > 0.25*float64(frame)*energy/2 {
			tone++
		}
	}
	return float64(tone) / float64(frames)
}
