package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/pacing/pacebench"
)

// runPacebench is `kakeru pacebench`: the pacing benchmark of docs/pacing.md. Arguments are scenario
// files or the names of the standard scenarios (S1 … S12); none means all standard ones.
func runPacebench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru pacebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per scenario instead of a table")
	quick := fs.Bool("quick", false, "simulate 1 shift per scenario, with 5 bisection steps")
	shifts := fs.Int("shifts", 0, "override the scenarios' shift count")
	seed := fs.Int64("seed", -1, "override the scenarios' seed")
	workers := fs.Int("workers", 0, "shifts simulated at once (default: GOMAXPROCS)")
	tuneShifts := fs.Int("tune-shifts", 0, "bisect ratio and oracle on the first N shifts only, then run their parameter on all (default: all)")
	policies := fs.String("policies", "", "comma-separated policies to run (default: all five)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var scs []pacebench.Scenario
	if fs.NArg() == 0 {
		all, err := pacebench.Standard()
		if err != nil {
			fmt.Fprintln(stderr, "kakeru pacebench:", err)
			return 1
		}
		scs = all
	}
	for _, a := range fs.Args() {
		var sc pacebench.Scenario
		var err error
		if strings.ContainsAny(a, "/.") {
			var data []byte
			if data, err = os.ReadFile(a); err == nil {
				if sc, err = pacebench.Parse(data); err != nil {
					err = fmt.Errorf("%s: %w", a, err)
				}
			}
		} else {
			sc, err = pacebench.Lookup(a)
		}
		if err != nil {
			fmt.Fprintln(stderr, "kakeru pacebench:", err)
			return exitUsage
		}
		scs = append(scs, sc)
	}
	o := pacebench.Options{Shifts: *shifts, Workers: *workers, TuneShifts: *tuneShifts}
	if *policies != "" {
		for _, p := range strings.Split(*policies, ",") {
			if !slices.Contains(pacebench.PolicyNames(), p) {
				fmt.Fprintf(stderr, "kakeru pacebench: unknown policy %q (%s)\n", p, strings.Join(pacebench.PolicyNames(), ", "))
				return exitUsage
			}
			o.Policies = append(o.Policies, p)
		}
	}
	if *quick {
		o.Shifts, o.Bisections = 1, 5
	}
	if *seed >= 0 {
		s := uint64(*seed)
		o.Seed = &s
	}
	start := time.Now()
	for i, sc := range scs {
		res := pacebench.Run(sc, o)
		if *asJSON {
			if err := pacebench.WriteJSON(stdout, res); err != nil {
				return 1
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		n := sc.Shifts
		if o.Shifts > 0 {
			n = o.Shifts
		}
		if err := pacebench.WriteTable(stdout, res, n); err != nil {
			return 1
		}
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "\n%d scenario(s) in %s\n", len(scs), time.Since(start).Round(time.Second))
	}
	return 0
}
