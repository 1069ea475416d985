package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawPost sends body as is (the env's call marshals, which would clean it).
func rawPost(t *testing.T, e *env, path string, body []byte, header map[string]string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// Issue 13 rows 7, 15, 16: JSON text that is not clean UTF-8 is refused with a 422 naming the
// field instead of being stored with replacement characters; a body over 1 MiB is a 413; a
// compressed body is a 415.
func TestJSONTextRefused(t *testing.T) {
	e := newEnv(t, "2026-03-10 10:00", nil)
	batch := func(name string) []byte {
		return []byte(`{"name": "` + name + `", "campaign_id": 1, "start_date": "2026-03-11"}`)
	}
	for _, c := range []struct {
		what   string
		body   []byte
		header map[string]string
		status int
		field  string
	}{
		{"lone high surrogate", batch(`a\ud800b`), nil, 422, ""},
		{"lone low surrogate", batch(`a\udc00b`), nil, 422, ""},
		{"raw 0xff", batch("a\xffb"), nil, 422, ""},
		{"bidi override", batch("a\u202eb"), nil, 422, "name"},
		{"zero-width space", batch("a\u200bb"), nil, 422, "name"},
		{"escaped NUL", batch(`a\u0000b`), nil, 422, "name"},
		{"BOM inside", batch("\ufeffa"), nil, 422, "name"},
		{"2 MB body", batch(strings.Repeat("x", 2<<20)), nil, 413, ""},
		{"gzip", batch("a"), map[string]string{"Content-Encoding": "gzip"}, 415, ""},
	} {
		r := rawPost(t, e, "/api/v1/batches", c.body, c.header)
		if r.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.what, r.Status, r.Raw, c.status)
			continue
		}
		if c.field != "" && !strings.Contains(string(r.Raw), `"field":"`+c.field+`"`) {
			t.Errorf("%s: %s does not name %s", c.what, r.Raw, c.field)
		}
	}
	// A surrogate pair, Japanese text and a line break are text like any other.
	if r := rawPost(t, e, "/api/v1/batches", batch(`\ud83d\ude00 架ける`), nil); r.Status != http.StatusCreated {
		t.Errorf("valid text refused: %d %s", r.Status, r.Raw)
	}
}
