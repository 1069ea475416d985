package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
)

// runBenchClaim is `kakeru bench claim`: the claim's latency (N-1) with the campaign's
// do-not-call list empty, then holding --dnc numbers, over --claims claims of --n contacts
// each, --runs times per state, in a throwaway database (or --dsn's). The whole claim's time
// varies with the machine's load; the check's own (store.DoNotCallListed on --n random
// contacts, --checks times) is what the list's size could change. It also times an import of
// --import numbers to another list and how long its write lock held claims back.
func runBenchClaim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru bench claim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "", "database to use (its schema is migrated); empty: a throwaway database on --admin-dsn")
	adminDSN := fs.String("admin-dsn", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "server for the throwaway database")
	dnc := fs.Int("dnc", 10_000_000, "numbers on the campaign's do-not-call list in the full state")
	contacts := fs.Int("contacts", 100_000, "contacts in the list the job dials")
	claims := fs.Int("claims", 100, "claims per run")
	checks := fs.Int("checks", 2000, "runs of the claim's do-not-call check alone per run")
	n := fs.Int("n", 10, "contacts per claim")
	runs := fs.Int("runs", 3, "runs per state")
	imp := fs.Int("import", 1_000_000, "numbers of the timed import to another campaign's list (0: none)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if need := *claims * *n * *runs * 2; need > *contacts || *n < 1 {
		fmt.Fprintf(stderr, "kakeru bench claim: %d claims of %d, %d runs per state need %d contacts (--contacts %d)\n",
			*claims, *n, *runs, need, *contacts)
		return exitUsage
	}
	target := *dsn
	if target == "" {
		name := fmt.Sprintf("kakeru_bench_claim_%d", os.Getpid())
		drop, err := throwawayDB(ctx, *adminDSN, name)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench claim:", err)
			return 1
		}
		defer drop()
		u, _ := url.Parse(*adminDSN)
		u.Path = "/" + name
		target = u.String()
	}
	s, err := store.Open(ctx, target)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru bench claim:", err)
		return 1
	}
	defer s.Close()
	if _, err := store.Migrate(ctx, s.DB(), nil); err != nil {
		fmt.Fprintln(stderr, "kakeru bench claim: migrate:", err)
		return 1
	}
	b := &claimBench{s: s, n: *n}
	if err := b.setup(ctx, *contacts); err != nil {
		fmt.Fprintln(stderr, "kakeru bench claim: setup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "claim latency: %d claims of %d contacts per run, %d runs per state, %d contacts in the list\n\n",
		*claims, *n, *runs, *contacts)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "do-not-call numbers\trun\tclaim p50 ms\tclaim p99 ms\tcheck p50 ms\tcheck p99 ms\t")
	measure := func(listed int) error {
		var cols [4][]float64
		for run := 1; run <= *runs; run++ {
			lat, err := b.claimRun(ctx, *claims)
			if err != nil {
				return err
			}
			chk, err := b.checkRun(ctx, *checks)
			if err != nil {
				return err
			}
			v := [4]float64{percentile(lat, 0.50), percentile(lat, 0.99), percentile(chk, 0.50), percentile(chk, 0.99)}
			for i := range v {
				cols[i] = append(cols[i], v[i])
			}
			fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.2f\t%.3f\t%.3f\t\n", listed, run, v[0], v[1], v[2], v[3])
		}
		fmt.Fprintf(tw, "%d\tmedian\t%.2f\t%.2f\t%.3f\t%.3f\t\n", listed, median(cols[0]), median(cols[1]), median(cols[2]), median(cols[3]))
		return nil
	}
	if err := measure(0); err != nil {
		fmt.Fprintln(stderr, "kakeru bench claim:", err)
		return 1
	}
	// One table for both states (the load's time is told after it).
	start := time.Now()
	if err := b.loadDNC(ctx, *dnc); err != nil {
		fmt.Fprintln(stderr, "kakeru bench claim: load:", err)
		return 1
	}
	loaded := time.Since(start).Round(time.Second)
	if err := measure(*dnc); err != nil {
		fmt.Fprintln(stderr, "kakeru bench claim:", err)
		return 1
	}
	tw.Flush()
	fmt.Fprintf(stdout, "(%d numbers loaded in %s)\n", *dnc, loaded)
	if *imp > 0 {
		start := time.Now()
		res, err := s.ImportDoNotCall(ctx, 2, "bench", b.now, func(add func(store.DNCRow) error) error {
			for i := range *imp {
				if err := add(store.DNCRow{Tel: fmt.Sprintf("070%08d", i), Reason: "bench"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench claim: import:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nimport of %d numbers to campaign 2's list: %s in all, write lock (claims of campaign 2 wait) %s\n",
			res.Added, time.Since(start).Round(time.Millisecond), res.LockHeld.Round(time.Millisecond))
	}
	return 0
}

// claimBench is a running job over a list of contacts, claimed a run at a time.
type claimBench struct {
	s        *store.Store
	n        int
	now      time.Time
	job      store.CallJob
	uuid     atomic.Int64
	firstID  int64 // the contacts' ids are firstID … firstID+contacts-1
	contacts int
}

func (b *claimBench) setup(ctx context.Context, contacts int) error {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return err
	}
	b.now = time.Now()
	batch, err := b.s.CreateBatch(ctx, store.NewBatch{CampaignID: 1, Name: "bench", Location: tokyo,
		Start: store.MustDate(b.now.In(tokyo).Format("2006-01-02")), CreatedBy: "bench", RetentionDays: 180, MaxBatches: 100}, b.now)
	if err != nil {
		return err
	}
	if _, err := b.s.SetBatchDialGroups(ctx, batch.ID, []int{1}, b.now); err != nil {
		return err
	}
	var listID int64
	if err := b.s.DB().QueryRowContext(ctx, `INSERT INTO customer_lists (batch_id, name, row_count, encoding, created_by, created_at)
		VALUES ($1, 'bench', $2, 'utf-8', 'bench', now()) RETURNING id`, batch.ID, contacts).Scan(&listID); err != nil {
		return err
	}
	if _, err := b.s.DB().ExecContext(ctx, `INSERT INTO contacts (batch_id, list_id, line, name, kana, tel, phone_type)
		SELECT $1, $2, i + 1, '顧客', 'コキャク', '090' || lpad(i::text, 8, '0'), 'mobile' FROM generate_series(1, $3) i`,
		batch.ID, listID, contacts); err != nil {
		return err
	}
	b.contacts = contacts
	if err := b.s.DB().QueryRowContext(ctx, `SELECT min(id) FROM contacts WHERE list_id = $1`, listID).Scan(&b.firstID); err != nil {
		return err
	}
	if _, err := b.s.CreateAssignment(ctx, store.NewAssignment{BatchID: batch.ID, ListID: listID, DialGroupID: 1, Count: contacts,
		CreatedBy: "bench"}, b.now); err != nil {
		return err
	}
	j, err := b.s.CreateCallJob(ctx, store.NewCallJob{BatchID: batch.ID, Name: "bench", ListID: listID, DialGroupID: 1,
		CallerID: "0312345678", CreatedBy: "bench", MaxCallJobs: 10}, b.now)
	if err != nil {
		return err
	}
	b.job, err = b.s.StartCallJob(ctx, j.ID, store.StartRules{Location: tokyo, BusinessStart: 0, BusinessEnd: 24 * 60,
		HasResultCodes: true, MaxRunningJobs: 10, StartedBy: "bench", EarlyStartAhead: time.Hour}, b.now)
	if err != nil {
		return err
	}
	_, err = b.s.DB().ExecContext(ctx, `ANALYZE`)
	return err
}

// checkRun times the claim's do-not-call check alone (store.DoNotCallListed) count times, on n
// contacts drawn at random from the list each time, and returns the latencies in ms, sorted.
func (b *claimBench) checkRun(ctx context.Context, count int) ([]float64, error) {
	lat := make([]float64, 0, count)
	ids := make([]int64, b.n)
	for range count {
		for i := range ids {
			ids[i] = b.firstID + rand.Int64N(int64(b.contacts))
		}
		start := time.Now()
		if _, err := b.s.DoNotCallListed(ctx, 1, ids); err != nil {
			return nil, err
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(lat)
	return lat, nil
}

// claimRun claims count times and returns the latencies in milliseconds, sorted.
func (b *claimBench) claimRun(ctx context.Context, count int) ([]float64, error) {
	lat := make([]float64, 0, count)
	for range count {
		start := time.Now()
		got, err := b.s.ClaimContacts(ctx, store.ClaimRequest{JobID: b.job.ID, Run: b.job.Run, N: b.n, Instance: "bench", Node: "fs1",
			NewUUID: func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", b.uuid.Add(1)) }}, b.now)
		if err != nil {
			return nil, err
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		if len(got) != b.n {
			return nil, fmt.Errorf("a claim got %d contacts, want %d", len(got), b.n)
		}
	}
	slices.Sort(lat)
	return lat, nil
}

// loadDNC fills the campaign's list with numbers none of the contacts has (080…), in one
// statement, and refreshes the planner's statistics.
func (b *claimBench) loadDNC(ctx context.Context, count int) error {
	if _, err := b.s.DB().ExecContext(ctx, `INSERT INTO do_not_call (tel, campaign_id, reason, source, added_by, added_at)
		SELECT '080' || lpad(i::text, 8, '0'), 1, '', 'import', 'bench', now() FROM generate_series(1, $1) i`, count); err != nil {
		return err
	}
	_, err := b.s.DB().ExecContext(ctx, `ANALYZE do_not_call`)
	return err
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// throwawayDB creates an empty database and returns what drops it.
func throwawayDB(ctx context.Context, adminDSN, name string) (func(), error) {
	admin, err := sql.Open("postgres", adminDSN)
	if err != nil {
		return nil, err
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	return func() {
		_, _ = admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	}, nil
}
