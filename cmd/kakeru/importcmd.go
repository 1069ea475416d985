package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

// Exit codes of `kakeru import`.
const (
	importOK      = 0
	importInvalid = 1 // rows refused: nothing imported, FILE.errors.csv written
	importFailed  = 2 // usage, configuration or connection problem
)

// runImport is `kakeru import --batch ID --name NAME [--encoding sjis|utf-8] FILE`: the same
// validation and transaction as the API's upload (store.ImportCSV), for operators at a shell.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "kakeru.yaml", "configuration file")
	batchID := fs.Int64("batch", 0, "batch id (required)")
	name := fs.String("name", "", "list name (required)")
	encName := fs.String("encoding", "sjis", "file encoding: sjis or utf-8")
	by := fs.String("as", "cli", "name recorded as the importer")
	normalize := fs.Bool("normalize-tel", false, "normalise hand-written numbers before validating them (as the API's normalize_tel)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kakeru import --batch ID --name NAME [--encoding sjis|utf-8] [--normalize-tel] [--config PATH] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return importFailed
	}
	enc, encErr := listimport.ParseEncoding(*encName)
	if fs.NArg() != 1 || *batchID < 1 || *name == "" || encErr != nil {
		fs.Usage()
		return importFailed
	}
	path := fs.Arg(0)
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "kakeru import: configuration %s is invalid:\n%v\n", *cfgPath, err)
		return importFailed
	}
	file, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru import:", err)
		return importFailed
	}
	defer file.Close()
	s, err := store.Open(ctx, cfg.Postgres.DSN)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru import:", err)
		return importFailed
	}
	defer s.Close()

	errPath := path + ".errors.csv"
	errFile, err := os.CreateTemp(filepath.Dir(errPath), ".kakeru-import-*")
	if err != nil {
		fmt.Fprintln(stderr, "kakeru import:", err)
		return importFailed
	}
	defer os.Remove(errFile.Name())
	defer errFile.Close()
	w := bufio.NewWriter(errFile)

	start := time.Now()
	list, err := s.ImportCSV(ctx, store.ImportInput{BatchID: *batchID, Name: *name, Encoding: enc, CreatedBy: *by,
		MaxRows: cfg.System.Limits.MaxRowsPerList, MaxListsPerBatch: cfg.System.Limits.MaxListsPerBatch,
		MaxRowBytes: cfg.System.Limits.MaxRowBytes, MaxErrorCSVBytes: cfg.System.Limits.MaxErrorCSVBytes,
		RefuseDoNotCall: cfg.System.DoNotCall.OnImport == config.DoNotCallRefuse, NormalizeTel: *normalize}, file, w, time.Now())
	var refusal *store.ImportRefusal
	var rule *store.RuleError
	switch {
	case errors.As(err, &refusal):
		for _, p := range refusal.Problems {
			fmt.Fprintf(stdout, "line %d\t%s\t%s\n", p.Line, p.Column, p.Message)
		}
		if refusal.Total > len(refusal.Problems) {
			fmt.Fprintf(stdout, "… and %d more\n", refusal.Total-len(refusal.Problems))
		}
		if err := w.Flush(); err != nil {
			fmt.Fprintln(stderr, "kakeru import:", err)
			return importFailed
		}
		if st, _ := errFile.Stat(); st != nil && st.Size() > 0 {
			if err := os.Rename(errFile.Name(), errPath); err != nil {
				fmt.Fprintln(stderr, "kakeru import:", err)
				return importFailed
			}
			fmt.Fprintf(stdout, "%d problem(s); nothing imported; error CSV: %s\n", refusal.Total, errPath)
		} else {
			fmt.Fprintf(stdout, "%d problem(s); nothing imported\n", refusal.Total)
		}
		return importInvalid
	case errors.As(err, &rule):
		fmt.Fprintf(stdout, "%s (%s %s)\n", rule.Message, rule.Rule, rule.Code)
		return importInvalid
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(stderr, "kakeru import: batch %d does not exist\n", *batchID)
		return importFailed
	case err != nil:
		fmt.Fprintln(stderr, "kakeru import:", err)
		return importFailed
	}
	fmt.Fprintf(stdout, "imported list %d %q into batch %d: %d rows in %s (%d on a do-not-call list, %d numbers normalised)\n",
		list.ID, list.Name, list.BatchID, list.RowCount, time.Since(start).Round(time.Millisecond), list.DoNotCallCount, list.NormalizedCount)
	return importOK
}
