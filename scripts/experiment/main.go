// Command experiment runs the seed notebook's Fisher-pruning protocol on UCI
// Adult and writes results.json, inference_report_summary.json and gomlx
// checkpoints into a run directory.
//
// Usage:
//
//	GOEXPERIMENT=simd go run ./scripts/experiment [flags]
//
// The data directory is, in order: -data, $FIMPRUNE_DATA, the user cache
// (~/.cache/fimprune/adult on Linux), else the UCI zip is downloaded into the
// cache; the files' SHA-256 sums are verified whatever the source. The compute
// backend is gomlx's pure-Go one unless $GOMLX_BACKEND names another (e.g.
// xla:cuda). Ctrl-C or SIGTERM stops a run cleanly, saying what was written.
// Usage errors exit with status 2, failures with 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/study"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/report"
)

func main() { cli.Main("experiment", run) }

func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	cfg := experiment.Default()
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}
	dataDir := fs.String("data", "", "`DIR` holding adult.data and adult.test (default: $FIMPRUNE_DATA, then the user cache, then a download)")
	fs.StringVar(&cfg.OutDir, "out", cfg.OutDir, "run directory `DIR` for results.json, the summary, the report and checkpoints")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed `N` for initialisation, dropout, shuffling and attack sampling")
	fs.Int64Var(&cfg.SplitSeed, "split-seed", cfg.SplitSeed, "seed `N` for the stratified train/validation/test split")
	fractions := fs.String("fractions", "0.1,0.2,0.3,0.4", "comma-separated `LIST` of pruning fractions in (0, 1)")
	fs.StringVar(&cfg.Deletion, "deletion", cfg.Deletion, "rows to forget: `SPEC` = first:N, random:N or file:PATH (row ids, one per line)")
	fisherKind := fs.String("fisher", string(cfg.Fisher), "`KIND` of Fisher used for pruning: empirical (the seed's) or true")
	fs.IntVar(&cfg.Train.MaxEpochs, "epochs", cfg.Train.MaxEpochs, "at most `N` training epochs of the full and retrained models")
	fs.IntVar(&cfg.Train.Patience, "patience", cfg.Train.Patience, "stop training after `N` epochs without a lower validation loss (0: off)")
	fs.IntVar(&cfg.Train.BatchSize, "batch", cfg.Train.BatchSize, "batch size `N` of training and of the fine-tuning after pruning")
	fs.IntVar(&cfg.FineTune.MaxEpochs, "finetune-epochs", cfg.FineTune.MaxEpochs, "`N` fine-tuning epochs after pruning (the most, with -finetune-patience); overrides -recipe")
	fs.Float64Var(&cfg.FineTune.LearningRate, "finetune-lr", cfg.FineTune.LearningRate, "fine-tuning learning `RATE`; overrides -recipe")
	fs.IntVar(&cfg.FineTune.Patience, "finetune-patience", cfg.FineTune.Patience, "stop fine-tuning after `N` epochs without a lower validation loss, keeping the best epoch (0: off, the seed's recipe); overrides -recipe")
	fs.IntVar(&cfg.NonMembers, "non-members", cfg.NonMembers, "`N` test rows used as the attack's non-members")
	fs.IntVar(&cfg.Bootstrap, "bootstrap", cfg.Bootstrap, "`N` bootstrap resamples for the AUC confidence interval")
	fs.IntVar(&cfg.Parallel, "parallel", cfg.Parallel, "`N` models trained at once (results do not depend on it; per-model times do)")
	fs.IntVar(&cfg.Study.Seeds, "study-seeds", 0, "study mode: compare the deletion methods over `N` seeds after the protocol (0: off; 5 is the study's setting)")
	fs.IntVar(&cfg.Study.Shadows, "study-shadows", experiment.DefaultStudy.Shadows, "study mode: `K` shadow models for LiRA, RMIA, U-LiRA and ε (0: none; else even and ≥ 2 × -study-ulira-models)")
	fs.IntVar(&cfg.Study.ULiRAModels, "study-ulira-models", experiment.DefaultStudy.ULiRAModels, "study mode: `M` unlearned and M retrained shadow models per seed behind U-LiRA and ε (≥ 3)")
	fs.BoolVar(&cfg.Study.SplitSeeds, "study-split-seeds", false, "study mode: give each seed its own train/validation/test split (split seeds -split-seed, +1, …) and its own shadow models (costs -study-shadows models per seed)")
	fs.Float64Var(&cfg.Study.Fraction, "study-fraction", experiment.DefaultStudy.Fraction, "study mode: pruning fraction `F` of the pruning methods")
	fs.StringVar(&cfg.Study.Store, "study-store", "", "study mode: `DIR` of the content-addressed store of the study's models, reused by every run and shard (default: -out's store/)")
	shard := fs.String("study-shard", "", "study mode: compute only shard `I/N` (0 ≤ I < N) of the study's models into -study-store, then exit; a run without it assembles the study (docs: README, \"Running the study on a cluster\")")
	stage := fs.Int("study-stage", 0, "study mode, with -study-shard: `S` = 1 computes only the shard's full and shadow models, 2 only its methods (after every shard's stage 1), 0 both (waiting for other shards' models)")
	oldSeeds := fs.Int("seeds", 0, "deprecated: use -study-seeds `N`")
	oldShadows := fs.Int("shadows", 0, "deprecated: use -study-shadows `K`")
	recipe := fs.String("recipe", "seed", "fine-tuning `RECIPE` after pruning: seed (20 epochs, lr 1e-4) or fast (1 epoch, lr 1e-3, chosen on validation: docs/methods.md)")
	fs.BoolVar(&cfg.Cache, "cache", false, "keep each phase's results under the run directory's cache/ and reuse them when the configuration, data and build match (as the notebook does)")
	noCheckpoints := fs.Bool("no-checkpoints", false, "do not write model checkpoints")
	quiet := fs.Bool("quiet", false, "print only the final summary")
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
	for _, a := range []struct {
		old, new string
		from, to *int
	}{{"seeds", "study-seeds", oldSeeds, &cfg.Study.Seeds}, {"shadows", "study-shadows", oldShadows, &cfg.Study.Shadows}} {
		if !set[a.old] {
			continue
		}
		if set[a.new] {
			return cli.Usage(fmt.Errorf("-%s is the deprecated name of -%s: give only -%s", a.old, a.new, a.new))
		}
		fmt.Fprintf(stderr, "experiment: -%s is deprecated; use -%s\n", a.old, a.new)
		*a.to = *a.from
	}
	if *shard != "" {
		var err error
		if cfg.Study.Shard, err = parseShard(*shard); err != nil {
			return cli.Usage(err)
		}
	}
	switch {
	case set["study-stage"] && *shard == "":
		return cli.Usage(errors.New("-study-stage needs -study-shard I/N"))
	case *stage < 0 || *stage > study.StageMethods:
		return cli.Usage(fmt.Errorf("-study-stage %d: want 0 (both), 1 (models) or 2 (methods)", *stage))
	}
	cfg.Study.Shard.Stage = *stage
	if err := checkStudy(cfg.Study, set); err != nil {
		return cli.Usage(err)
	}
	switch *recipe {
	case "seed":
	case "fast":
		fast := train.FastFineTune
		if set["finetune-epochs"] {
			fast.MaxEpochs = cfg.FineTune.MaxEpochs
		}
		if set["finetune-lr"] {
			fast.LearningRate = cfg.FineTune.LearningRate
		}
		if set["finetune-patience"] {
			fast.Patience = cfg.FineTune.Patience
		}
		cfg.FineTune = fast
	default:
		return cli.Usage(fmt.Errorf("-recipe %q: want seed or fast", *recipe))
	}
	cfg.FineTune.BatchSize = cfg.Train.BatchSize
	cfg.Checkpoints = !*noCheckpoints
	var err error
	if cfg.Fractions, err = parseFractions(*fractions); err != nil {
		return cli.Usage(err)
	}
	if cfg.Fisher, err = fisher.ParseKind(*fisherKind); err != nil {
		return cli.Usage(err)
	}
	if err := backend.Check(backend.Config()); err != nil {
		return cli.Usage(err)
	}
	if err := cfg.Validate(); err != nil {
		return cli.Usage(err)
	}
	if !*quiet {
		cfg.Log = stderr
	}
	if cfg.Study.Shard.Count > 0 {
		if cfg.DataDir, err = adult.ResolveDir(*dataDir, cfg.Log); err != nil {
			return err
		}
		t0 := time.Now()
		if err := experiment.RunShard(ctx, cfg); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "study shard %d/%d, stage %d: its models are in %s (%.1f s); run without -study-shard to assemble the study\n",
			cfg.Study.Shard.Index, cfg.Study.Shard.Count, cfg.Study.Shard.Stage, cfg.Study.StoreDir(cfg.OutDir), time.Since(t0).Seconds())
		return nil
	}
	// Hold the run directory from the start to the report: Run's own lock
	// would end before the report is written. A refused run downloads
	// nothing.
	lock, err := rundir.Acquire(cfg.OutDir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	cfg.RunDirLock = lock
	if cfg.DataDir, err = adult.ResolveDir(*dataDir, cfg.Log); err != nil {
		return err
	}
	res, err := experiment.Run(ctx, cfg)
	if errors.Is(err, context.Canceled) {
		// Outputs are written only in the last phase, atomically.
		return fmt.Errorf("interrupted: nothing was written; files already in %s are unchanged", cfg.OutDir)
	}
	if errors.Is(err, experiment.ErrConfig) {
		return cli.Usage(err)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil { // interrupted during the write phase, which finishes its files
		return fmt.Errorf("interrupted: results.json, the summary and checkpoints in %s are complete; the report was not written (go run ./scripts/report -in %s)",
			cfg.OutDir, filepath.Join(cfg.OutDir, experiment.ResultsFile))
	}
	if err := report.WriteDir(res, cfg.OutDir, report.Options{}); err != nil {
		return err
	}
	printSummary(stdout, res, cfg.OutDir)
	return nil
}

// usageHeader comes before the flags in -h; README.md's "Options" block is
// this output (TestReadmeOptions).
const usageHeader = `usage: GOEXPERIMENT=simd go run ./scripts/experiment [flags]

Runs the seed's Fisher-pruning protocol on UCI Adult and, with -study-seeds N,
the study of deletion methods over seeds; writes results.json, the summary,
the report and checkpoints into the run directory (-out).

flags:
`

// checkStudy checks the study flags, naming the flag as given (set holds the
// flags on the command line): with the study off (-study-seeds 0) the other
// study flags are refused rather than silently ignored. It checks what
// experiment.Config.Validate checks of the study, before it, so that the
// message names the flag.
func checkStudy(c experiment.StudyConfig, set map[string]bool) error {
	name := func(flag, old string) string {
		if set[old] {
			return "-" + old
		}
		return "-" + flag
	}
	seeds, shadows := name("study-seeds", "seeds"), name("study-shadows", "shadows")
	if c.Seeds == 0 {
		for _, f := range []string{"study-shadows", "shadows", "study-ulira-models", "study-fraction", "study-split-seeds", "study-store", "study-shard", "study-stage"} {
			if set[f] {
				return fmt.Errorf("-%s needs -study-seeds N (the study is off)", f)
			}
		}
		return nil
	}
	var errs []error
	if c.Seeds < 0 {
		errs = append(errs, fmt.Errorf("%s %d must not be negative (0: no study)", seeds, c.Seeds))
	}
	if c.ULiRAModels < 3 {
		errs = append(errs, fmt.Errorf("-study-ulira-models %d must be at least 3", c.ULiRAModels))
	} else if c.Shadows != 0 && (c.Shadows%2 != 0 || c.Shadows < 2*c.ULiRAModels) {
		errs = append(errs, fmt.Errorf("%s %d must be 0, or even and at least %d (2 × -study-ulira-models %d)", shadows, c.Shadows, 2*c.ULiRAModels, c.ULiRAModels))
	}
	if !(c.Fraction > 0 && c.Fraction < 1) {
		errs = append(errs, fmt.Errorf("-study-fraction %g must be in (0, 1)", c.Fraction))
	}
	return errors.Join(errs...)
}

func parseFractions(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("-fractions: %q is not a number", part)
		}
		out = append(out, f)
	}
	return out, nil
}

// printSummary prints the seed's FINAL RESULTS SUMMARY and the phase timings.
func printSummary(w io.Writer, r *results.Results, outDir string) {
	fmt.Fprintln(w, "FINAL RESULTS SUMMARY")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\ttest acc\tMIA acc\tMIA AUC [95% CI]\ttime (s)\t")
	row := func(name string, acc float64, m results.MIA, secs float64) {
		fmt.Fprintf(tw, "%s\t%.4f\t%.3f\t%.3f [%.3f, %.3f]\t%.1f\t\n", name, acc, m.BestThresholdAccuracy, m.AUC, m.AUCCI95[0], m.AUCCI95[1], secs)
	}
	row("full", r.Models.Full.TestAccuracy, r.Models.Full.MIA, r.Models.Full.TrainSeconds)
	row("retrain", r.Models.Retrain.TestAccuracy, r.Models.Retrain.MIA, r.Models.Retrain.TrainSeconds)
	for _, p := range r.Models.Pruned {
		name := "pruned " + strconv.FormatFloat(p.Fraction, 'g', -1, 64)
		if p.Fraction == r.Best.Fraction {
			name += " (best)"
		}
		row(name, p.TestAccuracy, p.MIA, p.DeletionSeconds)
	}
	tw.Flush()
	if s, err := results.SeedSummary(r); err == nil {
		fmt.Fprintf(w, "best fraction %s, combined score %s, utility retention %s, privacy improvement %s, speed-up vs retrain %s\n",
			s.Summary.BestPruningFraction, s.Summary.CombinedScore, s.Summary.UtilityRetention, s.Summary.PrivacyImprovement, s.Summary.SpeedupVsRetrain)
	}
	fmt.Fprintf(w, "MIA: %d members vs %d non-members; a best-threshold accuracy has a standard error near %.3f, so differences below ~%.2f are noise.\n",
		r.Models.Full.MIA.Members, r.Models.Full.MIA.NonMembers, 0.5/math.Sqrt(float64(r.Models.Full.MIA.Members+r.Models.Full.MIA.NonMembers)), 2*0.5/math.Sqrt(float64(r.Models.Full.MIA.Members+r.Models.Full.MIA.NonMembers)))
	t := r.Timings
	fmt.Fprintf(w, "timings (s, wall; models trained at once: %d): load %.1f, train full+retrain %.1f, fisher %.3f, prune+fine-tune %.1f, write %.1f, total %.1f\n",
		r.Config.Parallel, t.LoadData, t.Train, t.Fisher, t.PruneFinetune, t.Write, t.Total)
	wrote := fmt.Sprintf("wrote %s: %s, %s, report.md, report.html", outDir, experiment.ResultsFile, experiment.SummaryFile)
	if r.Models.Full.Checkpoint != "" {
		wrote += ", " + experiment.CheckpointsDir + "/"
	}
	fmt.Fprintln(w, wrote)
}

// parseShard reads -study-shard I/N.
func parseShard(s string) (study.Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return study.Shard{}, fmt.Errorf("-study-shard %q: want I/N with 0 ≤ I < N, e.g. 0/4", s)
	}
	return study.Shard{Index: i, Count: n}, nil
}
