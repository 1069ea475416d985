// Package wire reads FreeSWITCH event-socket frames and plain events (docs/event-socket.md §2) in wire order.
// kakeru reads the socket through this package in one goroutine instead of eslgo's receive loop,
// which hands every event to its own goroutine and stops on unknown content types (docs/event-socket.md §1).
package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds against a hostile or broken peer: a frame beyond them is an error, never an
// unbounded allocation.
const (
	MaxHeaderLines = 1024
	MaxLineBytes   = 64 << 10
	MaxBodyBytes   = 64 << 20
)

// ErrFrameTooLarge is returned for a frame beyond the bounds above.
var ErrFrameTooLarge = errors.New("esl frame too large")

// Field is one header line.
type Field struct{ Name, Value string }

// Header keeps header lines in wire order, duplicates included.
type Header []Field

// Get is the first value of name, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Values are all values of name, in order.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h {
		if f.Name == name {
			out = append(out, f.Value)
		}
	}
	return out
}

// Frame is one message of the socket: headers and, when Content-Length is set, a body.
type Frame struct {
	Header Header
	Body   []byte
}

// ContentType is the frame's Content-Type.
func (f *Frame) ContentType() string { return f.Header.Get("Content-Type") }

// Reader reads frames from a socket. It is not safe for concurrent use: one goroutine reads.
type Reader struct {
	br *bufio.Reader
}

// NewReader reads frames from r, whatever its chunking.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 64<<10)} }

// ReadFrame returns the next frame. io.EOF at a frame boundary means the peer closed cleanly;
// io.ErrUnexpectedEOF means it closed inside a frame.
func (r *Reader) ReadFrame() (*Frame, error) {
	h, err := readHeader(r.br, true)
	if err != nil {
		return nil, err
	}
	f := &Frame{Header: h}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("esl frame: bad Content-Length %q", cl)
		}
		if n > MaxBodyBytes {
			return nil, fmt.Errorf("%w: body of %d bytes", ErrFrameTooLarge, n)
		}
		f.Body = make([]byte, n)
		if _, err := io.ReadFull(r.br, f.Body); err != nil {
			return nil, unexpected(err)
		}
	}
	return f, nil
}

// readHeader reads "Name: value" lines up to a blank line. Blank lines before the first header
// are skipped. At the very start, a clean EOF is io.EOF.
func readHeader(br *bufio.Reader, first bool) (Header, error) {
	var h Header
	for {
		line, err := readLine(br)
		if err != nil {
			if err == io.EOF && first && len(h) == 0 {
				return nil, io.EOF
			}
			return nil, unexpected(err)
		}
		if line == "" {
			if len(h) == 0 {
				continue
			}
			return h, nil
		}
		if len(h) >= MaxHeaderLines {
			return nil, fmt.Errorf("%w: more than %d header lines", ErrFrameTooLarge, MaxHeaderLines)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("esl frame: header line without colon: %q", line)
		}
		h = append(h, Field{Name: name, Value: strings.TrimLeft(value, " ")})
	}
}

// readLine reads one LF-terminated line (a CR before the LF is dropped), bounded in length.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes {
			return "", fmt.Errorf("%w: header line longer than %d bytes", ErrFrameTooLarge, MaxLineBytes)
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		buf = bytes.TrimSuffix(buf[:len(buf)-1], []byte("\r"))
		return string(buf), nil
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Event is one parsed event.
type Event struct {
	Header Header
	Body   []byte
	// Received is when the reader took the event off the socket (zero when parsed elsewhere):
	// latency is measured from it.
	Received time.Time
}

// Name is Event-Name.
func (e *Event) Name() string { return e.Header.Get("Event-Name") }

// UniqueID is the channel the event is about, when it is a channel event.
func (e *Event) UniqueID() string { return e.Header.Get("Unique-ID") }

// JobUUID is the bgapi job a BACKGROUND_JOB answers.
func (e *Event) JobUUID() string { return e.Header.Get("Job-UUID") }

// ParsePlainEvent parses a text/event-plain frame: URL-encoded "Name: value" lines, a blank
// line, and, when the lines carry their own Content-Length, that many bytes of event body.
// A value with a malformed escape keeps its raw text rather than failing the event. The event
// text is converted to a string once and headers are slices of it: a channel event carries some
// 150 headers, and an allocation per header would dominate the cost of reading the socket.
func ParsePlainEvent(f *Frame) (*Event, error) {
	if ct := f.ContentType(); ct != "text/event-plain" {
		return nil, fmt.Errorf("esl event: content type %q is not text/event-plain", ct)
	}
	text := string(f.Body)
	h := make(Header, 0, strings.Count(text, "\n"))
	rest := text
	for {
		line, tail, found := strings.Cut(rest, "\n")
		if !found && line == "" {
			break // no blank line: an event without body
		}
		rest = tail
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			if len(h) == 0 {
				continue
			}
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("esl event: header line without colon: %q", line)
		}
		value = strings.TrimLeft(value, " ")
		if strings.IndexByte(value, '%') >= 0 {
			if v, err := url.PathUnescape(value); err == nil {
				value = v
			}
		}
		h = append(h, Field{Name: name, Value: value})
		if !found {
			break
		}
	}
	e := &Event{Header: h}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > len(rest) {
			return nil, fmt.Errorf("esl event: bad Content-Length %q for %d bytes", cl, len(rest))
		}
		e.Body = f.Body[len(f.Body)-len(rest):][:n]
	}
	return e, nil
}
