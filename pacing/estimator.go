package pacing

import (
	"math"
	"time"
)

// Outcome is how a dial ended as far as pacing is concerned.
type Outcome int

// Dial outcomes.
const (
	Live     Outcome = iota // answered by a person
	Machine                 // answered by an answering machine
	Failed                  // busy, rejected, invalid number, network failure
	NoAnswer                // rang out
	numOutcomes
)

// DialResult is one observed dial. At is when the outcome became known (for Live: when the
// answer was classified as a person; it counts as a live answer at that time, P-2). Ring is the
// time from originate to answer (or to the failure or ring-out), Classify the answer-machine
// detection time after the answer.
type DialResult struct {
	Outcome  Outcome
	At       time.Time
	Ring     time.Duration
	Classify time.Duration
}

// Window is the live answers and abandons counted in one compliance window.
type Window struct {
	Live, Abandoned int
	Rate            float64 // Abandoned / Live; 0 without live answers
}

// Compliance holds a campaign's abandon counts per window (P-2): the calendar day in the
// estimator's location, the rolling 24 hours (per-minute buckets) and the rolling 30 days
// (per-hour buckets, so the window's oldest edge is exact to the hour).
type Compliance struct {
	Day, Rolling24h, Rolling30d Window
}

// Summary is the estimator's current view, for display.
type Summary struct {
	Dials, Live, Abandoned int // dials in the estimation window; live and abandoned today
	AnswerRate, LiveRate   float64
	MachineRate            float64
	MeanRing, MeanClassify time.Duration // over answers (persons and machines)
	// MeanClassifyLive and MeanClassifyMachine are the mean classification times of the
	// answers taken for persons and for machines.
	MeanClassifyLive, MeanClassifyMachine time.Duration
	MeanTalk, MeanWrap                    time.Duration
	TalkSamples, WrapSamples              int
	DayAbandonRate, Rolling24h            float64
}

// Sizes of the estimation windows of NewEstimator.
const (
	DefaultDialWindow   = 2000 // most recent dial outcomes
	DefaultSampleWindow = 400  // most recent talk and wrap-up times
	// MaxDialWindow is the most dial outcomes NewEstimator's window holds: it keeps older
	// ones while it holds fewer live answers than a quarter of DefaultDialWindow.
	MaxDialWindow = DefaultDialWindow * dialWindowStretch
)

const (
	ringBin   = 0.25 // seconds
	ringBins  = 480  // 120 s
	clsBin    = 0.05
	clsBins   = 400 // 20 s
	talkBin   = 2.0
	talkBins  = 3600 // 2 h
	wrapBin   = 0.5
	wrapBins  = 2400 // 20 min
	minuteSec = 60
	hourSec   = 3600
)

// Estimator learns a campaign's statistics online from the calls the engine observes: outcome
// shares and ring-time distributions over the last dials, talk and wrap-up time distributions
// over the last calls, and the abandon counts of the compliance windows. Its memory is bounded:
// fixed-size windows and buckets, whatever the campaign's age.
type Estimator struct {
	loc *time.Location

	dials   dialWindow
	pending pending // dial results waiting for their cohort to be complete
	talk    sampleWindow
	wrap    sampleWindow
	minutes buckets // rolling 24 h
	hours   buckets // rolling 30 days

	day          int // yyyymmdd in loc of the latest observation
	dayLive      int
	dayAbandoned int
}

// NewEstimator returns an empty estimator whose calendar day is taken in loc (nil: UTC).
func NewEstimator(loc *time.Location) *Estimator {
	return NewEstimatorSized(loc, DefaultDialWindow, DefaultSampleWindow)
}

// NewEstimatorSized is NewEstimator with the given window sizes (dial outcomes, talk and
// wrap-up samples). The dial window keeps older outcomes, up to four times its size, while it
// holds fewer live answers than a quarter of its size.
func NewEstimatorSized(loc *time.Location, dialWindow, sampleWindow int) *Estimator {
	if loc == nil {
		loc = time.UTC
	}
	dialWindow = max(dialWindow, 1)
	sampleWindow = max(sampleWindow, 1)
	e := &Estimator{loc: loc}
	e.dials.init(dialWindow, max(dialWindow/dialWindowStretch, 1))
	e.talk.init(sampleWindow, talkBin, talkBins)
	e.wrap.init(sampleWindow, wrapBin, wrapBins)
	e.minutes.init(24*60, minuteSec)
	e.hours.init(30*24, hourSec)
	return e
}

// ObserveDial records one dial's outcome; a Live outcome counts as a live answer at r.At at
// once. The outcome enters the answer-rate and ring-time estimates only once every dial placed
// up to its own placing time has had time to end (the longest ring plus classification seen),
// so a burst of dials does not bias them towards the outcomes that end fast.
func (e *Estimator) ObserveDial(r DialResult) {
	if e == nil || r.Outcome < 0 || r.Outcome >= numOutcomes {
		return
	}
	e.pending.add(r, &e.dials)
	if r.Outcome == Live {
		e.count(r.At, 1, 0)
	}
}

// ObserveAbandon records a live answer abandoned at at (P-2).
func (e *Estimator) ObserveAbandon(at time.Time) {
	if e == nil {
		return
	}
	e.count(at, 0, 1)
}

// ObserveTalk records the talk time of one bridged call.
func (e *Estimator) ObserveTalk(d time.Duration) {
	if e == nil {
		return
	}
	e.talk.add(d.Seconds())
}

// ObserveWrap records one wrap-up time.
func (e *Estimator) ObserveWrap(d time.Duration) {
	if e == nil {
		return
	}
	e.wrap.add(d.Seconds())
}

func dayKey(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return y*10000 + int(m)*100 + d
}

func (e *Estimator) count(at time.Time, live, abandoned int) {
	e.minutes.add(at, live, abandoned)
	e.hours.add(at, live, abandoned)
	k := dayKey(at, e.loc)
	switch {
	case k > e.day:
		e.day, e.dayLive, e.dayAbandoned = k, live, abandoned
	case k == e.day:
		e.dayLive += live
		e.dayAbandoned += abandoned
	}
}

func window(live, abandoned int) Window {
	w := Window{Live: live, Abandoned: abandoned}
	if live > 0 {
		w.Rate = float64(abandoned) / float64(live)
	}
	return w
}

// Compliance returns the abandon counts of the windows ending at now.
func (e *Estimator) Compliance(now time.Time) Compliance {
	if e == nil {
		return Compliance{}
	}
	var c Compliance
	if dayKey(now, e.loc) == e.day {
		c.Day = window(e.dayLive, e.dayAbandoned)
	}
	c.Rolling24h = window(e.minutes.sum(now))
	c.Rolling30d = window(e.hours.sum(now))
	return c
}

// Summary returns the current estimates.
func (e *Estimator) Summary() Summary {
	if e == nil {
		return Summary{}
	}
	d := &e.dials
	s := Summary{Dials: d.n, Live: e.dayLive, Abandoned: e.dayAbandoned,
		TalkSamples: e.talk.n, WrapSamples: e.wrap.n}
	if d.n > 0 {
		n := float64(d.n)
		s.LiveRate = float64(d.count[Live]) / n
		s.MachineRate = float64(d.count[Machine]) / n
		s.AnswerRate = s.LiveRate + s.MachineRate
	}
	if a := d.count[Live] + d.count[Machine]; a > 0 {
		s.MeanRing = seconds(d.ringSum / float64(a))
		s.MeanClassify = seconds((d.clsSum[Live] + d.clsSum[Machine]) / float64(a))
	}
	s.MeanClassifyLive = seconds(d.meanClassify(Live))
	s.MeanClassifyMachine = seconds(d.meanClassify(Machine))
	s.MeanTalk = seconds(e.talk.mean())
	s.MeanWrap = seconds(e.wrap.mean())
	if e.dayLive > 0 {
		s.DayAbandonRate = float64(e.dayAbandoned) / float64(e.dayLive)
	}
	s.Rolling24h = window(e.minutes.sumAt(e.minutes.latest)).Rate
	return s
}

func seconds(s float64) time.Duration {
	if !(s > 0) {
		return 0
	}
	if s > 1e9 {
		s = 1e9
	}
	return time.Duration(s * float64(time.Second))
}

// dialWindow holds the last dial outcomes with, per outcome, the cumulative count of ring
// times by ring-time bin, and for answers (Live, Machine) that of classification times. It
// holds the last size dials, and older ones while it holds fewer than minLive live answers, up
// to its capacity: a campaign few of whose dials reach a person keeps enough of those to learn
// their ring times from.
type dialWindow struct {
	outcome       []uint8
	bin           []int16
	ring          []float32
	classify      []float32
	start, n      int // the oldest dial's index; how many are held
	size, minLive int
	count         [numOutcomes]int
	cum           [numOutcomes][]int32 // cum[o][b]: dials of outcome o with ring bin ≤ b
	ringSum       float64              // answered dials
	// durSum is the sum over all dials of the time to the outcome: ring time, plus the
	// classification time of an answer.
	durSum float64
	// clsCum[o][b]: answers of outcome o (Live, Machine) with classification bin ≤ b; clsSum[o]
	// the sum of their classification times.
	clsCum [Machine + 1][]int32
	clsSum [Machine + 1]float64
}

// dialWindowStretch is how many times its size a dial window may grow to hold minLive live
// answers (NewEstimatorSized: size ÷ dialWindowStretch, so hit rates down to one dial in 16
// keep them).
const dialWindowStretch = 4

func (w *dialWindow) init(size, minLive int) {
	capacity := size * dialWindowStretch
	w.size, w.minLive = size, minLive
	w.outcome = make([]uint8, capacity)
	w.bin = make([]int16, capacity)
	w.ring = make([]float32, capacity)
	w.classify = make([]float32, capacity)
	for o := range w.cum {
		w.cum[o] = make([]int32, ringBins)
	}
	for o := range w.clsCum {
		w.clsCum[o] = make([]int32, clsBins)
	}
}

func answered(o Outcome) bool { return o == Live || o == Machine }

// meanClassify is the mean classification time of the answers of outcome o (Live, Machine).
func (w *dialWindow) meanClassify(o Outcome) float64 {
	if w.count[o] == 0 {
		return 0
	}
	return w.clsSum[o] / float64(w.count[o])
}

// liveWhileClassifying is the probability that an answer still being classified after t
// seconds is taken for a person: the share of persons among the answers whose classification
// took longer than t (with one answer of the overall share as a prior). Persons and machines
// are classified at different times (a person after a short greeting, a machine mostly at the
// time limit), so an answer that has been classified for long is most likely a machine.
func (w *dialWindow) liveWhileClassifying(t float64) float64 {
	nl, nm := float64(w.count[Live]), float64(w.count[Machine])
	if nl+nm == 0 {
		return 1
	}
	prior := nl / (nl + nm)
	l := nl - cumAt(w.clsCum[Live], t, clsBin)
	m := nm - cumAt(w.clsCum[Machine], t, clsBin)
	return (max(l, 0) + prior) / (max(l, 0) + max(m, 0) + 1)
}

func binOf(x, width float64, bins int) int {
	if !(x > 0) {
		return 0
	}
	b := x / width
	if b >= float64(bins-1) {
		return bins - 1
	}
	return int(b)
}

func clampSeconds(d time.Duration) float64 {
	s := d.Seconds()
	if !(s > 0) {
		return 0
	}
	return min(s, 1e6)
}

func (w *dialWindow) add(r DialResult) {
	if w.n == len(w.outcome) {
		w.evict()
	}
	i := (w.start + w.n) % len(w.outcome)
	w.n++
	ring, cls := clampSeconds(r.Ring), clampSeconds(r.Classify)
	b := binOf(ring, ringBin, ringBins)
	w.outcome[i], w.bin[i], w.ring[i], w.classify[i] = uint8(r.Outcome), int16(b), float32(ring), float32(cls)
	w.count[r.Outcome]++
	w.durSum += float64(float32(ring)) + float64(float32(cls))
	c := w.cum[r.Outcome]
	for ; b < len(c); b++ {
		c[b]++
	}
	if answered(r.Outcome) {
		w.ringSum += float64(float32(ring))
		w.clsSum[r.Outcome] += float64(float32(cls))
		cc := w.clsCum[r.Outcome]
		for b := binOf(float64(float32(cls)), clsBin, clsBins); b < len(cc); b++ {
			cc[b]++
		}
	}
	// Past its size the window lets the oldest dials go while it keeps minLive live answers.
	for w.n > w.size {
		lives := w.count[Live]
		if Outcome(w.outcome[w.start]) == Live {
			lives--
		}
		if lives < w.minLive {
			break
		}
		w.evict()
	}
}

// recentShare is the live-answer share among the window's last k dials, counting one dial more
// of the share p.
func (w *dialWindow) recentShare(k int, p float64) float64 {
	k = min(k, w.n)
	lives := 0
	for i := range k {
		if Outcome(w.outcome[(w.start+w.n-1-i)%len(w.outcome)]) == Live {
			lives++
		}
	}
	return (float64(lives) + p) / float64(k+1)
}

// evict lets the oldest dial go.
func (w *dialWindow) evict() {
	i := w.start
	o := w.outcome[i]
	w.count[o]--
	c := w.cum[o]
	for b := int(w.bin[i]); b < len(c); b++ {
		c[b]--
	}
	w.durSum -= float64(w.ring[i]) + float64(w.classify[i])
	if answered(Outcome(o)) {
		w.ringSum -= float64(w.ring[i])
		w.clsSum[o] -= float64(w.classify[i])
		cc := w.clsCum[o]
		for b := binOf(float64(w.classify[i]), clsBin, clsBins); b < len(cc); b++ {
			cc[b]--
		}
	}
	w.start = (w.start + 1) % len(w.outcome)
	w.n--
	if w.start == 0 {
		// Recompute the float sums once per turn so rounding does not accumulate.
		w.ringSum, w.clsSum, w.durSum = 0, [Machine + 1]float64{}, 0
		for k := range w.n {
			j := (w.start + k) % len(w.outcome)
			w.durSum += float64(w.ring[j]) + float64(w.classify[j])
			if o := Outcome(w.outcome[j]); answered(o) {
				w.ringSum += float64(w.ring[j])
				w.clsSum[o] += float64(w.classify[j])
			}
		}
	}
}

// upTo is the number of dials of outcome o with ring time ≤ x seconds, interpolated in the bin.
func (w *dialWindow) upTo(o Outcome, x float64) float64 {
	return cumAt(w.cum[o], x, ringBin)
}

func cumAt(c []int32, x, width float64) float64 {
	if !(x > 0) {
		return 0
	}
	p := x / width
	if p >= float64(len(c)) {
		return float64(c[len(c)-1])
	}
	b := int(p)
	lo := 0.0
	if b > 0 {
		lo = float64(c[b-1])
	}
	return lo + (p-float64(b))*(float64(c[b])-lo)
}

// sampleWindow holds the last samples of a duration with their cumulative count by bin.
type sampleWindow struct {
	vals       []float32
	next, n    int
	cum        []int32
	width, sum float64
}

func (w *sampleWindow) init(size int, width float64, bins int) {
	w.vals = make([]float32, size)
	w.cum = make([]int32, bins)
	w.width = width
}

func (w *sampleWindow) add(x float64) {
	if !(x >= 0) {
		x = 0
	}
	x = min(x, 1e6)
	if w.n == len(w.vals) {
		old := float64(w.vals[w.next])
		for b := binOf(old, w.width, len(w.cum)); b < len(w.cum); b++ {
			w.cum[b]--
		}
		w.sum -= old
	} else {
		w.n++
	}
	w.vals[w.next] = float32(x)
	for b := binOf(x, w.width, len(w.cum)); b < len(w.cum); b++ {
		w.cum[b]++
	}
	w.sum += float64(float32(x))
	w.next = (w.next + 1) % len(w.vals)
	if w.next == 0 {
		w.sum = 0
		for _, v := range w.vals[:w.n] {
			w.sum += float64(v)
		}
	}
}

func (w *sampleWindow) mean() float64 {
	if w.n == 0 {
		return 0
	}
	return w.sum / float64(w.n)
}

// upTo is the number of samples ≤ x, interpolated within the bin.
func (w *sampleWindow) upTo(x float64) float64 { return cumAt(w.cum, x, w.width) }

// quantile returns the u-quantile (0 < u < 1) of the samples.
func (w *sampleWindow) quantile(u float64) float64 {
	if w.n == 0 {
		return 0
	}
	target := u * float64(w.n)
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if float64(w.cum[m]) >= target {
			hi = m
		} else {
			lo = m + 1
		}
	}
	prev := 0.0
	if lo > 0 {
		prev = float64(w.cum[lo-1])
	}
	in := float64(w.cum[lo]) - prev
	f := 0.5
	if in > 0 {
		f = (target - prev) / in
	}
	return (float64(lo) + f) * w.width
}

// conditional is P(x < X ≤ x+h | X > x) for the window's samples and under more durations
// known to exceed x (under way), with an exponential tail (mean: the sample mean, at least x)
// when fewer than two outlast x. cautious counts one more sample beyond x+h: the next value may
// outlast every one seen, and the fewer outlast x, the likelier.
func (w *sampleWindow) conditional(x, h, under float64, cautious bool) float64 {
	if h <= 0 {
		return 0
	}
	n := float64(w.n)
	base := w.upTo(x)
	surv := n - base + under
	if surv < 2 {
		m := math.Max(w.mean(), x)
		if !(m > 0) {
			return 1
		}
		return 1 - math.Exp(-h/m)
	}
	if cautious {
		surv++
	}
	return (w.upTo(x+h) - base) / surv
}

// buckets counts live answers and abandons per fixed-width time bucket in a ring, with the
// totals of the window ending at the latest bucket kept up to date.
type buckets struct {
	width     int64 // seconds
	key       []int64
	live, abd []int32
	latest    time.Time
	last      int64 // key of the latest bucket; valid when started
	started   bool
	totLive   int
	totAbd    int
}

const noBucket = math.MinInt64

func (b *buckets) init(n int, width int64) {
	b.width = width
	b.key = make([]int64, n)
	for i := range b.key {
		b.key[i] = noBucket
	}
	b.live = make([]int32, n)
	b.abd = make([]int32, n)
}

func (b *buckets) keyOf(t time.Time) int64 {
	s := t.Unix()
	k := s / b.width
	if s < 0 && s%b.width != 0 {
		k--
	}
	return k
}

func (b *buckets) slot(k int64) int {
	n := int64(len(b.key))
	return int(((k % n) + n) % n)
}

// advance moves the window's end to bucket k (> b.last), dropping what falls out of it.
func (b *buckets) advance(k int64) {
	n := int64(len(b.key))
	if !b.started || k-b.last >= n {
		for i := range b.key {
			b.key[i], b.live[i], b.abd[i] = noBucket, 0, 0
		}
		b.totLive, b.totAbd = 0, 0
		b.last, b.started = k, true
		return
	}
	for j := b.last + 1; j <= k; j++ {
		i := b.slot(j)
		if b.key[i] != noBucket {
			b.totLive -= int(b.live[i])
			b.totAbd -= int(b.abd[i])
		}
		b.key[i], b.live[i], b.abd[i] = noBucket, 0, 0
	}
	b.last = k
}

func (b *buckets) add(t time.Time, live, abandoned int) {
	if t.After(b.latest) {
		b.latest = t
	}
	k := b.keyOf(t)
	if !b.started || k > b.last {
		b.advance(k)
	}
	if k <= b.last-int64(len(b.key)) {
		return // older than the window
	}
	i := b.slot(k)
	b.key[i] = k
	b.live[i] += int32(live)
	b.abd[i] += int32(abandoned)
	b.totLive += live
	b.totAbd += abandoned
}

// sum counts the buckets of the window ending at now.
func (b *buckets) sum(now time.Time) (live, abandoned int) {
	return b.sumAt(now)
}

func (b *buckets) sumAt(now time.Time) (live, abandoned int) {
	if !b.started {
		return 0, 0
	}
	k := b.keyOf(now)
	if k == b.last {
		return b.totLive, b.totAbd
	}
	n := int64(len(b.key))
	for i, key := range b.key {
		if key != noBucket && key <= k && key > k-n {
			live += int(b.live[i])
			abandoned += int(b.abd[i])
		}
	}
	return live, abandoned
}

// quantile returns the u-quantile (0 < u < 1) of the ring times of outcome o.
func (w *dialWindow) quantile(o Outcome, u float64) float64 {
	c := w.cum[o]
	n := c[len(c)-1]
	if n == 0 {
		return 0
	}
	target := u * float64(n)
	lo, hi := 0, len(c)-1
	for lo < hi {
		m := (lo + hi) / 2
		if float64(c[m]) >= target {
			hi = m
		} else {
			lo = m + 1
		}
	}
	prev := 0.0
	if lo > 0 {
		prev = float64(c[lo-1])
	}
	f := 0.5
	if in := float64(c[lo]) - prev; in > 0 {
		f = (target - prev) / in
	}
	return (float64(lo) + f) * ringBin
}

// maxPending bounds the results held back; beyond it the oldest is taken in early.
const maxPending = 8192

// minLag is the least time a result is held back, until a longer ring has been seen.
const minLag = 30 * time.Second

// pending holds dial results, a min-heap on placing time, until the dials placed up to then
// have all ended.
type pending struct {
	h      []pendingResult
	latest time.Time
	lag    time.Duration
}

type pendingResult struct {
	placed time.Time
	r      DialResult
}

func (p *pending) add(r DialResult, to *dialWindow) {
	ring, cls := max(r.Ring, 0), max(r.Classify, 0)
	p.lag = min(max(p.lag, ring+cls, minLag), 10*time.Minute)
	if r.At.After(p.latest) {
		p.latest = r.At
	}
	p.push(pendingResult{placed: r.At.Add(-ring - cls), r: r})
	for len(p.h) > 0 && (len(p.h) > maxPending || !p.h[0].placed.After(p.latest.Add(-p.lag))) {
		to.add(p.pop().r)
	}
}

func (p *pending) push(x pendingResult) {
	p.h = append(p.h, x)
	i := len(p.h) - 1
	for i > 0 {
		up := (i - 1) / 2
		if !p.h[i].placed.Before(p.h[up].placed) {
			break
		}
		p.h[i], p.h[up] = p.h[up], p.h[i]
		i = up
	}
}

func (p *pending) pop() pendingResult {
	top := p.h[0]
	last := len(p.h) - 1
	p.h[0] = p.h[last]
	p.h = p.h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && p.h[l].placed.Before(p.h[m].placed) {
			m = l
		}
		if r < last && p.h[r].placed.Before(p.h[m].placed) {
			m = r
		}
		if m == i {
			return top
		}
		p.h[i], p.h[m] = p.h[m], p.h[i]
		i = m
	}
}
