// Command report regenerates the inference report of a run from its
// results.json, or the page of a deletion record from its deletion.json,
// without training anything.
//
// Usage:
//
//	go run ./scripts/report [-in runs/latest/results.json] [-out DIR] [-title TEXT] [-pdf] [-chromium PATH]
//	go run ./scripts/report -deletion DIR [-out DIR] [-title TEXT]
//
// It writes report.md, report.html, inference_report_summary.json and the
// figures fig-*.svg (linked from report.md, inline in report.html) into
// -out, which defaults to the directory of -in. The same results.json gives
// byte-identical files. With -pdf it also prints report.html to report.pdf
// with headless Chromium (-chromium, default /usr/bin/chromium).
//
// With -deletion DIR it renders the deletion record DIR/deletion.json
// (package fimlib/deletion, written by scripts/forget) instead, with the
// model directory's ledger DIR/ledger.jsonl when there is one, into
// deletion.md and deletion.html (report.RenderDeletion) in -out, which then
// defaults to DIR. The ledger's chain is checked first (deletion.CheckChain)
// and a broken one is refused; the page names the ledger line that stands
// for this deletion.json. -deletion cannot be combined with -in or -pdf.
//
// A results.json or deletion.json of another schema is refused. The output
// directory is locked while the files are written: when a run, a notebook
// or another report is writing it, the command fails at once naming that
// process. Usage errors exit with status 2, failures with 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/report"
	"github.com/fimprune/fimprune/report/pdf"
)

func main() {
	cli.Exit("report", run(os.Stdout, os.Stderr, os.Args[1:]))
}

func run(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", filepath.Join("runs", "latest", "results.json"), "the results.json `FILE` to report on")
	out := fs.String("out", "", "`DIR` for the report files (default: the directory of -in, or the -deletion directory)")
	title := fs.String("title", "", "document `TITLE` (default: "+report.DefaultTitle+"; with -deletion: "+report.DeletionTitle+")")
	wantPDF := fs.Bool("pdf", false, "also print report.html to report.pdf with headless Chromium")
	chromium := fs.String("chromium", pdf.DefaultChromium, "`PATH` of the Chromium executable for -pdf")
	delDir := fs.String("deletion", "", "render the deletion record `DIR`/"+deletion.File+" (with DIR/"+deletion.LedgerFile+" when present) as "+
		report.DeletionMarkdownFile+" and "+report.DeletionHTMLFile+" instead of the inference report; not with -in or -pdf")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/report [flags]")
		fmt.Fprintln(stderr, "       go run ./scripts/report -deletion DIR [-out DIR] [-title TEXT]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usage(err)
	}
	if fs.NArg() > 0 {
		return cli.Usage(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["deletion"] {
		switch {
		case *delDir == "":
			return cli.Usage(errors.New("-deletion must name a model directory"))
		case set["in"]:
			return cli.Usage(errors.New("-deletion renders a deletion record, -in an inference report: give one of them"))
		case *wantPDF:
			return cli.Usage(errors.New("-pdf prints the inference report; it cannot be used with -deletion"))
		}
		return runDeletion(stdout, *delDir, *out, *title)
	}
	if *in == "" {
		return cli.Usage(errors.New("-in must name a results.json"))
	}
	dir := *out
	if dir == "" {
		dir = filepath.Dir(*in)
	}
	res, err := results.Read(*in)
	if err != nil {
		return err
	}
	// The output is a run directory (by default, the one of -in): no other
	// writer (a run, a notebook, another report) may write it meanwhile.
	lock, err := rundir.Acquire(dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if err := report.WriteDir(res, dir, report.Options{Title: *title}); err != nil {
		return err
	}
	files := []string{report.MarkdownFile, report.HTMLFile, report.SummaryFile}
	if *wantPDF {
		data, err := pdf.Print(context.Background(), filepath.Join(dir, report.HTMLFile), pdf.Options{Chromium: *chromium})
		if err != nil {
			return err
		}
		if err := results.WriteFileAtomic(filepath.Join(dir, report.PDFFile), data); err != nil {
			return err
		}
		files = append(files, report.PDFFile)
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, f))
	}
	return nil
}

// runDeletion renders dir's deletion record and ledger into out (dir when
// "").
func runDeletion(stdout io.Writer, dir, out, title string) error {
	if out == "" {
		out = dir
	}
	path := filepath.Join(dir, deletion.File)
	rec, err := deletion.Read(path)
	if err != nil {
		return err
	}
	recordHash, err := deletion.FileHash(path)
	if err != nil {
		return err
	}
	ledgerPath := filepath.Join(dir, deletion.LedgerFile)
	lines, err := deletion.ReadLedgerLines(ledgerPath)
	if err != nil {
		return err
	}
	ledger, err := deletion.CheckChain(lines)
	if err != nil {
		return fmt.Errorf("%s: %w", ledgerPath, err)
	}
	files, err := report.RenderDeletion(rec, ledger, report.DeletionOptions{Title: title, RecordSHA256: recordHash})
	if err != nil {
		return err
	}
	// The output is a model directory (by default, the record's own): no
	// other writer may write it meanwhile.
	lock, err := rundir.Acquire(out)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if err := report.WriteDeletionDir(out, files); err != nil {
		return err
	}
	for _, f := range files.List() {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(out, f.Name))
	}
	return nil
}
