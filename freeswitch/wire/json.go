package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ParseJSONEvent parses a text/event-json frame: one object whose values are all strings, with
// duplicate keys possible (they are kept, in order) and the body under "_body". The engine
// subscribes in plain; this is for captures and for peers that send JSON.
func ParseJSONEvent(f *Frame) (*Event, error) {
	if ct := f.ContentType(); ct != "text/event-json" {
		return nil, fmt.Errorf("esl event: content type %q is not text/event-json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(f.Body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("esl json event: want an object: %v", err)
	}
	e := &Event{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("esl json event: %w", err)
		}
		key, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("esl json event: %w", err)
		}
		val, ok := vt.(string)
		if !ok {
			return nil, fmt.Errorf("esl json event: value of %q is not a string", key)
		}
		if key == "_body" {
			e.Body = []byte(val)
			continue
		}
		e.Header = append(e.Header, Field{Name: key, Value: val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("esl json event: %w", err)
	}
	return e, nil
}
