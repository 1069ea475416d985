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
// Without a scenario every number answers after 1 s and hangs up after 10 s.
func runFsim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru fsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8021", "event socket address")
	password := fs.String("password", "ClueCon", "event socket password")
	ring := fs.Duration("ring", time.Second, "time until every call answers")
	talk := fs.Duration("talk", 10*time.Second, "time until every answered call hangs up")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	s := fsim.New(*password, fsim.Answering(*ring, *talk))
	if err := s.Start(*listen); err != nil {
		fmt.Fprintln(stderr, "kakeru fsim:", err)
		return 1
	}
	fmt.Fprintf(stdout, "simulated FreeSWITCH listening on %s (every call answers after %s, hangs up after %s)\n", s.Addr(), *ring, *talk)
	<-ctx.Done()
	s.Stop()
	return 0
}
