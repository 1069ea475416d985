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
	o, what, err := fsimOptions(*password, *scenario, *ring, *talk)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru fsim:", err)
		return exitUsage
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

// fsimOptions builds a simulated switch's options from a scenario file, or without one (path
// empty) a switch whose every call answers after ring and hangs up after talk; what describes
// the fates for a person reading the output.
func fsimOptions(password, path string, ring, talk time.Duration) (o fsim.Options, what string, err error) {
	o = fsim.Options{Password: password, Script: fsim.Answering(ring, talk)}
	if path == "" {
		return o, fmt.Sprintf("every call answers after %s, hangs up after %s", ring, talk), nil
	}
	sc, err := fsim.LoadScenario(path)
	if err != nil {
		return o, "", err
	}
	if o.Script, err = sc.Script(); err != nil {
		return o, "", err
	}
	o.Heartbeat = sc.Heartbeat
	return o, fmt.Sprintf("scenario %s, seed %d", path, sc.Seed), nil
}
