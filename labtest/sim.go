//go:build lab

package labtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// AgentSim plays agents through the public API only, as people at their screens would (like
// `kakeru agents-sim`): join the job, talk (then hang the customer up if the customer has not),
// wrap up, save a disposition, continue; rejoin when logged off while the job runs. It records
// what each agent went through so a test can compare it with the switch.
type AgentSim struct {
	In     *Instance
	Job    int64
	Agents []int
	Talk   time.Duration // mean talk before the agent hangs the customer up (0: never)
	Wrap   time.Duration // mean wrap-up before the disposition is saved
	Codes  []string      // result codes to pick from (default campaign 1's "interested")

	mu       sync.Mutex
	stats    map[int]*AgentStats
	problems []string
}

// AgentStats is what one simulated agent went through.
type AgentStats struct {
	Joins        int       // join requests (more than one: the agent was logged off while working)
	LoggedOff    []string  // session messages when found logged off after having worked
	Calls        []int64   // attempts seen on the agent's screen, in order
	Hangups      int       // customers the agent hung up
	Dispositions int       // dispositions saved
	LeftAt       time.Time // when Leave was sent
}

func (s *AgentSim) stat(id int) *AgentStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats == nil {
		s.stats = map[int]*AgentStats{}
	}
	if s.stats[id] == nil {
		s.stats[id] = &AgentStats{}
	}
	return s.stats[id]
}

func (s *AgentSim) problem(format string, args ...any) {
	s.mu.Lock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// Stats is a copy of every agent's record.
func (s *AgentSim) Stats() map[int]AgentStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]AgentStats{}
	for id, st := range s.stats {
		c := *st
		c.Calls = append([]int64(nil), st.Calls...)
		c.LoggedOff = append([]string(nil), st.LoggedOff...)
		out[id] = c
	}
	return out
}

// Problems are API calls that failed unexpectedly.
func (s *AgentSim) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

// Run plays every agent until ctx ends.
func (s *AgentSim) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i, id := range s.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.play(ctx, s.In.Agent(id), rand.New(rand.NewPCG(uint64(id), uint64(i))))
		}()
	}
	wg.Wait()
}

func jitter(r *rand.Rand, mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	return time.Duration(float64(mean) * (0.5 + r.Float64()))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *AgentSim) code(r *rand.Rand) string {
	if len(s.Codes) == 0 {
		return "interested"
	}
	return s.Codes[r.IntN(len(s.Codes))]
}

func (s *AgentSim) play(ctx context.Context, a Agent, r *rand.Rand) {
	st := s.stat(a.ID)
	var talking int64
	var talkEnd, wrapEnd time.Time
	var wrapping, saved int64
	worked := false
	for sleepCtx(ctx, 50*time.Millisecond) {
		sess, err := a.Session(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.problem("agent %d session: %v", a.ID, err)
			}
			continue
		}
		attempt := sess.AttemptID()
		switch sess.State {
		case "logged_off":
			if sess.CallJobID != nil {
				continue // joining: the engine is calling the phone
			}
			if worked {
				s.mu.Lock()
				st.LoggedOff = append(st.LoggedOff, sess.Message)
				s.mu.Unlock()
				worked = false
			}
			s.mu.Lock()
			st.Joins++
			s.mu.Unlock()
			if err := a.Join(ctx, s.Job); err != nil && ctx.Err() == nil {
				s.problem("%v", err)
			}
		case "break", "away":
			worked = true
			if err := a.SetState(ctx, "available"); err != nil && ctx.Err() == nil {
				s.problem("%v", err)
			}
		case "available":
			worked = true
		case "on_call":
			worked = true
			if attempt != talking {
				talking = attempt
				talkEnd = time.Now().Add(jitter(r, s.Talk))
				s.mu.Lock()
				st.Calls = append(st.Calls, attempt)
				s.mu.Unlock()
			} else if s.Talk > 0 && !talkEnd.IsZero() && time.Now().After(talkEnd) {
				talkEnd = time.Time{}
				if err := a.HangupCustomer(ctx); err == nil {
					s.mu.Lock()
					st.Hangups++
					s.mu.Unlock()
				}
			}
		case "wrap_up":
			worked = true
			if attempt == 0 || attempt == saved {
				continue
			}
			if attempt != wrapping {
				wrapping, wrapEnd = attempt, time.Now().Add(jitter(r, s.Wrap))
				if attempt != talking { // the call ended before this poll saw it on_call
					talking = attempt
					s.mu.Lock()
					st.Calls = append(st.Calls, attempt)
					s.mu.Unlock()
				}
			}
			if time.Now().Before(wrapEnd) {
				continue
			}
			if err := a.Disposition(ctx, attempt, s.code(r)); err != nil {
				if ctx.Err() == nil {
					s.problem("%v", err)
				}
				continue
			}
			saved = attempt // a repeated poll of the same wrap-up does not save twice
			s.mu.Lock()
			st.Dispositions++
			s.mu.Unlock()
		}
	}
}

// FinishAndLeave saves the dispositions still pending, sends every agent's leave (an agent on a
// call leaves after it) and waits until each is logged off; it reports every agent that is not.
func (s *AgentSim) FinishAndLeave(ctx context.Context) error {
	var errs []error
	for _, id := range s.Agents {
		a := s.In.Agent(id)
		sess, err := a.Session(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sess.State == "wrap_up" && sess.AttemptID() != 0 {
			if err := a.Disposition(ctx, sess.AttemptID(), "interested"); err != nil {
				s.problem("%v", err)
			}
		}
		st := s.stat(id)
		s.mu.Lock()
		st.LeftAt = time.Now()
		s.mu.Unlock()
		if sess.State != "logged_off" || sess.CallJobID != nil {
			if err := a.LeaveIfIn(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	state := map[int]string{}
	for {
		waiting := 0
		for _, id := range s.Agents {
			if state[id] == "logged_off" {
				continue
			}
			if sess, err := s.In.Agent(id).Session(ctx); err == nil {
				state[id] = sess.State
			}
			if state[id] != "logged_off" {
				waiting++
			}
		}
		if waiting == 0 || !sleepCtx(ctx, 100*time.Millisecond) {
			break
		}
	}
	for _, id := range s.Agents {
		if state[id] != "logged_off" {
			errs = append(errs, fmt.Errorf("agent %d not logged off after leaving: %q", id, state[id]))
		}
	}
	return errors.Join(errs...)
}

// SeenState is one state an agent's screen showed, from when it was first seen.
type SeenState struct {
	At      time.Time
	State   string
	Attempt int64
	Tel     string
}

func (s SeenState) String() string {
	out := s.At.Format("15:04:05.000") + " " + s.State
	if s.Attempt != 0 {
		out += fmt.Sprintf(" attempt %d %s", s.Attempt, s.Tel)
	}
	return out
}

// AgentWatch records every change of an agent's screen (state and call), polled every 50 ms.
type AgentWatch struct {
	mu     sync.Mutex
	states []SeenState
	cancel context.CancelFunc
	done   chan struct{}
}

// WatchAgent starts watching the agent's screen until Stop or ctx ends.
func WatchAgent(ctx context.Context, a Agent) *AgentWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &AgentWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			if sess, err := a.Session(ctx); err == nil {
				seen := SeenState{At: time.Now(), State: sess.State, Attempt: sess.AttemptID()}
				if sess.Call != nil && sess.Call.Contact != nil {
					seen.Tel = sess.Call.Contact.Tel
				}
				w.mu.Lock()
				if n := len(w.states); n == 0 || w.states[n-1].State != seen.State || w.states[n-1].Attempt != seen.Attempt {
					w.states = append(w.states, seen)
				}
				w.mu.Unlock()
			}
			if !sleepCtx(ctx, 50*time.Millisecond) {
				return
			}
		}
	}()
	return w
}

// Stop ends the watch and returns what the screen showed.
func (w *AgentWatch) Stop() []SeenState {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]SeenState(nil), w.states...)
}
