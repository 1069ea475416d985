package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxJSONBody bounds every JSON request body; the largest real one (a call job's filter, a
// memo) is a few kilobytes.
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON body strictly: unknown fields and trailing data are malformed input,
// a body over maxJSONBody is a 413, and text that is not clean UTF-8 (invalid bytes, lone
// surrogate escapes, control or invisible format characters such as bidi overrides and
// zero-width spaces) is a 422 naming the field, never stored with replacement characters.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body without Content-Encoding (%s is not accepted)", enc)
	}
	if r.ContentLength > maxJSONBody {
		return errorf(http.StatusRequestEntityTooLarge, "payload_too_large", "a JSON body is at most %d bytes", maxJSONBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "malformed_json", "request body: %v", err)
	}
	if len(body) > maxJSONBody {
		return errorf(http.StatusRequestEntityTooLarge, "payload_too_large", "a JSON body is at most %d bytes", maxJSONBody)
	}
	if !utf8.Valid(body) {
		return invalidText("", "the body is not UTF-8")
	}
	if err := checkEscapes(body); err != nil {
		return err
	}
	// Walk every string (keys and values) of the document for characters no field takes.
	var doc any
	if err := json.Unmarshal(body, &doc); err == nil {
		if err := checkStrings("", doc); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "malformed_json", "request body: %v", err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return errorf(http.StatusBadRequest, "malformed_json", "request body: data after the JSON value")
	}
	return nil
}

func invalidText(field, msg string) *apiError {
	e := &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_input", Message: msg}
	if field != "" {
		e.Message = field + ": " + msg
		e.Details = []any{fieldProblem{Field: field, Message: msg}}
	}
	return e
}

// checkEscapes refuses \u escapes of UTF-16 surrogates that are not a high one followed by a low
// one: Go would decode them as U+FFFD in silence.
func checkEscapes(body []byte) error {
	for i := 0; i+1 < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if body[i+1] != 'u' {
			i++ // \" \\ and the like: the next byte is escaped, not an escape
			continue
		}
		r, ok := hex4(body, i+2)
		if !ok {
			continue // malformed: the decoder says so
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return invalidText("", "the body holds a lone UTF-16 surrogate (\\u"+strconv.FormatInt(int64(r), 16)+")")
		case r >= 0xD800 && r <= 0xDBFF:
			if i+11 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
				if lo, ok := hex4(body, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return invalidText("", "the body holds a lone UTF-16 surrogate (\\u"+strconv.FormatInt(int64(r), 16)+")")
		}
		i += 5
	}
	return nil
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(v), err == nil
}

// checkStrings refuses control characters (tab and line breaks aside) and invisible format
// characters (Unicode Cf: bidi overrides, zero-width spaces and joiners, BOM) in any string.
func checkStrings(path string, v any) error {
	switch t := v.(type) {
	case string:
		if i := strings.IndexFunc(t, badTextRune); i >= 0 {
			r, _ := utf8.DecodeRuneInString(t[i:])
			return invalidText(path, fmt.Sprintf("holds %U, a control or invisible formatting character", r))
		}
	case map[string]any:
		for k, x := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := checkStrings(p, k); err != nil {
				return err
			}
			if err := checkStrings(p, x); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range t {
			if err := checkStrings(fmt.Sprintf("%s[%d]", path, i), x); err != nil {
				return err
			}
		}
	}
	return nil
}

func badTextRune(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
