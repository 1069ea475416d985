package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// runFsim is `kakeru fsim`: a simulated switch for demos and for trying a configuration.
// Without a scenario every number answers after --ring and hangs up after --talk.
func runFsim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru fsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8021", "event socket address")
	password := fs.String("password", "ClueCon", "event socket password")
	scenario := fs.String("scenario", "", "YAML file of call fates (see freeswitch/fsim/scenario.go)")
	ring := fs.Duration("ring", time.Second, "without a scenario: time until every call answers")
	talk := fs.Duration("talk", 10*time.Second, "without a scenario: time until every answered call hangs up")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	o := fsim.Options{Password: *password, Script: fsim.Answering(*ring, *talk)}
	what := fmt.Sprintf("every call answers after %s, hangs up after %s", *ring, *talk)
	if *scenario != "" {
		sc, err := fsim.LoadScenario(*scenario)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru fsim:", err)
			return exitUsage
		}
		if o.Script, err = sc.Script(); err != nil {
			fmt.Fprintln(stderr, "kakeru fsim:", err)
			return exitUsage
		}
		o.Heartbeat = sc.Heartbeat
		what = fmt.Sprintf("scenario %s, seed %d", *scenario, sc.Seed)
	}
	s := fsim.New(o)
	if err := s.Start(*listen); err != nil {
		fmt.Fprintln(stderr, "kakeru fsim:", err)
		return 1
	}
	fmt.Fprintf(stdout, "simulated FreeSWITCH listening on %s (%s)\n", s.Addr(), what)
	<-ctx.Done()
	s.Stop()
	return 0
}
