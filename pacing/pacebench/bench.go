package pacebench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"text/tabwriter"

	"github.com/kakeru-dialer/kakeru/pacing"
)

// Policy names, in table order.
const (
	PolicyProgressive = "progressive"
	PolicyRatio       = "ratio"
	PolicyVicidial    = "vicidial-adapt"
	PolicyKakeru      = "kakeru"
	PolicyOracle      = "oracle"
)

// PolicyNames are the policies, in table order.
func PolicyNames() []string {
	return []string{PolicyProgressive, PolicyRatio, PolicyVicidial, PolicyKakeru, PolicyOracle}
}

// Row is one policy's results over a scenario's shifts. Rates and occupancies are fractions,
// times seconds.
type Row struct {
	Policy            string  `json:"policy"`
	Occupancy         float64 `json:"occupancy"`
	OccupancyWithWrap float64 `json:"occupancy_with_wrap"`
	AbandonRate       float64 `json:"abandon_rate"`
	AbandonP95Shift   float64 `json:"abandon_p95_shift"`
	AbandonMaxShift   float64 `json:"abandon_max_shift"`
	// ReportedMaxShift is the highest per-shift abandon rate as the dialer reports it to the
	// regulator (Ofcom's count): its recorded abandons plus the estimated false positives of
	// answer classification, over its recorded live answers plus those. ShiftsAboveTarget counts
	// the shifts whose reported rate ended above the target: the day's guarantee, which a dialer
	// can keep. TrueShiftsAboveTarget counts those whose rate over persons (the columns above,
	// with the false positives as they fell) did: chance adds to that what no dialer sees.
	ReportedMaxShift      float64  `json:"reported_max_shift"`
	ShiftsAboveTarget     int      `json:"shifts_above_target"`
	TrueShiftsAboveTarget int      `json:"true_shifts_above_target"`
	WaitMean              float64  `json:"wait_mean"`
	ConnectsPerAgentHour  float64  `json:"connects_per_agent_hour"`
	DialsPerConnect       float64  `json:"dials_per_connect"`
	OracleRatio           *float64 `json:"oracle_ratio,omitempty"`

	// Param is the tuned parameter (ratio's ratio, oracle's threshold); not in the JSON.
	Param float64 `json:"-"`
}

// Result is one scenario's table.
type Result struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	Policies []Row  `json:"policies"`
}

// Options of Run.
type Options struct {
	// Shifts overrides the scenario's shift count when > 0 (--quick: 1).
	Shifts int
	// Seed overrides the scenario's seed when set.
	Seed *uint64
	// Bisections is the number of bisection steps for ratio and oracle (default 8).
	Bisections int
	// Workers bounds the shifts simulated at once (default GOMAXPROCS).
	Workers int
	// TuneShifts, when in [1, shifts), is how many of the shifts (the first ones) the
	// bisections of ratio and oracle run on; the parameter found is then run on every shift.
	// Zero: all of them.
	TuneShifts int
	// Policies, when not empty, are the only policies run (names as in the table); the others'
	// rows are left out.
	Policies []string
}

// Run simulates every policy on sc and returns its table.
func Run(sc Scenario, o Options) Result {
	if o.Shifts > 0 {
		sc.Shifts = o.Shifts
	}
	if o.Seed != nil {
		sc.Seed = *o.Seed
	}
	if o.Bisections <= 0 {
		o.Bisections = 8
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, o.Workers)
	tune := sc.Shifts
	if o.TuneShifts > 0 && o.TuneShifts < sc.Shifts {
		tune = o.TuneShifts
	}
	runN := func(n int, mk func() policy) []shiftStats {
		out := make([]shiftStats, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				out[i] = runShift(&sc, i, mk())
			})
		}
		wg.Wait()
		return out
	}
	run := func(mk func() policy) []shiftStats { return runN(sc.Shifts, mk) }
	target := sc.TargetAbandonRate
	// bisect returns the highest x in [lo, hi] whose mean abandon is ≤ target (lo if none).
	bisect := func(lo, hi float64, logScale bool, mk func(x float64) policy) (float64, []shiftStats) {
		best, bestStats := lo, runN(tune, func() policy { return mk(lo) })
		if st := runN(tune, func() policy { return mk(hi) }); meanAbandon(st) <= target {
			best, bestStats = hi, st
		} else {
			for range o.Bisections {
				mid := (lo + hi) / 2
				if logScale {
					mid = math.Sqrt(lo * hi)
				}
				st := runN(tune, func() policy { return mk(mid) })
				if meanAbandon(st) <= target {
					lo, best, bestStats = mid, mid, st
				} else {
					hi = mid
				}
			}
		}
		if tune < sc.Shifts {
			bestStats = run(func() policy { return mk(best) })
		}
		return best, bestStats
	}

	rows := make([]Row, 5)
	want := func(name string) bool { return len(o.Policies) == 0 || slices.Contains(o.Policies, name) }
	var wg sync.WaitGroup
	goIf := func(name string, f func()) {
		if want(name) {
			wg.Go(f)
		}
	}
	goIf(PolicyProgressive, func() {
		rows[0] = row(PolicyProgressive, &sc, run(func() policy {
			return &decidePolicy{set: settings(&sc, pacing.Progressive)}
		}))
	})
	goIf(PolicyRatio, func() {
		r, st := bisect(1, 20, true, func(x float64) policy {
			set := settings(&sc, pacing.Ratio)
			set.Ratio = x
			return &decidePolicy{set: set}
		})
		rows[1] = row(PolicyRatio, &sc, st)
		rows[1].Param = r
	})
	goIf(PolicyVicidial, func() {
		rows[2] = row(PolicyVicidial, &sc, run(func() policy { return &vicidialPolicy{v: NewVicidial()} }))
	})
	goIf(PolicyKakeru, func() {
		rows[3] = row(PolicyKakeru, &sc, run(func() policy {
			return &decidePolicy{set: settings(&sc, pacing.Predictive)}
		}))
	})
	goIf(PolicyOracle, func() {
		tr := truth(&sc)
		th, st := bisect(1e-4, 0.9, true, func(x float64) policy {
			return &oraclePolicy{set: settings(&sc, pacing.Predictive), theta: x, truth: tr}
		})
		rows[4] = row(PolicyOracle, &sc, st)
		rows[4].Param = th
	})
	wg.Wait()
	if rows[4].Occupancy > 0 && rows[3].Policy != "" {
		r := rows[3].Occupancy / rows[4].Occupancy
		rows[3].OracleRatio = &r
	}
	rows = slices.DeleteFunc(rows, func(r Row) bool { return r.Policy == "" })
	return Result{Scenario: sc.Name, Seed: sc.Seed, Policies: rows}
}

func shiftAbandon(s shiftStats) float64 {
	if s.Live == 0 {
		return 0
	}
	return float64(s.Abandoned) / float64(s.Live)
}

// meanAbandon is the mean of the per-shift abandon rates.
func meanAbandon(st []shiftStats) float64 {
	var sum float64
	for _, s := range st {
		sum += shiftAbandon(s)
	}
	return sum / float64(len(st))
}

// quantile is the q-quantile of xs, interpolated between order statistics.
func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	p := q * float64(len(s)-1)
	i := int(p)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (p-float64(i))*(s[i+1]-s[i])
}

// reportedAbandon is a shift's abandon rate as the dialer reports it (Ofcom's count): recorded
// abandons plus the estimated false positives, over recorded live answers plus those. The
// estimate is the campaign's false-positive setting, the scenario's share (settings).
func reportedAbandon(s shiftStats, sc *Scenario) float64 {
	if s.RecLive == 0 {
		return 0
	}
	f := settings(sc, pacing.Predictive).FalsePositiveRate
	fp := f / (1 - f) * float64(s.RecLive)
	return (float64(s.RecAbandoned) + fp) / (float64(s.RecLive) + fp)
}

func row(name string, sc *Scenario, st []shiftStats) Row {
	r := Row{Policy: name}
	var occ, occW float64
	var ab []float64
	var dials, connects int
	var ready, agentHours float64
	for _, s := range st {
		capacity := s.Capacity
		occ += s.Talk / capacity
		occW += (s.Talk + s.Wrap) / capacity
		ab = append(ab, shiftAbandon(s))
		dials += s.Dials
		connects += s.Connects
		ready += s.Ready
		agentHours += capacity / 3600
	}
	n := float64(len(st))
	r.Occupancy, r.OccupancyWithWrap = occ/n, occW/n
	r.AbandonRate = meanAbandon(st)
	r.AbandonP95Shift = quantile(ab, 0.95)
	r.AbandonMaxShift = slices.Max(ab)
	for i, a := range ab {
		if a > sc.TargetAbandonRate {
			r.TrueShiftsAboveTarget++
		}
		rep := reportedAbandon(st[i], sc)
		r.ReportedMaxShift = max(r.ReportedMaxShift, rep)
		if rep > sc.TargetAbandonRate {
			r.ShiftsAboveTarget++
		}
	}
	if connects > 0 {
		r.WaitMean = ready / float64(connects)
		r.DialsPerConnect = float64(dials) / float64(connects)
	}
	r.ConnectsPerAgentHour = float64(connects) / agentHours
	return r
}

// WriteTable prints res as an aligned table.
func WriteTable(w io.Writer, res Result, shifts int) error {
	fmt.Fprintf(w, "scenario %s  seed %d  shifts %d\n", res.Scenario, res.Seed, shifts)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\toccupancy\tocc+wrap\tabandon\tp95 shift\tmax shift\treported max\tdays > target\ttrue > target\twait s\tconn/agent-h\tdials/conn\tvs oracle\ttuned\t")
	for _, r := range res.Policies {
		vs, tuned := "", ""
		if r.OracleRatio != nil {
			vs = fmt.Sprintf("%.1f%%", 100**r.OracleRatio)
		}
		switch r.Policy {
		case PolicyRatio:
			tuned = fmt.Sprintf("ratio %.3f", r.Param)
		case PolicyOracle:
			tuned = fmt.Sprintf("threshold %.4f", r.Param)
		}
		fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%.2f%%\t%.2f%%\t%.2f%%\t%.2f%%\t%d\t%d\t%.1f\t%.1f\t%.2f\t%s\t%s\t\n",
			r.Policy, 100*r.Occupancy, 100*r.OccupancyWithWrap, 100*r.AbandonRate,
			100*r.AbandonP95Shift, 100*r.AbandonMaxShift, 100*r.ReportedMaxShift, r.ShiftsAboveTarget,
			r.TrueShiftsAboveTarget, r.WaitMean, r.ConnectsPerAgentHour,
			r.DialsPerConnect, vs, tuned)
	}
	return tw.Flush()
}

// WriteJSON prints res as one JSON object and a newline.
func WriteJSON(w io.Writer, res Result) error {
	return json.NewEncoder(w).Encode(res)
}
