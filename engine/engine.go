package engine

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// Store is what the engine needs of PostgreSQL.
type Store interface {
	ListCallJobs(ctx context.Context, f store.CallJobFilter) ([]store.CallJob, int, error)
	GetCallJob(ctx context.Context, id int64) (store.CallJob, error)
	StopCallJob(ctx context.Context, id int64, reason string, now time.Time) (store.CallJob, error)
	TryLeaseJob(ctx context.Context, jobID int64) (*store.JobLease, error)
	ClaimContacts(ctx context.Context, r store.ClaimRequest, now time.Time) ([]store.DialTarget, error)
	FinishAttempt(ctx context.Context, e store.AttemptEnd) (bool, error)
	// GiveBackAttempt undoes the claim of an attempt that failed because of us (ownFailure).
	GiveBackAttempt(ctx context.Context, channelUUID string, now time.Time) (bool, error)
	MarkAnswered(ctx context.Context, channelUUID string, at time.Time) error
	MarkBridged(ctx context.Context, channelUUID string, agentID int, at time.Time) error
	MarkAgentDropped(ctx context.Context, attemptID int64) error
	UnfinishedAttempts(ctx context.Context, jobID int64) ([]store.LiveAttempt, error)
	AnswerBuckets(ctx context.Context, campaign int, since time.Time) ([]store.AnswerBucket, error)
	RecentDials(ctx context.Context, campaign, n int, now time.Time) ([]store.EndedDial, error)
	JobRunCounts(ctx context.Context, jobID int64) (store.RunCounts, error)
	StartRecording(ctx context.Context, attemptID int64, path string, at time.Time) error
	FinishRecording(ctx context.Context, attemptID int64, length time.Duration, bytes int64) error
	// The agent's desk (issue 16): previews, manual dials, the steps of a call.
	MarkDialed(ctx context.Context, attemptID int64, at time.Time) error
	SkipPreview(ctx context.Context, p store.PreviewSkip) (bool, error)
	CreateManualAttempt(ctx context.Context, m store.ManualDial, now time.Time) (store.DialTarget, error)
	AddAttemptStep(ctx context.Context, st store.AttemptStep) error
}

// AgentState is the live agent state in Redis (G-6).
type AgentState interface {
	Set(ctx context.Context, a agentstate.Agent) error
	Get(ctx context.Context, id int) (agentstate.Agent, error)
	All(ctx context.Context) ([]agentstate.Agent, error)
	Take(ctx context.Context, jobID int64, n int) ([]agentstate.Request, error)
}

// Switch is the FreeSWITCH layer: nodes to place calls on and commands to run there.
type Switch interface {
	Acquire(node string) (string, func(), error)
	API(ctx context.Context, node, cmd string) (string, error)
	APIBatch(ctx context.Context, node string, cmds []string) ([]string, []error, error)
	BgAPI(ctx context.Context, node, cmd string) (<-chan freeswitch.JobResult, error)
	Alive(ctx context.Context, node string, uuids []string) (map[string]bool, error)
	// States tells which nodes are connected (a node down too long is given up: nodeloss.go).
	States() []freeswitch.NodeState
}

// Options configure an Engine.
type Options struct {
	Store    Store
	Agents   AgentState
	Switch   Switch
	Config   func() *config.Config
	Logger   *slog.Logger
	Now      func() time.Time
	Instance string
	// Tick is how often running jobs are paced, deadlines checked and requests taken.
	Tick    time.Duration
	NewUUID func() string
	// OnStep, when set, runs after every pass of the loop: tests wait on it instead of sleeping.
	OnStep func()
	// OnBridge, when set, hears for each customer moved to an agent the time from its
	// CHANNEL_ANSWER leaving the socket to the move acknowledged (what the customer waits), and
	// the engine's own part of it: from the later of the answer and the originate's return (a
	// customer is moved only once its originate has returned) to the move acknowledged
	// (benchmarks, metrics).
	OnBridge func(answerToMove, own time.Duration)
	// Events, when set, receives the live events of S-1.
	Events Events
	// Hooks, when set, hear what happens to customer calls and pacing (metrics).
	Hooks Hooks
}

// Hooks are callbacks for counting what the engine does, each keyed by campaign id. Any of them
// may be nil. They run on the engine's own goroutines, some with its lock held: they must
// return at once and never call back into the engine.
type Hooks struct {
	// Originate hears each customer originate sent to the switch.
	Originate func(campaign int)
	// Outcome hears each customer attempt's outcome as it is recorded (P-3).
	Outcome func(campaign int, outcome domain.Outcome)
	// LiveAnswer and Abandon hear the live answers and abandons the abandon rate counts (P-2),
	// when this instance sees them.
	LiveAnswer func(campaign int)
	Abandon    func(campaign int)
	// Decision hears every pacing decision made for a job of the campaign (P-1, P-4).
	Decision func(campaign int, d pacing.Decision)
	// Classified hears each answer's verdict (human, machine or unsure) in a campaign that
	// classifies answers (P-3).
	Classified func(campaign int, result string)
	// Step hears each step of a call on the agent's desk as it is recorded (issue 16).
	Step func(campaign int, kind domain.StepKind)
}

// Engine runs the call jobs this instance owns: it leases running jobs, brings their agents'
// phones up, dials contacts as pacing asks, bridges answered customers to agents, and records
// every outcome. Several instances share the work through the job leases (P-5 holds through
// the contact claims whatever the leases do).
type Engine struct {
	o Options

	mu       sync.Mutex
	runCtx   context.Context
	draining bool // shutting down: no new calls; calls in progress finish
	jobs     map[int64]*job
	legs     map[string]leg         // channel UUID → the call or agent it belongs to
	calls    int                    // customer calls in flight
	stats    map[int]*campaignStats // pacing statistics per campaign id
	live     liveCounts             // the loop's own
	// staleChecked and staleSeen are releaseStaleAgents' own (the loop only).
	staleChecked time.Time
	staleSeen    map[int]string
	// nodes is the loop's record of the switch nodes' connections (nodeloss.go).
	nodes nodeWatch

	zones  zoneCache   // locations of contacts' own zones (J-8)
	ledger *ledger     // attempt writes to PostgreSQL, ordered per attempt
	states *stateQueue // agent state writes to Redis: latest per agent, in order, never blocking
	cancel context.CancelFunc
	done   chan struct{}
	// watchDone closes when watchCalls has returned.
	watchDone chan struct{}
	wg        sync.WaitGroup // originate result waiters
}

// leg is what a channel UUID belongs to: a customer call or an agent's phone.
type leg struct {
	job   *job
	call  *call
	agent *agent
	party *party // a third party of an agent's call (party.go)
}

// New builds an engine; Start runs it.
func New(o Options) *Engine {
	if o.Tick <= 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewUUID == nil {
		o.NewUUID = freeswitch.NewUUID
	}
	return &Engine{o: o, jobs: map[int64]*job{}, legs: map[string]leg{}, stats: map[int]*campaignStats{}}
}

// Start runs the engine's loop until Stop.
func (e *Engine) Start(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done != nil {
		return
	}
	ctx, e.cancel = context.WithCancel(ctx)
	e.runCtx = ctx
	e.ledger = newLedger(8)
	e.ledger.start()
	e.states = newStateQueue(4)
	e.states.start()
	e.done, e.watchDone = make(chan struct{}), make(chan struct{})
	go e.loop(ctx, e.done)
	go e.watchCalls(ctx, e.watchDone)
}

// watchCalls keeps the answered customers' connect deadlines on its own tick, apart from the
// loop and its database work: a stalled PostgreSQL must never keep a customer waiting in
// silence past the deadline (P-2). It also bridges those waiting and settles unsure originates.
func (e *Engine) watchCalls(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(e.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := e.o.Config()
		e.mu.Lock()
		jobs := make([]*job, 0, len(e.jobs))
		for _, j := range e.jobs {
			jobs = append(jobs, j)
		}
		e.mu.Unlock()
		for _, j := range jobs {
			e.checkCalls(ctx, campaignOf(cfg, j.campaign), j, e.o.Now())
		}
	}
}

// Stop ends the loop, waits for pending originate results and releases the job leases. Calls
// in progress stay up on the switch: the next owner of each job adopts them (restart recovery).
func (e *Engine) Stop() {
	e.mu.Lock()
	cancel, done, watchDone := e.cancel, e.done, e.watchDone
	e.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	<-watchDone
	e.wg.Wait()
	e.releaseStoppedJobsAgents()
	e.ledger.stop() // outcomes are written before the jobs are given up
	e.states.stop()
	e.mu.Lock()
	for id, j := range e.jobs {
		j.lease.Release()
		delete(e.jobs, id)
	}
	e.legs = map[string]leg{}
	e.mu.Unlock()
}

// Drain stops placing calls and waits until the calls in progress have ended or ctx ends
// (graceful shutdown); calls still up then are adopted by the next owner of their job.
func (e *Engine) Drain(ctx context.Context) {
	e.mu.Lock()
	e.draining = true
	e.mu.Unlock()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for e.CallsInFlight() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SetSwitch gives the engine its switch layer when it is built after the engine (the switch's
// events need the engine first). Call before Start.
func (e *Engine) SetSwitch(sw Switch) { e.o.Switch = sw }

// CallsInFlight is the number of customer calls this instance is running.
func (e *Engine) CallsInFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

func (e *Engine) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(e.o.Tick)
	defer t.Stop()
	for {
		e.pass(ctx)
		if e.o.OnStep != nil {
			e.o.OnStep()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pass leases running jobs nobody owns, steps the jobs owned here, and lets go of jobs that
// stopped and have nothing left in flight.
func (e *Engine) pass(ctx context.Context) {
	cfg := e.o.Config()
	running, _, err := e.o.Store.ListCallJobs(ctx, store.CallJobFilter{Running: true})
	if err != nil {
		if ctx.Err() == nil {
			e.o.Logger.Warn("list running jobs", "err", err)
		}
		return
	}
	isRunning := map[int64]store.CallJob{}
	for _, j := range running {
		isRunning[j.ID] = j
		e.mu.Lock()
		_, owned := e.jobs[j.ID]
		e.mu.Unlock()
		if owned {
			continue
		}
		lease, err := e.o.Store.TryLeaseJob(ctx, j.ID)
		if err != nil || lease == nil {
			continue
		}
		e.adopt(ctx, cfg, j, lease)
	}
	e.releaseStaleAgents(ctx, isRunning, e.o.Now())
	e.watchNodes(ctx, e.o.Now())
	e.mu.Lock()
	owned := make([]*job, 0, len(e.jobs))
	for _, j := range e.jobs {
		owned = append(owned, j)
	}
	e.mu.Unlock()
	for _, j := range owned {
		var republish []*agent
		e.mu.Lock()
		if row, ok := isRunning[j.id]; ok {
			if j.stopping {
				e.jobStateEvent(j, domain.JobRunning)
			}
			if row.Run != j.row.Run {
				// The agents go on into the new run: their live state names it from now on.
				for _, a := range j.agents {
					republish = append(republish, a)
				}
			}
			j.row, j.stopping = row, false // started again while still winding down
		} else {
			if !j.stopping {
				e.jobStateEvent(j, domain.JobStopped)
			}
			j.stopping = true
		}
		e.mu.Unlock()
		for _, a := range republish {
			e.publish(ctx, j, a)
		}
		if err := j.lease.Check(ctx); err != nil {
			e.o.Logger.Warn("job lease lost; another instance takes the job over", "job", j.id, "err", err)
			e.drop(j)
			continue
		}
		e.step(ctx, cfg, j)
		if e.idle(j) {
			e.drop(j)
		}
	}
	e.publishCounts(ctx, owned)
}

// drop lets a job go: stopped with nothing left, or its lease lost (its calls are the new
// owner's to adopt). Its calls stop counting here and give their switch slots back.
func (e *Engine) drop(j *job) {
	e.mu.Lock()
	delete(e.jobs, j.id)
	for id, l := range e.legs {
		if l.job == j {
			delete(e.legs, id)
		}
	}
	var release []func()
	for id, c := range j.calls {
		delete(j.calls, id)
		e.calls--
		if c.release != nil {
			release = append(release, c.release)
		}
	}
	e.mu.Unlock()
	for _, r := range release {
		r()
	}
	j.lease.Release()
}

// HandleEvent takes the switch's events (from the ordered dispatcher: one call's events in wire
// order) and moves the call or agent they belong to.
func (e *Engine) HandleEvent(ev *wire.Event) {
	id := freeswitch.CallKey(ev) // an originate's BACKGROUND_JOB belongs to its leg
	if ev.Name() == "BACKGROUND_JOB" && !strings.HasPrefix(ev.Header.Get("Job-Command"), "originate") {
		return // the job of another command that names a leg
	}
	if id == "" {
		return
	}
	e.mu.Lock()
	l, ok := e.legs[id]
	ctx := e.runCtx
	e.mu.Unlock()
	if !ok {
		return
	}
	switch {
	case l.call != nil:
		e.callEvent(ctx, l.job, l.call, ev)
	case l.agent != nil:
		e.agentEvent(ctx, l.job, l.agent, ev)
	case l.party != nil:
		e.partyEvent(ctx, l.job, l.party, ev)
	}
}

// ErrNotOwner is returned for a job no instance runs here.
var ErrNotOwner = errors.New("call job is not run by this instance")
