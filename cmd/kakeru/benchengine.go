package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/store"
)

// runBenchEngine is `kakeru bench engine`: one instance against the simulated switch, with its
// PostgreSQL and Redis. Each run measures the originates per second the instance sustains with
// many agents free (progressive pacing, most calls failing fast, some answered) and the latency
// from the switch sending CHANNEL_ANSWER to it receiving the uuid_transfer into the agent's room; a last phase holds
// --hold concurrent calls (ratio pacing, calls ringing until their timeout) and counts errors.
func runBenchEngine(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru bench engine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "kakeru.yaml", "configuration file (PostgreSQL and Redis are used; the switch is simulated)")
	agents := fs.Int("agents", 1000, "simulated agents joined to the job")
	seconds := fs.Duration("duration", 20*time.Second, "measured time per run")
	runs := fs.Int("runs", 3, "runs of the rate phase")
	hold := fs.Int("hold", 10000, "concurrent calls of the hold phase (0: skip)")
	rate := fs.Float64("rate", 0, "cap on originates per second in the rate phase (the campaign's max_calls_per_second; 0: none)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	capped := "as many originates as pacing asks for"
	if *rate > 0 {
		capped = fmt.Sprintf("originates capped at %.0f/s", *rate)
	}
	fmt.Fprintf(stdout, "engine benchmark: one instance, %d agents, simulated switch on loopback, %s\n\n", *agents, capped)
	fmt.Fprintln(tw, "run\toriginates/s\tbridges\tanswer→bridge p50 ms\tp99 ms\twire-to-wire p99 ms\terrors\t")
	var rates, p99s, wires []float64
	for run := 1; run <= *runs; run++ {
		r, err := benchPhase(ctx, *cfgPath, *agents, "progressive", 1, *rate, *seconds, 0, nil)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench engine:", err)
			return 1
		}
		rates, p99s, wires = append(rates, r.rate), append(p99s, r.p99), append(wires, r.wireP99)
		fmt.Fprintf(tw, "%d\t%.0f\t%d\t%.1f\t%.1f\t%.1f\t%d\t\n", run, r.rate, r.bridges, r.p50, r.p99, r.wireP99, r.errors)
	}
	fmt.Fprintf(tw, "median\t%.0f\t\t\t%.1f\t%.1f\t\t\n", median(rates), median(p99s), median(wires))
	fmt.Fprintln(tw, "\nanswer→bridge: from the answer event leaving the socket to the move into the agent's room written and acknowledged;")
	fmt.Fprintln(tw, "wire-to-wire: from the switch sending CHANNEL_ANSWER to it receiving the uuid_transfer into the agent's room (simulator in-process).")
	tw.Flush()
	if *hold > 0 {
		ratio := float64(*hold)/float64(*agents) + 1
		r, err := benchPhase(ctx, *cfgPath, *agents, "ratio", ratio, 0, 0, *hold, nil)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench engine:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nhold: %d concurrent calls reached in %.1f s (peak %d), %d errors\n", *hold, r.rampSeconds, r.peak, r.errors)
	}
	return 0
}

type benchResult struct {
	rate, p50, p99, wireP99, rampSeconds float64
	ownP50, ownP99                       float64 // the engine's own part: from the later of answer and originate return
	bridges, errors, peak                int
}

// benchLoad, when given to benchPhase, runs beside the measured window (started after the
// warm-up, stopped at its end) on the instance and the batch being dialed.
type benchLoad func(ctx context.Context, m *Main, batch int64) (stop func())

// benchPhase runs one instance on a fresh simulated switch and a fresh batch, then cleans up.
func benchPhase(ctx context.Context, cfgPath string, agents int, mode string, ratio, cps float64, d time.Duration, hold int, load benchLoad) (benchResult, error) {
	var res benchResult
	holding := hold > 0
	script := fsim.Rules(fsim.Mix{Seed: 1, Answer: 0.05, Busy: 0.95, Ring: fsim.Dist{Value: 50 * time.Millisecond},
		FailureDelays: fsim.Dist{Kind: "uniform", Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}}.Script(),
		fsim.Rule{Match: regexp.MustCompile(`^loopback/agent-`), Fates: fsim.Answering(0, 0)})
	if holding { // every customer rings until the originate's timeout
		script = fsim.Rules(func(string) fsim.Fate { return fsim.Fate{Cause: "NO_ANSWER"} },
			fsim.Rule{Match: regexp.MustCompile(`^loopback/agent-`), Fates: fsim.Answering(0, 0)})
	}
	sw := fsim.New(fsim.Options{Script: script})
	if err := sw.Start("127.0.0.1:0"); err != nil {
		return res, err
	}
	defer sw.Stop()
	ids := make([]int, agents)
	m := NewMain(cfgPath, slog.New(slog.DiscardHandler))
	var latMu sync.Mutex
	var engineLat, ownLat []float64
	measuring := false
	m.OnBridge = func(d, own time.Duration) {
		latMu.Lock()
		if measuring {
			engineLat = append(engineLat, float64(d.Microseconds())/1000)
			ownLat = append(ownLat, float64(own.Microseconds())/1000)
		}
		latMu.Unlock()
	}
	m.Adjust = func(c *config.Config) {
		c.HTTP.Listen = "127.0.0.1:0"
		c.FreeSWITCH.Nodes = []config.Node{{Name: "bench", Address: sw.Addr(), Password: "ClueCon"}}
		c.Agents = c.Agents[:0]
		for i := range ids {
			ids[i] = 900001 + i
			c.Agents = append(c.Agents, config.Agent{ID: ids[i], Name: fmt.Sprint("bench ", i), DialString: fmt.Sprintf("loopback/agent-%d/agents", ids[i])})
		}
		c.DialGroups[0].AgentIDs = ids
		camp := &c.Campaigns[0]
		camp.Pacing.Mode, camp.Pacing.MaxRatio, camp.Pacing.MaxCallsPerSecond = mode, ratio, cps
		camp.BusinessHours = config.BusinessHours{Start: config.ClockTime{Minutes: 0}, End: config.ClockTime{Minutes: 24 * 60}}
		camp.Retry = nil
		c.System.ShutdownTimeout = time.Second
	}
	if err := m.Run(ctx); err != nil {
		return res, err
	}
	defer m.Close()
	cfg := m.live.Current()
	s := m.store
	camp := cfg.Campaigns[0]
	b, err := s.CreateBatch(ctx, store.NewBatch{CampaignID: camp.ID, Name: "bench " + time.Now().Format(time.RFC3339Nano),
		Location: camp.Location, Start: store.DateOf(time.Now(), camp.Location), CreatedBy: "bench",
		RetentionDays: cfg.System.HistoryRetentionDays, MaxBatches: 1 << 30}, time.Now())
	if err != nil {
		return res, err
	}
	defer s.DropBatchForBench(context.WithoutCancel(ctx), b.ID)
	defer func() {
		for _, id := range ids {
			_ = m.agents.Remove(context.WithoutCancel(ctx), id)
		}
	}()
	if _, err := s.SetBatchDialGroups(ctx, b.ID, []int{cfg.DialGroups[0].ID}, time.Now()); err != nil {
		return res, err
	}
	contacts := 100_000
	if err := s.PreloadContacts(ctx, b.ID, contacts); err != nil {
		return res, err
	}
	lists, err := s.ListLists(ctx, b.ID)
	if err != nil {
		return res, err
	}
	if _, err := s.CreateAssignment(ctx, store.NewAssignment{BatchID: b.ID, ListID: lists[0].ID, DialGroupID: cfg.DialGroups[0].ID,
		Count: contacts, CreatedBy: "bench"}, time.Now()); err != nil {
		return res, err
	}
	j, err := s.CreateCallJob(ctx, store.NewCallJob{BatchID: b.ID, Name: "bench", ListID: lists[0].ID, DialGroupID: cfg.DialGroups[0].ID,
		CallerID: camp.CallerIDs[0], Filter: store.JobFilter{PhoneType: "any"}, CreatedBy: "bench", MaxCallJobs: 1 << 30}, time.Now())
	if err != nil {
		return res, err
	}
	loc := camp.Location
	if _, err := s.StartCallJob(ctx, j.ID, store.StartRules{Location: loc, BusinessEnd: 24 * 60, HasResultCodes: true,
		MaxRunningJobs: 1 << 30, StartedBy: "bench"}, time.Now()); err != nil {
		return res, err
	}
	defer s.StopCallJob(context.WithoutCancel(ctx), j.ID, "admin", time.Now())
	// The agents join as the API would have them: attached to the job, a join request queued.
	for _, id := range ids {
		if err := m.agents.Set(ctx, agentstate.Agent{ID: id, State: domain.AgentLoggedOff, Since: time.Now(), CallJobID: j.ID}); err != nil {
			return res, err
		}
		if err := m.agents.Push(ctx, j.ID, agentstate.Request{AgentID: id, Kind: domain.RequestJoin}); err != nil {
			return res, err
		}
	}

	customers := func() []fsim.ChannelRecord {
		var out []fsim.ChannelRecord
		for _, c := range sw.History() {
			if !strings.Contains(c.Dial, "/agent-") {
				out = append(out, c)
			}
		}
		return out
	}
	if holding {
		start := time.Now()
		for time.Since(start) < 60*time.Second {
			live := 0
			for _, c := range customers() {
				if c.Ended.IsZero() {
					live++
				}
			}
			res.peak = max(res.peak, live)
			if live >= hold {
				res.rampSeconds = time.Since(start).Seconds()
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		res.errors = benchErrors(ctx, m, j.ID)
		return res, nil
	}
	time.Sleep(3 * time.Second) // warm-up: agents up, pacing running
	stopLoad := func() {}
	if load != nil {
		stopLoad = load(ctx, m, b.ID)
	}
	latMu.Lock()
	measuring = true
	latMu.Unlock()
	from := time.Now()
	time.Sleep(d)
	to := time.Now()
	stopLoad()
	latMu.Lock()
	measuring = false
	lat, own := slices.Clone(engineLat), slices.Clone(ownLat)
	latMu.Unlock()
	var wire []float64
	n := 0
	for _, c := range customers() {
		if c.Created.After(from) && c.Created.Before(to) {
			n++
		}
		if !c.Bridged.IsZero() && c.Answered.After(from) && c.Answered.Before(to) {
			wire = append(wire, float64(c.Bridged.Sub(c.Answered).Microseconds())/1000)
		}
	}
	slices.Sort(lat)
	slices.Sort(own)
	slices.Sort(wire)
	res.rate = float64(n) / to.Sub(from).Seconds()
	res.bridges = len(lat)
	if len(lat) > 0 {
		res.p50, res.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		res.ownP50, res.ownP99 = own[len(own)/2], own[min(len(own)-1, len(own)*99/100)]
	}
	if len(wire) > 0 {
		res.wireP99 = wire[min(len(wire)-1, len(wire)*99/100)]
	}
	res.errors = benchErrors(ctx, m, j.ID)
	return res, nil
}

// benchErrors counts attempts the engine could not place or confirm.
func benchErrors(ctx context.Context, m *Main, job int64) int {
	var n int
	_ = m.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM attempts WHERE call_job_id = $1
		AND hangup_cause IN ('NO_NODE_CONNECTED', 'ORIGINATE_UNCONFIRMED', 'LOST_DURING_RESTART')`, job).Scan(&n)
	return n
}
