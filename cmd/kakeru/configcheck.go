package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/kakeru-dialer/kakeru/config"
)

// runConfigCheck is `kakeru config check [--config PATH]`: it loads the file with its KAKERU_*
// environment overrides exactly as serve would, and connects to nothing. Exit 0 prints "ok"
// with a one-line summary (and any warnings serve would log); exit 1 prints every problem with
// its key path; exit 2 is a command line that cannot be run.
func runConfigCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "kakeru.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kakeru config check: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		var ve *config.ValidationError
		if !errors.As(err, &ve) {
			fmt.Fprintln(stdout, "kakeru:", err) // unreadable: there is nothing to list
			return 1
		}
		fmt.Fprintf(stdout, "%s: %d problem(s):\n", *cfgPath, len(ve.Problems))
		for _, p := range ve.Problems {
			fmt.Fprintln(stdout, "  "+p.String())
		}
		return 1
	}
	if users := cfg.DemoTokenUsers(); len(users) > 0 {
		fmt.Fprintf(stdout, "warning: users with a published demo token: %v; replace them before real use\n", users)
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stdout, "warning:", w)
	}
	fmt.Fprintf(stdout, "ok: %s: %d campaign(s), %d dial group(s), %d agent(s), %d user(s), %d switch node(s); API on %s\n",
		*cfgPath, len(cfg.Campaigns), len(cfg.DialGroups), len(cfg.Agents), len(cfg.Users), len(cfg.FreeSWITCH.Nodes), cfg.HTTP.Listen)
	return 0
}
