package pacebench

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"github.com/kakeru-dialer/kakeru/pacing"
)

// fate is what happens to one dial, drawn before the policy's use of it so that the k-th dial
// of a shift meets the same customer under every policy (common random numbers).
type fate struct {
	u, v                            float64 // outcome draws
	ring, machine, fail, talk, wrap float64
	amd                             amdDraws
}

type fateStream struct {
	rng, amdRng *rand.Rand
	sc          *Scenario
	fates       []fate
}

// amdStream tells the classification draws' stream from the others.
const amdStream = 0x616d64 << 32

func newFateStream(sc *Scenario, shift int) *fateStream {
	return &fateStream{
		rng:    rand.New(rand.NewPCG(sc.Seed, uint64(shift)+1)),
		amdRng: rand.New(rand.NewPCG(sc.Seed, amdStream+uint64(shift))),
		sc:     sc,
	}
}

func (f *fateStream) get(k int) *fate {
	for len(f.fates) <= k {
		r, q, m := f.rng, f.amdRng, &f.sc.AMD
		f.fates = append(f.fates, fate{
			u: r.Float64(), v: r.Float64(),
			ring: f.sc.Ring.Sample(r), machine: f.sc.MachineAnswer.Sample(r),
			fail: f.sc.FailTime.Sample(r), talk: f.sc.Talk.Sample(r), wrap: f.sc.Wrap.Sample(r),
			amd: amdDraws{a: q.Float64(), h: q.Float64(),
				greeting: m.Greeting.Sample(q), beep: m.Beep.Sample(q), hold: m.MachineHold.Sample(q)},
		})
	}
	return &f.fates[k]
}

type evKind uint8

const (
	evTick evKind = iota
	evAnswer
	evClassified // the verdict, or a person hanging up before it
	evEnd        // failed or rang out
	evDeadline
	evTalkEnd
	evWrapEnd
	evAgents // a step of the scenario's agents_schedule
)

type event struct {
	t    float64
	seq  uint64
	kind evKind
	call *simCall
	ag   int // the agent; for evAgents, the number of agents to log in
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type simCall struct {
	k        int
	f        *fate
	outcome  pacing.Outcome // the truth: a person (Live) or a machine answers
	verdict  verdict
	classify float64
	placed   float64
	stage    pacing.CallStage
	stageAt  float64
	ringTime float64
	done     bool
}

type simAgent struct {
	state  pacing.AgentState // Paused while logged out
	since  float64
	freeAt float64
	talk   float64
	wrap   float64
	in     bool    // logged in
	inAt   float64 // when it logged in
	// leaving: logs out when its wrap-up ends.
	leaving bool
}

// shiftStats are one shift's totals. Live and Abandoned count persons, as the regulator does:
// a person taken for a machine or hanging up during classification is abandoned; a machine
// taken for a person counts in neither. RecLive and RecAbandoned are what the dialer records:
// the answers it put through as persons, and those it dropped or lost during classification.
// FalsePositives are the persons taken for machines.
type shiftStats struct {
	Dials, Live, Abandoned, Connects int
	RecLive, RecAbandoned            int
	FalsePositives                   int
	Talk, Wrap, Ready                float64 // agent-seconds inside the shift
	// Capacity is the agent-seconds logged in inside the shift.
	Capacity float64
}

// policy decides dials inside the simulation.
type policy interface {
	// period is the time between ticks, in seconds.
	period() float64
	// onReady: whether the policy also decides when an agent becomes ready.
	onReady() bool
	// decide returns the number of calls to place now.
	decide(s *shift) int
}

// shift is one simulated shift of one policy.
type shift struct {
	sc    *Scenario
	pol   policy
	fates *fateStream
	base  time.Time
	end   float64
	now   float64

	events eventHeap
	seq    uint64
	agents []simAgent
	calls  []*simCall // in flight, in dial order
	queue  []*simCall // live, waiting for an agent, oldest first
	onCall int
	est    *pacing.Estimator // fed with every observation

	st shiftStats

	// Snapshot buffers.
	snapAgents []pacing.Agent
	snapIdx    []int // snapAgents[i] is agents[snapIdx[i]]
	snapCalls  []pacing.Call

	// observe, when set, sees every dial and drop (tests).
	observe func(kind string, c *simCall)
}

// runShift simulates one shift of pol.
func runShift(sc *Scenario, shiftNo int, pol policy) shiftStats {
	return runShiftObserved(sc, shiftNo, pol, nil)
}

func runShiftObserved(sc *Scenario, shiftNo int, pol policy, observe func(kind string, c *simCall)) shiftStats {
	s := &shift{
		observe: observe,
		sc:      sc, pol: pol, fates: newFateStream(sc, shiftNo),
		base:   time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).AddDate(0, 0, shiftNo),
		end:    sc.ShiftHours * 3600,
		agents: make([]simAgent, sc.maxAgents()),
		est:    pacing.NewEstimator(time.UTC),
	}
	for i := range s.agents {
		s.agents[i].state = pacing.Paused
	}
	s.login(sc.Agents)
	for _, st := range sc.AgentSchedule {
		if t := st.AtHour * 3600; t < s.end {
			s.push(t, evAgents, nil, st.Agents)
		}
	}
	s.push(0, evTick, nil, 0)
	for len(s.events) > 0 {
		e := heap.Pop(&s.events).(event)
		if e.t >= s.end && len(s.calls) == 0 {
			break
		}
		s.now = e.t
		switch e.kind {
		case evTick:
			if s.now < s.end {
				s.dial(s.pol.decide(s))
				s.push(s.now+s.pol.period(), evTick, nil, 0)
			}
		case evAnswer:
			c := e.call
			c.stage, c.stageAt = pacing.Classifying, s.now
			c.verdict, c.classify = sc.classify(&c.f.amd, c.outcome == pacing.Live)
			s.push(s.now+c.classify, evClassified, c, 0)
		case evClassified:
			s.classified(e.call)
		case evEnd:
			s.finish(e.call)
			s.est.ObserveDial(pacing.DialResult{Outcome: e.call.outcome, At: s.at(s.now), Ring: dur(e.call.ringTime)})
		case evDeadline:
			if c := e.call; !c.done {
				s.abandon(c)
			}
		case evTalkEnd:
			a := &s.agents[e.ag]
			a.state, a.since = pacing.WrapUp, s.now
			s.onCall--
			s.st.Wrap += overlap(s.now, s.now+a.wrap, s.end)
			s.est.ObserveTalk(dur(a.talk))
			s.push(s.now+a.wrap, evWrapEnd, nil, e.ag)
		case evAgents:
			s.login(e.ag)
			for len(s.queue) > 0 && s.ready() > 0 {
				c := s.queue[0]
				s.queue = s.queue[1:]
				s.connect(c, s.longestReady())
			}
		case evWrapEnd:
			a := &s.agents[e.ag]
			s.est.ObserveWrap(dur(a.wrap))
			if a.leaving {
				s.logout(e.ag)
				continue
			}
			a.state, a.since = pacing.Ready, s.now
			if len(s.queue) > 0 {
				c := s.queue[0]
				s.queue = s.queue[1:]
				s.connect(c, e.ag)
			} else if s.now < s.end && s.pol.onReady() {
				s.dial(s.pol.decide(s))
			}
		}
	}
	for i := range s.agents {
		a := &s.agents[i]
		if a.state == pacing.Ready {
			s.st.Ready += overlap(a.since, s.end, s.end)
		}
		if a.in {
			s.st.Capacity += overlap(a.inAt, s.end, s.end)
		}
	}
	return s.st
}

// login makes n agents logged in: agents about to leave stay, then logged-out ones log in
// ready; above n, ready agents log out at once and busy ones once their wrap-up ends.
func (s *shift) login(n int) {
	in := 0
	for i := range s.agents {
		if a := &s.agents[i]; a.in && !a.leaving {
			in++
		}
	}
	for i := range s.agents { // those about to leave stay first
		if a := &s.agents[i]; in < n && a.in && a.leaving {
			a.leaving = false
			in++
		}
	}
	for i := range s.agents {
		if a := &s.agents[i]; in < n && !a.in {
			*a = simAgent{state: pacing.Ready, since: s.now, in: true, inAt: s.now}
			in++
		}
	}
	for i := range s.agents {
		if in <= n {
			break
		}
		if a := &s.agents[i]; a.in && !a.leaving && a.state == pacing.Ready {
			s.logout(i)
			in--
		}
	}
	for i := range s.agents {
		if in <= n {
			break
		}
		if a := &s.agents[i]; a.in && !a.leaving {
			a.leaving = true
			in--
		}
	}
}

// logout takes a ready or wrapped-up agent out of the shift.
func (s *shift) logout(i int) {
	a := &s.agents[i]
	if a.state == pacing.Ready {
		s.st.Ready += overlap(a.since, s.now, s.end)
	}
	s.st.Capacity += overlap(a.inAt, s.now, s.end)
	a.state, a.since, a.in, a.leaving = pacing.Paused, s.now, false, false
}

func dur(sec float64) time.Duration { return time.Duration(sec * float64(time.Second)) }

func (s *shift) at(sec float64) time.Time { return s.base.Add(dur(sec)) }

// overlap is the length of [a, b] inside [0, end].
func overlap(a, b, end float64) float64 {
	return max(0, min(b, end)-max(a, 0))
}

func (s *shift) push(t float64, k evKind, c *simCall, ag int) {
	s.seq++
	heap.Push(&s.events, event{t: t, seq: s.seq, kind: k, call: c, ag: ag})
}

func (s *shift) dial(n int) {
	sc := s.sc
	for range n {
		k := s.st.Dials
		f := s.fates.get(k)
		s.st.Dials++
		c := &simCall{k: k, f: f, placed: s.now, stage: pacing.Ringing, stageAt: s.now}
		hit, mach := sc.hitRate(s.now), sc.machineRate(s.now)
		switch {
		case f.u < hit && f.ring < sc.NoAnswerTimeout:
			c.outcome, c.ringTime = pacing.Live, f.ring
			s.push(s.now+f.ring, evAnswer, c, 0)
		case f.u >= hit && f.u < hit+mach && f.machine < sc.NoAnswerTimeout:
			c.outcome, c.ringTime = pacing.Machine, f.machine
			s.push(s.now+f.machine, evAnswer, c, 0)
		case f.u >= hit+mach && f.v < sc.FailShare:
			c.outcome, c.ringTime = pacing.Failed, min(f.fail, sc.NoAnswerTimeout)
			s.push(s.now+c.ringTime, evEnd, c, 0)
		default:
			c.outcome, c.ringTime = pacing.NoAnswer, sc.NoAnswerTimeout
			s.push(s.now+c.ringTime, evEnd, c, 0)
		}
		s.calls = append(s.calls, c)
		if s.observe != nil {
			s.observe("dial", c)
		}
	}
}

// finish takes c out of the calls in flight.
func (s *shift) finish(c *simCall) {
	c.done = true
	for i, x := range s.calls {
		if x == c {
			s.calls = append(s.calls[:i], s.calls[i+1:]...)
			return
		}
	}
}

// classified acts on c's verdict as the engine does: a machine is hung up, a person (or what
// was taken for one) put through, and the estimator learns the outcome the engine records.
func (s *shift) classified(c *simCall) {
	s.est.ObserveDial(pacing.DialResult{Outcome: c.verdict.outcome(), At: s.at(s.now), Ring: dur(c.ringTime), Classify: dur(c.classify)})
	if c.verdict.person() {
		s.st.Live++
	}
	switch c.verdict {
	case vMachine:
		s.finish(c)
		return
	case vFalsePositive:
		s.finish(c)
		s.st.Abandoned++
		s.st.FalsePositives++
		return
	case vHangup:
		s.st.RecLive++
		s.abandon(c)
		return
	}
	s.st.RecLive++
	if ag := s.longestReady(); ag >= 0 {
		s.connect(c, ag)
		return
	}
	c.stage, c.stageAt = pacing.Waiting, s.now
	s.queue = append(s.queue, c)
	s.push(s.now+s.sc.ConnectDeadline, evDeadline, c, 0)
}

func (s *shift) connect(c *simCall, ag int) {
	s.finish(c)
	a := &s.agents[ag]
	s.st.Ready += overlap(a.since, s.now, s.end)
	a.state, a.since = pacing.OnCall, s.now
	a.talk, a.wrap = c.f.talk, c.f.wrap
	if c.verdict == vFalseNegative {
		a.talk = c.f.amd.hold
	}
	a.freeAt = s.now + a.talk + a.wrap
	s.onCall++
	s.st.Connects++
	s.st.Talk += overlap(s.now, s.now+a.talk, s.end)
	s.push(s.now+a.talk, evTalkEnd, nil, ag)
}

func (s *shift) abandon(c *simCall) {
	s.finish(c)
	for i, x := range s.queue {
		if x == c {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			break
		}
	}
	if c.verdict.person() {
		s.st.Abandoned++
	}
	s.st.RecAbandoned++
	s.est.ObserveAbandon(s.at(s.now))
	if s.observe != nil {
		s.observe("drop", c)
	}
}

// snapshot is what the engine would hand the pacing package now.
func (s *shift) snapshot(set pacing.Settings, stats *pacing.Estimator) pacing.Snapshot {
	s.snapAgents, s.snapIdx = s.snapAgents[:0], s.snapIdx[:0]
	for i, a := range s.agents {
		if a.in {
			s.snapAgents = append(s.snapAgents, pacing.Agent{State: a.state, InState: dur(s.now - a.since)})
			s.snapIdx = append(s.snapIdx, i)
		}
	}
	s.snapCalls = s.snapCalls[:0]
	for _, c := range s.calls {
		s.snapCalls = append(s.snapCalls, pacing.Call{Stage: c.stage, Elapsed: dur(s.now - c.placed), InStage: dur(s.now - c.stageAt)})
	}
	return pacing.Snapshot{Now: s.at(s.now), Settings: set, Agents: s.snapAgents, Calls: s.snapCalls, Stats: stats}
}

// longestReady is the ready agent idle longest, -1 if none.
func (s *shift) longestReady() int {
	ag := -1
	for i := range s.agents {
		if a := &s.agents[i]; a.state == pacing.Ready && (ag < 0 || a.since < s.agents[ag].since) {
			ag = i
		}
	}
	return ag
}

// loggedIn counts the agents logged in.
func (s *shift) loggedIn() int {
	n := 0
	for _, a := range s.agents {
		if a.in {
			n++
		}
	}
	return n
}

// ready counts the ready agents.
func (s *shift) ready() int {
	n := 0
	for _, a := range s.agents {
		if a.state == pacing.Ready {
			n++
		}
	}
	return n
}
