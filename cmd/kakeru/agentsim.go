package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
)

// agentSim plays agents through the public API only, as people at their screens would: join
// the job, talk (then hang the customer up if the customer has not), wrap up, save a
// disposition, continue — and rejoin when logged off while the job runs.
type agentSim struct {
	base     string // http://host:port
	job      int64
	agents   []int
	token    func(agent int) string
	talk     time.Duration // mean talk time before the agent ends the call
	wrap     time.Duration // mean wrap-up before the disposition is saved
	codes    []string
	client   *http.Client
	handled  atomic.Int64 // dispositions saved
	failures atomic.Int64
}

func (s *agentSim) do(ctx context.Context, agent int, method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token(agent))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// run plays every agent until ctx ends.
func (s *agentSim) run(ctx context.Context) {
	if s.client == nil {
		s.client = &http.Client{Timeout: 5 * time.Second}
	}
	var wg sync.WaitGroup
	for i, id := range s.agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.play(ctx, id, rand.New(rand.NewPCG(uint64(id), uint64(i))))
		}()
	}
	wg.Wait()
}

func (s *agentSim) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func jitter(r *rand.Rand, mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	return time.Duration(float64(mean) * (0.5 + r.Float64()))
}

func (s *agentSim) play(ctx context.Context, id int, r *rand.Rand) {
	var talking int64 // the attempt being talked, and since when
	var talkEnd time.Time
	for s.wait(ctx, 50*time.Millisecond) {
		code, sess, err := s.do(ctx, id, "GET", fmt.Sprintf("/api/v1/agents/%d/session", id), nil)
		if err != nil || code != http.StatusOK {
			s.failures.Add(1)
			continue
		}
		attempt := int64(0)
		if c, ok := sess["call"].(map[string]any); ok {
			attempt = int64(c["attempt_id"].(float64))
		}
		state, _ := sess["state"].(string)
		switch domain.AgentState(state) {
		case domain.AgentLoggedOff:
			if sess["call_job_id"] == nil { // not joining yet
				s.do(ctx, id, "POST", fmt.Sprintf("/api/v1/agents/%d/join", id), map[string]any{"call_job_id": s.job})
			}
		case domain.AgentPreview: // a preview job: the simulated agent dials what it is shown
			if p, ok := sess["preview"].(map[string]any); ok {
				s.do(ctx, id, "POST", fmt.Sprintf("/api/v1/agents/%d/preview/dial", id), map[string]any{"attempt_id": p["attempt_id"]})
			}
		case domain.AgentBreak, domain.AgentAway:
			s.do(ctx, id, "POST", fmt.Sprintf("/api/v1/agents/%d/state", id), map[string]any{"state": domain.AgentAvailable})
		case domain.AgentOnCall:
			if attempt != talking {
				talking, talkEnd = attempt, time.Now().Add(jitter(r, s.talk))
			} else if time.Now().After(talkEnd) {
				s.do(ctx, id, "POST", fmt.Sprintf("/api/v1/agents/%d/hangup-customer", id), nil)
			}
		case domain.AgentWrapUp:
			if attempt == 0 || !s.wait(ctx, jitter(r, s.wrap)) {
				continue
			}
			next := domain.NextContinue
			if r.IntN(2) == 0 {
				next = domain.NextComplete
			}
			code, _, err := s.do(ctx, id, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt), map[string]any{
				"party": "self", "result_code": s.codes[r.IntN(len(s.codes))], "next_action": next, "memo": "simulated", "after": domain.AfterContinue})
			if err == nil && code == http.StatusNoContent {
				s.handled.Add(1)
			}
		}
	}
}

// runAgentsSim is `kakeru agents-sim`: simulated agents working a call job through the API.
func runAgentsSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru agents-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", "http://127.0.0.1:8080", "the engine's API address")
	job := fs.Int64("job", 0, "call job to work (required)")
	agents := fs.String("agents", "1001,1002,1003,1004", "agent ids, comma-separated")
	tokens := fs.String("token", "demo-agent-{id}-token", "bearer token of each agent; {id} is replaced")
	codes := fs.String("result-codes", "interested,not_interested,call_back_later", "result codes to pick from")
	talk := fs.Duration("talk", 5*time.Second, "mean talk time before the agent ends the call")
	wrap := fs.Duration("wrap", 2*time.Second, "mean wrap-up time before the disposition is saved")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	s := &agentSim{base: strings.TrimRight(*api, "/"), job: *job, talk: *talk, wrap: *wrap, codes: strings.Split(*codes, ","),
		token: func(id int) string { return strings.ReplaceAll(*tokens, "{id}", strconv.Itoa(id)) }}
	for _, a := range strings.Split(*agents, ",") {
		id, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			fmt.Fprintf(stderr, "kakeru agents-sim: agent id %q is not a number\n", a)
			return exitUsage
		}
		s.agents = append(s.agents, id)
	}
	if *job < 1 {
		fmt.Fprintln(stderr, "kakeru agents-sim: --job is required")
		return exitUsage
	}
	fmt.Fprintf(stdout, "simulated agents %v working call job %d on %s\n", s.agents, s.job, s.base)
	s.run(ctx)
	fmt.Fprintf(stdout, "agents-sim: %d dispositions saved\n", s.handled.Load())
	return 0
}
