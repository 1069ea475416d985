// Command kakeru is the outbound dialer engine: `kakeru serve` runs it, `kakeru migrate` brings
// the PostgreSQL schema up to date, `kakeru demo` shows it working end to end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store"
)

const usage = `kakeru: outbound dialer engine for FreeSWITCH

usage:
  kakeru serve   [--config PATH]           run the engine and its HTTP API
  kakeru migrate [--config PATH] [--check] apply pending schema migrations (--check: only report)
  kakeru demo    [--config PATH] [--dial-for D] [--switch ADDR] [--scenario FILE] [--redis-db N]
                                           start a simulated switch, walk through the API, then dial a
                                           simulated campaign through that switch only for D
  kakeru import  --batch ID --name NAME [--encoding sjis|utf-8] [--normalize-tel] [--config PATH] FILE
                                           import a customer list (exit 1: rows refused, FILE.errors.csv written)
  kakeru fsim    [--listen ADDR] [--password PW] [--scenario FILE] [--ring D] [--talk D]
                                           run a simulated FreeSWITCH event socket
  kakeru agents-sim --job ID [--api URL] [--agents 1001,1002] [--talk D] [--wrap D]
                                           simulated agents working a call job through the API
  kakeru bench import [--config PATH] [--dsn DSN] [--rows N] [--preload N] [--dnc N] [--runs N]
                                           measure list import: rows/s and peak RSS per encoding
  kakeru bench engine [--config PATH] [--agents N] [--duration D] [--runs N] [--hold N] [--rate R]
                                           measure originates/s, answer→bridge latency and concurrent calls
  kakeru bench api [--config PATH] [--agents N] [--duration D] [--runs N] [--clients N] [--slow N]
                                           /healthz and answer→bridge latency while the API is hammered
  kakeru bench claim [--dsn DSN] [--dnc N] [--contacts N] [--claims N] [--n N] [--runs N] [--import N]
                                           claim latency with the do-not-call list empty and holding N numbers
  kakeru pacebench [--quick] [--json] [--seed N] [--shifts N] [--tune-shifts N] [--policies a,b] [SCENARIO ...]
                                           compare pacing policies in simulation (S1 … S12 or files)
  kakeru config check [--config PATH]      validate a configuration and its KAKERU_* overrides, start nothing
                                           (exit 0: "ok" and a summary; 1: every problem with its key path)
  kakeru version

--config defaults to ./kakeru.yaml; KAKERU_* environment variables override its keys.
`

// exitUsage is the exit code of a command line that cannot be run.
const exitUsage = 2

func main() {
	os.Exit(runWith(context.Background(), os.Args[1:], os.Stdout, os.Stderr, installRedisLog))
}

// installRedisLog sends the Redis client's own messages through the process's logger, rate
// limited. The client's logger is process-wide, so only main installs it (tests run many
// instances in one process).
func installRedisLog(log *slog.Logger) {
	redis.SetLogger(agentstate.NewRedisLog(log, 10*time.Second, time.Now))
}

// run is the command line without process-wide side effects.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, nil)
}

// runWith runs the command line; onLogger, when set, hears the logger the flags built.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, onLogger func(*slog.Logger)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if cmd == "bench" && len(rest) > 0 && rest[0] == "import" {
		return runBenchImport(ctx, rest[1:], stdout, stderr)
	}
	if cmd == "bench" && len(rest) > 0 && rest[0] == "api" {
		return runBenchAPI(ctx, rest[1:], stdout, stderr)
	}
	if cmd == "bench" && len(rest) > 0 && rest[0] == "claim" {
		return runBenchClaim(ctx, rest[1:], stdout, stderr)
	}
	if cmd == "bench" && len(rest) > 0 && rest[0] == "engine" {
		return runBenchEngine(ctx, rest[1:], stdout, stderr)
	}
	if cmd == "config" {
		if len(rest) > 0 && rest[0] == "check" {
			return runConfigCheck(rest[1:], stdout, stderr)
		}
		fmt.Fprintf(stderr, "kakeru config: the subcommand is check\n\n%s", usage)
		return exitUsage
	}
	if cmd == "pacebench" {
		return runPacebench(rest, stdout, stderr)
	}
	if cmd == "fsim" {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runFsim(ctx, rest, stdout, stderr)
	}
	if cmd == "agents-sim" {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runAgentsSim(ctx, rest, stdout, stderr)
	}
	if cmd == "import" {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runImport(ctx, rest, stdout, stderr)
	}
	fs := flag.NewFlagSet("kakeru "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "kakeru.yaml", "configuration file")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	check := false
	demo := demoOptions{}
	if cmd == "demo" {
		fs.DurationVar(&demo.dialFor, "dial-for", 2*time.Minute, "how long the demo's call job dials (0: no dialing)")
		fs.StringVar(&demo.switchAddr, "switch", demoSwitchAddr, "where the demo's own simulated switch listens (port 0: any free port)")
		fs.StringVar(&demo.scenario, "scenario", demoScenario, "the simulated switch's call fates (empty: every call answers after 1s)")
		fs.IntVar(&demo.redisDB, "redis-db", demoRedisDB, "the Redis database of the demo's live state, cleared at start; not the configured one")
	}
	if cmd == "migrate" {
		fs.BoolVar(&check, "check", false, "report pending migrations without applying them; exit 1 when any")
	}
	switch cmd {
	case "serve", "migrate", "demo":
	case "version":
		fmt.Fprintln(stdout, "kakeru", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kakeru: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru:", err)
		return exitUsage
	}
	if onLogger != nil {
		onLogger(logger)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "kakeru: configuration %s is invalid:\n%v\n", *cfgPath, err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "migrate":
		return runMigrate(ctx, cfg, check, logger, stdout, stderr)
	case "demo":
		return runDemo(ctx, *cfgPath, cfg, demo, logger, stdout, stderr)
	}
	return runServe(ctx, *cfgPath, logger, stderr, newSDNotifier(os.Getenv))
}

// runServe runs the instance until ctx ends or a part fails, telling systemd (sd) when it is
// ready, reloading on SIGHUP and stopping.
func runServe(ctx context.Context, cfgPath string, logger *slog.Logger, stderr io.Writer, sd *sdNotifier) int {
	// Taken before Run: Go's default for SIGHUP is to exit, and Run may wait for the switch.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	notify := func(err error) {
		if err != nil {
			logger.Warn("systemd notification failed", "err", err)
		}
	}
	m := NewMain(cfgPath, logger)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "kakeru:", err)
		return 1
	}
	notify(sd.ready("serving on " + m.Addr()))
	for {
		select {
		case <-hup:
			notify(sd.reloading())
			status := "serving on " + m.Addr()
			if err := m.Reload(); err != nil {
				logger.Error("configuration reload refused; the previous configuration stays in force", "err", err)
				status += "; the last reload was refused"
			}
			notify(sd.ready(status))
		case <-ctx.Done():
			notify(sd.stopping())
			logger.Info("shutting down")
			if err := m.Close(); err != nil {
				fmt.Fprintln(stderr, "kakeru:", err)
				return 1
			}
			return 0
		case err := <-m.Failed():
			fmt.Fprintln(stderr, "kakeru:", err)
			notify(sd.stopping())
			_ = m.Close()
			return 1
		}
	}
}

func runMigrate(ctx context.Context, cfg *config.Config, check bool, logger *slog.Logger, stdout, stderr io.Writer) int {
	s, err := store.Open(ctx, cfg.Postgres.DSN)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru:", err)
		return 1
	}
	defer s.Close()
	if check {
		st, err := store.MigrationStatus(ctx, s.DB())
		if err != nil {
			fmt.Fprintln(stderr, "kakeru:", err)
			return 1
		}
		pending := 0
		for _, m := range st {
			state := "applied"
			if !m.Applied {
				state, pending = "pending", pending+1
			}
			fmt.Fprintf(stdout, "%05d %-8s %s\n", m.Version, state, m.Name)
		}
		if pending > 0 {
			fmt.Fprintf(stdout, "%d migration(s) pending\n", pending)
			return 1
		}
		fmt.Fprintln(stdout, "schema is up to date")
		return 0
	}
	applied, err := store.Migrate(ctx, s.DB(), logger)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru:", err)
		return 1
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "schema is up to date; nothing applied")
		return 0
	}
	for _, m := range applied {
		fmt.Fprintf(stdout, "applied %05d %s\n", m.Version, m.Name)
	}
	return 0
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, errors.New("--log-format must be text or json")
}

// version is the module version, or the VCS revision for a development build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
	}
	return v
}
