package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// Tokens of config.example.yaml's demo users.
const (
	adminToken       = "demo-admin-token"
	supervisorToken  = "demo-supervisor-token"  // campaign 1
	supervisor2Token = "demo-supervisor2-token" // campaign 2
	agentToken       = "demo-agent-1001-token"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

type staticConfig struct{ cfg *config.Config }

func (s staticConfig) Current() *config.Config { return s.cfg }

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *store.Store
	cfg   *config.Config
	now   time.Time
}

// newEnv serves the API over a fresh database with the example configuration and a clock fixed
// at now (Tokyo wall time "YYYY-MM-DD HH:MM").
func newEnv(t *testing.T, now string, edit func(*config.Config)) *env {
	t.Helper()
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	e := &env{t: t, store: storetest.New(t), cfg: cfg, now: at(now)}
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store, DoNotCall: e.store, Now: func() time.Time { return e.now },
		Status: func(context.Context) (httpapi.Status, error) { return httpapi.Status{Version: "test"}, nil }})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

type response struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

func (r response) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (e *env) call(token, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out
}

// postForm posts a multipart form (an upload) and reads the answer.
func (e *env) postForm(token, url, contentType string, body io.Reader) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func (e *env) mustCall(want int, token, method, path string, body any) response {
	e.t.Helper()
	r := e.call(token, method, path, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// createBatch creates a batch of campaign 1 as admin and returns its id.
func (e *env) createBatch(start string) int64 {
	e.t.Helper()
	r := e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": "August mailing", "campaign_id": 1, "start_date": start})
	return int64(r.Body["id"].(float64))
}
