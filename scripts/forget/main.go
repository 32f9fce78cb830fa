// Command forget honours a deletion request on a trained model: it removes
// the requested rows with a deletion method, verifies the result against
// reference models trained without them, and writes the new model with its
// model card, a deletion record and the ledger into a new directory.
//
// Usage:
//
//	go run ./scripts/forget -model DIR -rows FILE -out DIR [flags]
//	go run ./scripts/forget -model DIR -deletion random:50 -out DIR [flags]
//	go run ./scripts/forget -check DIR [-data DIR]
//
// -model is a checkpoint directory with its card.json: a run's
// checkpoints/<name> (scripts/experiment writes them) or the output of an
// earlier request. -rows names a file of row ids, one per line
// (adult.data:LINE or adult.test:LINE, lines of the original UCI files;
// blank lines and lines starting with # are skipped). -out must not exist,
// or be empty: it receives the new checkpoint, card.json, deletion.json,
// ledger.jsonl, deletion.md and deletion.html.
//
// The data is checked against the model card (file hashes, splits, scaler,
// row sets) and the checkpoint against its content hash before anything
// runs. A request naming a row that is not in the data, that the model
// never trained on, that was already deleted, or twice, is refused with
// every such row named, and nothing is written.
//
// -check DIR verifies a model directory: its card, its checkpoint's hash,
// the ledger's hash chain, the deletion record, and every earlier model of
// the chain that is still where its record says.
//
// docs/deletion.md describes the record; README.md ("Deleting rows from a
// trained model") the use. Usage errors exit with status 2, failures with 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/forget"
	"github.com/fimprune/fimprune/fimlib/unlearn"
	"github.com/fimprune/fimprune/report"
	"github.com/fimprune/fimprune/scripts/internal/cli"
)

func main() { cli.Main("forget", run) }

// DefaultMethod is the name of the method a request runs when -method is
// not given (forget.DefaultMethod; README.md, "Deleting rows from a trained
// model", says why).
var DefaultMethod = forget.DefaultMethod.Name()

// methods are the methods -method accepts at pruning fraction f: the
// study's (unlearn.Standard) but the second retrain.
func methods(f float64) []unlearn.Method {
	var out []unlearn.Method
	for _, m := range unlearn.Standard(f) {
		if m.ID().Replica < 2 {
			out = append(out, m)
		}
	}
	return out
}

func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: go run ./scripts/forget -model DIR (-rows FILE | -deletion SPEC) -out DIR [flags]
       go run ./scripts/forget -check DIR [-data DIR]
`)
		fs.PrintDefaults()
	}
	modelDir := fs.String("model", "", "model `DIR` to delete rows from: a run's checkpoints/<name>, or an earlier output of this command")
	rowsFile := fs.String("rows", "", "`FILE` of row ids to delete, one per line (adult.data:LINE or adult.test:LINE)")
	spec := fs.String("deletion", "", "instead of -rows, draw the rows from the model's trained rows: `SPEC` = first:N or random:N")
	deletionSeed := fs.Int64("deletion-seed", 1, "seed `N` of -deletion random:N")
	outDir := fs.String("out", "", "new model `DIR` for the checkpoint, its card, deletion.json, ledger.jsonl and the report (must not exist, or be empty)")
	method := fs.String("method", DefaultMethod, "deletion `METHOD`: "+strings.Join(methodNames(), ", ")+" (the fractions follow -fraction)")
	fraction := fs.Float64("fraction", 0.2, "pruning fraction `F` of the pruning methods")
	refs := fs.Int("verify", 8, "verify with `K` reference models trained without the rows (0: no verification; else ≥ 3)")
	margin := fs.Float64("verify-margin", forget.DefaultTest.Margin, "pass only when the output keeps less than `SHARE` of the input model's excess AUC")
	fallback := fs.String("fallback", "", "`MODE`: retrain = retrain from scratch whenever the verdict is not pass")
	cacheDir := fs.String("cache", defaultCache(), "`DIR` caching reference models by content key (\"\": no cache)")
	seed := fs.Uint64("seed", 1, "seed `N` of the method and the reference models (with the request's hashes)")
	dataDir := fs.String("data", "", "`DIR` holding adult.data and adult.test (default: $FIMPRUNE_DATA, then the user cache, then a download)")
	check := fs.String("check", "", "verify the model `DIR`: card, checkpoint hash, ledger chain, deletion record, earlier models")
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

	if *check != "" {
		for name := range set {
			if name != "check" && name != "data" {
				return cli.Usage(fmt.Errorf("-check takes only -data, not -%s", name))
			}
		}
		var data *adult.Dataset
		if set["data"] {
			var err error
			if data, err = adult.Load(*dataDir); err != nil {
				return err
			}
		}
		rep, err := forget.Check(*check, data)
		for _, line := range rep.Checked {
			fmt.Fprintln(stdout, "ok     ", line)
		}
		for _, line := range rep.Unchecked {
			fmt.Fprintln(stdout, "missing", line)
		}
		if err != nil {
			return fmt.Errorf("check failed: %w", err)
		}
		fmt.Fprintf(stdout, "%s: the chain of %d records and every checkpoint found are intact\n", *check, len(rep.Entries))
		return nil
	}

	switch {
	case *modelDir == "":
		return cli.Usage(errors.New("-model DIR is required"))
	case *outDir == "":
		return cli.Usage(errors.New("-out DIR is required"))
	case (*rowsFile == "") == (*spec == ""):
		return cli.Usage(errors.New("give exactly one of -rows FILE and -deletion SPEC"))
	case set["deletion-seed"] && *spec == "":
		return cli.Usage(errors.New("-deletion-seed needs -deletion"))
	case *refs != 0 && *refs < 3:
		return cli.Usage(fmt.Errorf("-verify %d: use 0 (off) or at least 3 reference models", *refs))
	case !(*margin >= 0 && *margin <= 1):
		return cli.Usage(fmt.Errorf("-verify-margin %g: want a share in [0, 1]", *margin))
	case *fallback != "" && *fallback != "retrain":
		return cli.Usage(fmt.Errorf("-fallback %q: the only mode is retrain", *fallback))
	case *fallback != "" && *refs == 0:
		return cli.Usage(errors.New("-fallback retrain needs the verification (-verify K, K ≥ 3) to decide"))
	case !(*fraction > 0 && *fraction < 1):
		return cli.Usage(fmt.Errorf("-fraction %g: want a fraction in (0, 1)", *fraction))
	}
	var m unlearn.Method
	for _, c := range methods(*fraction) {
		if c.Name() == *method {
			m = c
		}
	}
	if m == nil {
		return cli.Usage(fmt.Errorf("-method %q: want one of %s", *method, strings.Join(methodNamesAt(*fraction), ", ")))
	}
	if f, ok := m.(unlearn.FIMPrune); ok && f.Kind == "" {
		f.Kind = fisher.Empirical
		m = f
	}

	opts := forget.Options{
		ModelDir: *modelDir, OutDir: *outDir, Deletion: *spec, DeletionSeed: *deletionSeed,
		Method: m, MethodDefault: !set["method"], References: *refs, Fallback: *fallback == "retrain",
		CacheDir: *cacheDir, Seed: *seed, Log: stderr,
		Test: forget.TestConfig{Alpha: forget.DefaultTest.Alpha, Power: forget.DefaultTest.Power, Margin: *margin},
	}
	if *rowsFile != "" {
		f, err := os.Open(*rowsFile)
		if err != nil {
			return err
		}
		opts.IDs, err = forget.ReadIDs(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *rowsFile, err)
		}
		opts.Source = "file " + filepath.Base(*rowsFile)
	}
	var err error
	if opts.DataDir, err = adult.ResolveDir(*dataDir, stderr); err != nil {
		return err
	}
	if opts.Set, err = adult.Load(opts.DataDir); err != nil {
		return err
	}
	if opts.Backend, err = backend.New(); err != nil {
		return err
	}
	defer opts.Backend.Finalize()
	rec, err := forget.Run(ctx, opts)
	if err != nil {
		return err
	}
	lines, err := deletion.ReadLedgerLines(filepath.Join(*outDir, deletion.LedgerFile))
	if err != nil {
		return err
	}
	entries, err := deletion.CheckChain(lines)
	if err != nil {
		return err
	}
	files, err := report.RenderDeletion(rec, entries, report.DeletionOptions{})
	if err != nil {
		return err
	}
	if err := report.WriteDeletionDir(*outDir, files); err != nil {
		return err
	}
	printSummary(stdout, rec, *outDir)
	return nil
}

func methodNames() []string { return methodNamesAt(0.2) }

func methodNamesAt(f float64) []string {
	var names []string
	for _, m := range methods(f) {
		names = append(names, m.Name())
	}
	slices.Sort(names)
	return names
}

// defaultCache is the user cache's fimprune/references, "" when there is
// no user cache directory.
func defaultCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "fimprune", "references")
}

func printSummary(w io.Writer, rec *deletion.Record, out string) {
	fmt.Fprintf(w, "deleted %d rows with %s: %s → %s (%s)\n", rec.Request.Count, rec.Method.ID.Name(),
		rec.Input.ParamsSHA256[:12], rec.Output.ParamsSHA256[:12], out)
	if f := rec.Fallback; f != nil {
		fmt.Fprintf(w, "fallback: %s; retrained from scratch instead\n", f.Reason)
	}
	if v := rec.Verification; v != nil {
		fmt.Fprintf(w, "verification (%d reference models%s): %s — %s\n", v.References, map[bool]string{true: ", cached", false: ""}[v.Cached], strings.ToUpper(v.Verdict), v.Reason)
		fmt.Fprintf(w, "power: with %d reference models the test detects an excess AUC of %.3f over the references' %.3f (80 %% power, one-sided 5 %%)\n",
			v.References, v.MDE, v.NullMean)
	} else {
		fmt.Fprintln(w, "verification: off (-verify 0): no claim is made")
	}
	exact := "not measured without references"
	if rec.Verification != nil {
		exact = fmt.Sprintf("%.3f", rec.Difference.ExactAUC)
	}
	fmt.Fprintf(w, "difference attack: AUC %.3f (exact retraining: %s)\n", rec.Difference.AUC, exact)
	fmt.Fprintf(w, "test accuracy %.4f → %.4f; %.1f s (method %.1f s, references %.1f s, tests %.1f s)\n",
		rec.Input.TestAccuracy, rec.Output.TestAccuracy, rec.Seconds.Total, rec.Seconds.Method, rec.Seconds.References, rec.Seconds.Verification)
	fmt.Fprintf(w, "record: %s, report: %s\n", filepath.Join(out, deletion.File), filepath.Join(out, report.DeletionHTMLFile))
}
