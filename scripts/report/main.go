// Command report regenerates the inference report of a run from its
// results.json, without training anything.
//
// Usage:
//
//	go run ./scripts/report [-in runs/latest/results.json] [-out DIR] [-title TEXT] [-pdf] [-chromium PATH]
//
// It writes report.md, report.html, inference_report_summary.json and the
// figures fig-*.svg (linked from report.md, inline in report.html) into
// -out, which defaults to the directory of -in. The same results.json gives
// byte-identical files. With -pdf it also prints report.html to report.pdf
// with headless Chromium (-chromium, default /usr/bin/chromium).
//
// A results.json of another schema is refused. The output directory is
// locked while the files are written: when a run, a notebook or another
// report is writing it, the command fails at once naming that process.
// Usage errors exit with status 2, failures with 1.
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
	out := fs.String("out", "", "`DIR` for the report files (default: the directory of -in)")
	title := fs.String("title", "", "document `TITLE` (default: "+report.DefaultTitle+")")
	wantPDF := fs.Bool("pdf", false, "also print report.html to report.pdf with headless Chromium")
	chromium := fs.String("chromium", pdf.DefaultChromium, "`PATH` of the Chromium executable for -pdf")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/report [flags]")
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
