package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

// runBenchImport is `kakeru bench import`: the L-8 benchmark. For each encoding it generates a
// list of --rows rows, puts --dnc numbers on do-not-call lists (every --dnc-every-th of them a
// number of the list), then --runs times imports it into a fresh batch that already holds
// --preload contacts, each import in a child process so its peak RSS is its own, and prints
// rows/s, peak RSS and the flagged do-not-call rows per run with the medians (issue 14 item 6).
func runBenchImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru bench import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "kakeru.yaml", "configuration file (its postgres.dsn is used)")
	dsn := fs.String("dsn", "", "PostgreSQL to import into instead of the configuration's (a throwaway database)")
	dncRows := fs.Int("dnc", 1_000_000, "numbers on do-not-call lists during the import (global and the campaign's)")
	dncEvery := fs.Int("dnc-every", 100, "every N-th do-not-call number is one of the list's")
	rows := fs.Int("rows", 1_000_000, "rows in the generated list")
	preload := fs.Int("preload", 1_000_000, "contacts already in the batch")
	runs := fs.Int("runs", 3, "imports per encoding")
	encodings := fs.String("encodings", "sjis,utf-8", "encodings to measure")
	child := fs.String("child", "", "internal: import FILE into --batch and report")
	batch := fs.Int64("batch", 0, "internal: batch of a child import")
	encName := fs.String("encoding", "sjis", "internal: encoding of a child import")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "kakeru bench: configuration %s is invalid:\n%v\n", *cfgPath, err)
		return exitUsage
	}
	if *dsn != "" {
		cfg.Postgres.DSN = *dsn
	}
	if *dncEvery < 1 {
		fmt.Fprintln(stderr, "kakeru bench: --dnc-every must be at least 1")
		return exitUsage
	}
	s, err := store.Open(ctx, cfg.Postgres.DSN)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru bench:", err)
		return 1
	}
	defer s.Close()
	if *child != "" {
		return benchChild(ctx, s, *child, *batch, *encName, *rows, stdout, stderr)
	}

	dir, err := os.MkdirTemp("", "kakeru-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "kakeru bench:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "kakeru bench:", err)
		return 1
	}
	campaign := cfg.Campaigns[0]
	if *dncRows > 0 {
		if err := s.PreloadDoNotCallForBench(ctx, campaign.ID, *dncRows, *dncEvery); err != nil {
			fmt.Fprintln(stderr, "kakeru bench:", err)
			return 1
		}
		defer s.DropDoNotCallForBench(context.WithoutCancel(ctx))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(stdout, "import of %d rows into a batch holding %d contacts, %d numbers on do-not-call lists (flag), %d run(s) per encoding\n\n",
		*rows, *preload, *dncRows, *runs)
	fmt.Fprintln(tw, "encoding\trun\tseconds\trows/s\tpeak RSS MB\tclient CPU s\tdo-not-call rows\t")
	for _, name := range strings.Split(*encodings, ",") {
		enc, err := listimport.ParseEncoding(name)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench:", err)
			return exitUsage
		}
		path := filepath.Join(dir, "list-"+string(enc)+".csv")
		if err := generateList(path, enc, *rows); err != nil {
			fmt.Fprintln(stderr, "kakeru bench:", err)
			return 1
		}
		var rates, rss []float64
		for run := 1; run <= *runs; run++ {
			b, err := s.CreateBatch(ctx, store.NewBatch{CampaignID: campaign.ID, Name: "bench import", Location: campaign.Location,
				Start: store.DateOf(time.Now(), campaign.Location), CreatedBy: "bench", RetentionDays: cfg.System.HistoryRetentionDays,
				MaxBatches: cfg.System.Limits.MaxBatches}, time.Now())
			if err != nil {
				fmt.Fprintln(stderr, "kakeru bench:", err)
				return 1
			}
			err = s.PreloadContacts(ctx, b.ID, *preload)
			if err == nil {
				var c childRun
				c, err = benchRunChild(ctx, self, args, path, b.ID, enc)
				if err == nil {
					rates, rss = append(rates, float64(*rows)/c.secs), append(rss, c.maxRSS)
					fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.0f\t%.2f\t%d\t\n", enc, run, c.secs, float64(*rows)/c.secs, c.maxRSS,
						c.cpu.Seconds(), c.doNotCall)
				}
			}
			if derr := s.DropBatchForBench(ctx, b.ID); err == nil {
				err = derr
			}
			if err != nil {
				fmt.Fprintln(stderr, "kakeru bench:", err)
				return 1
			}
		}
		fmt.Fprintf(tw, "%s\tmedian\t\t%.0f\t%.0f\t\t\t\n", enc, median(rates), median(rss))
	}
	tw.Flush()
	return 0
}

// childRun is one import in a child process: the seconds it took (as the child measured it),
// the child's peak RSS in MB and CPU time (the client's share: the rest is the database's), and
// the rows it flagged as do-not-call.
type childRun struct {
	secs, maxRSS float64
	cpu          time.Duration
	doNotCall    int
}

func benchRunChild(ctx context.Context, self string, args []string, path string, batchID int64, enc listimport.Encoding) (childRun, error) {
	childArgs := append([]string{"bench", "import"}, args...)
	childArgs = append(childArgs, "--child", path, "--batch", strconv.FormatInt(batchID, 10), "--encoding", string(enc))
	cmd := exec.CommandContext(ctx, self, childArgs...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return childRun{}, fmt.Errorf("child import: %v: %s", err, ee.Stderr)
		}
		return childRun{}, fmt.Errorf("child import: %w", err)
	}
	var c childRun
	if _, err := fmt.Sscan(string(out), &c.secs, &c.doNotCall); err != nil {
		return childRun{}, fmt.Errorf("child import said %q", out)
	}
	c.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage); ru != nil {
		c.maxRSS = float64(ru.Maxrss) / 1024 // Maxrss is in KiB on Linux
	}
	return c, nil
}

func benchChild(ctx context.Context, s *store.Store, path string, batchID int64, encName string, rows int, stdout, stderr io.Writer) int {
	enc, err := listimport.ParseEncoding(encName)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer f.Close()
	start := time.Now()
	list, err := s.ImportCSV(ctx, store.ImportInput{BatchID: batchID, Name: "bench", Encoding: enc, CreatedBy: "bench",
		MaxRows: rows, MaxListsPerBatch: 2}, f, io.Discard, time.Now()) // the preload is the first list
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if list.RowCount != rows {
		fmt.Fprintf(stderr, "imported %d rows, want %d\n", list.RowCount, rows)
		return 1
	}
	fmt.Fprintf(stdout, "%.4f %d\n", time.Since(start).Seconds(), list.DoNotCallCount)
	return 0
}

// generateList writes rows contacts with distinct 080 numbers (the preloaded ones are 090), a
// Japanese name and kana, and remarks with a quoted comma every tenth row.
func generateList(path string, e listimport.Encoding, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var w io.Writer = f
	var enc io.WriteCloser // flushes the last bytes of a Shift_JIS encoder
	if e == listimport.SJIS {
		enc = transform.NewWriter(f, japanese.ShiftJIS.NewEncoder())
		w = enc
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("name,kana,tel,remarks\r\n")
	for i := range rows {
		remarks := ""
		if i%10 == 0 {
			remarks = `"DM送付済み, 再送不要"`
		}
		fmt.Fprintf(bw, "山田 太郎%d,ヤマダ タロウ,080%08d,%s\r\n", i, i, remarks)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return err
		}
	}
	return f.Close()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
