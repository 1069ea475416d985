package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// sseEvent is one server-sent event as a client sees it.
type sseEvent struct {
	ID, Type string
	Data     map[string]any
}

// sseClient reads an event stream in the background.
type sseClient struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	mu     sync.Mutex
	events []sseEvent
	beats  int
	done   chan struct{}
}

func openEvents(t *testing.T, m *Main, token, query, lastID string) (*sseClient, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+m.Addr()+"/api/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("event stream headers %v", resp.Header)
	}
	c := &sseClient{t: t, resp: resp, cancel: cancel, done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c, 200
}

func (c *sseClient) read() {
	defer close(c.done)
	sc := bufio.NewScanner(c.resp.Body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.ID != "" {
				c.mu.Lock()
				c.events = append(c.events, ev)
				c.mu.Unlock()
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			c.mu.Lock()
			c.beats++
			c.mu.Unlock()
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Type = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.Data); err != nil {
				c.t.Errorf("event data %q: %v", line, err)
			}
		}
	}
}

func (c *sseClient) close() {
	c.cancel()
	c.resp.Body.Close()
	<-c.done
}

func (c *sseClient) got() []sseEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}

// waitEvent waits for an event the predicate accepts and returns it.
func (c *sseClient) waitEvent(what string, ok func(sseEvent) bool) sseEvent {
	c.t.Helper()
	var found sseEvent
	waitFor(c.t, what, func() bool {
		for _, e := range c.got() {
			if ok(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func agentStateIs(agent int, state string) func(sseEvent) bool {
	return func(e sseEvent) bool {
		d, _ := e.Data["data"].(map[string]any)
		return e.Type == "agent_state" && e.Data["agent_id"] == float64(agent) && d["state"] == state
	}
}

func stayingCalls(dial string) fsim.Fate {
	if strings.Contains(dial, "/agent-") || strings.Contains(dial, "/supervisors") {
		return fsim.Fate{Answer: true}
	}
	return fsim.Fate{Answer: true, Ring: 50 * time.Millisecond}
}

// S-1: a client that disconnects and resumes with Last-Event-ID receives exactly the events it
// missed: the same ids, in the same order, as a client that stayed connected. Idle streams get
// keep-alive comments, and open streams do not hold the server's shutdown.
func TestLiveEventsResumeExactly(t *testing.T) {
	m, _, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", heartbeat: 100 * time.Millisecond},
		stayingCalls, "09011110001", "09011110002", "09011110003")
	const admin, agentTok = "demo-admin-token", "demo-agent-1001-token"
	q := fmt.Sprintf("?call_job_id=%d", job)
	steady, _ := openEvents(t, m, admin, q, "")
	away, _ := openEvents(t, m, admin, q, "")
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	steady.waitEvent("job running", func(e sseEvent) bool { return e.Type == "job_state" })
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	steady.waitEvent("agent 1001 on a call", agentStateIs(1001, "on_call"))
	away.waitEvent("agent 1001 on a call", agentStateIs(1001, "on_call"))
	away.close()
	seen := away.got()
	last := seen[len(seen)-1].ID

	// While the second client is away: the call ends, wrap-up, disposition, break.
	s := session(t, m, 1001)
	attempt := int64(s["call"].(map[string]any)["attempt_id"].(float64))
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/hangup-customer", nil))
	steady.waitEvent("wrap-up", agentStateIs(1001, "wrap_up"))
	must(t, 204)(call(t, m, agentTok, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt),
		map[string]any{"party": "self", "result_code": "interested", "next_action": "complete", "after": "break"}))
	steady.waitEvent("break", agentStateIs(1001, "break"))
	time.Sleep(1500 * time.Millisecond) // the job counts settle
	all := steady.got()
	var missed []string
	for i, e := range all {
		if e.ID == last {
			for _, e := range all[i+1:] {
				missed = append(missed, e.ID)
			}
		}
	}
	if len(missed) < 3 {
		t.Fatalf("too few events after %s to test with: %v", last, all)
	}
	back, _ := openEvents(t, m, admin, q, last)
	waitFor(t, "the resumed client caught up", func() bool { return len(back.got()) >= len(missed) })
	time.Sleep(300 * time.Millisecond)
	var got []string
	for _, e := range back.got() {
		got = append(got, e.ID)
	}
	if !slices.Equal(got[:min(len(got), len(missed))], missed) || len(got) > len(missed) && slices.Contains(missed, got[len(missed)]) {
		t.Fatalf("resumed with %s:\n got  %v\n want %v", last, got, missed)
	}
	types := map[string]bool{}
	for _, e := range all {
		types[e.Type] = true
		if e.Data["call_job_id"] != float64(job) {
			t.Fatalf("event of another job through the call_job_id filter: %v", e)
		}
	}
	for _, typ := range []string{"agent_state", "call_offered", "call_connected", "call_ended", "job_state", "job_counts"} {
		if !types[typ] {
			t.Errorf("no %s event in %v", typ, all)
		}
	}
	steady.mu.Lock()
	beats := steady.beats
	steady.mu.Unlock()
	if beats == 0 {
		t.Error("no keep-alive comment on the stream")
	}
	_, code := openEvents(t, m, admin, q, "not-an-id")
	if code != 400 {
		t.Errorf("bad Last-Event-ID: %d", code)
	}

	// Shutdown ends the open streams instead of waiting for their clients.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with open event streams: %v", err)
	}
	select {
	case <-back.done:
	case <-time.After(time.Second):
		t.Fatal("the event stream stayed open after shutdown")
	}
}
