// Command recipesearch chooses fimprune's cheap deletion recipe
// (train.FastFineTune) on the VALIDATION split: it runs the masked fine-tune
// of FIM pruning over a grid of epochs × learning rates and picks the
// cheapest recipe whose validation accuracy is close to the retrained
// model's. The test split plays no part (see [searchData]).
//
// Usage:
//
//	GOEXPERIMENT=simd go run ./scripts/recipesearch [flags]
//
// The protocol (docs/methods.md, "Choosing the fast recipe"):
//
//   - the seed protocol's split (-split-seed, default 42) and deletion set
//     (-deletion, default first:100);
//   - a full model trained on the training split with the seed recipe
//     (train.Seed: Adam lr 1e-3, batch 64, up to 50 epochs, early stopping
//     with patience 10 on validation loss), seed -seed (default 1);
//   - retrain, the target: a fresh model on the retained rows with the same
//     recipe and seed (unlearn.Retrain);
//   - for every grid point (-epochs × -lrs, batch -batch, Adam): FIM pruning
//     at -fraction (empirical Fisher of the forget rows under the full
//     model, top 20 % zeroed) and the masked fine-tune on the retained rows
//     (unlearn.FIMPrune with that recipe), once per fine-tune seed
//     (-finetune-seeds), the seeds of a grid point trained as one ensemble;
//   - the rule: among the grid points whose mean validation accuracy is
//     within -tolerance (0.005) of the retrained model's, either side, take
//     the fewest epochs, then the best mean validation accuracy, then the
//     smaller learning rate.
//
// It prints a Markdown table of every grid point and the choice on stdout;
// progress goes to stderr. The data directory is -data, $FIMPRUNE_DATA, the
// user cache, else a download, as for scripts/experiment. Usage errors exit
// with status 2, failures (including a grid with no point within the
// tolerance) with 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
	"github.com/gomlx/compute"
)

func main() { cli.Main("recipesearch", run) }

// options are the command line's settings.
type options struct {
	dataDir     string
	splitSeed   int64
	deletion    string
	seed        uint64 // full model and retrain
	fraction    float64
	epochs      []int
	lrs         []float64
	batch       int
	ftSeeds     []uint64
	tolerance   float64
	trainEpochs int // most epochs of the full and retrained models
	quiet       bool
}

func parseArgs(stderr io.Writer, args []string) (options, error) {
	o := options{
		splitSeed:   experiment.Default().SplitSeed,
		deletion:    adult.DefaultDeletionSpec,
		seed:        1,
		fraction:    0.2,
		batch:       64,
		tolerance:   0.005,
		trainEpochs: train.Seed.MaxEpochs,
	}
	fs := flag.NewFlagSet("recipesearch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: GOEXPERIMENT=simd go run ./scripts/recipesearch [flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dataDir, "data", "", "`DIR` holding adult.data and adult.test (default: $FIMPRUNE_DATA, then the user cache, then a download)")
	fs.Int64Var(&o.splitSeed, "split-seed", o.splitSeed, "seed `N` of the stratified train/validation/test split (the seed protocol's by default)")
	fs.StringVar(&o.deletion, "deletion", o.deletion, "rows to forget: `SPEC` = first:N, random:N (drawn with -seed) or file:PATH")
	fs.Uint64Var(&o.seed, "seed", o.seed, "seed `N` of the full model and of the retrained model (initialisation, shuffling, dropout)")
	fs.Float64Var(&o.fraction, "fraction", o.fraction, "FIM pruning fraction `F` in (0, 1)")
	epochs := fs.String("epochs", "1,2,3,5", "comma-separated `LIST` of fine-tuning epochs of the grid")
	lrs := fs.String("lrs", "3e-4,1e-3,3e-3", "comma-separated `LIST` of fine-tuning learning rates (Adam) of the grid")
	fs.IntVar(&o.batch, "batch", o.batch, "fine-tuning batch size `N`")
	ftSeeds := fs.String("finetune-seeds", "1,2,3", "comma-separated `LIST` of seeds of the fine-tune's randomness (shuffling, dropout); a grid point's accuracy is their mean")
	fs.Float64Var(&o.tolerance, "tolerance", o.tolerance, "a grid point qualifies when its mean validation accuracy is within `T` of the retrained model's")
	fs.IntVar(&o.trainEpochs, "train-epochs", o.trainEpochs, "at most `N` epochs of the full and retrained models (seed recipe, early stopping on validation loss)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, cli.Usage(err)
	}
	if fs.NArg() > 0 {
		return o, cli.Usage(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	var errs []error
	var err error
	if o.epochs, err = parseList("-epochs", *epochs, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err == nil && n <= 0 {
			err = errors.New("must be positive")
		}
		return n, err
	}); err != nil {
		errs = append(errs, err)
	}
	if o.lrs, err = parseList("-lrs", *lrs, func(s string) (float64, error) {
		v, err := strconv.ParseFloat(s, 64)
		if err == nil && !(v > 0 && !math.IsInf(v, 0)) {
			err = errors.New("must be positive and finite")
		}
		return v, err
	}); err != nil {
		errs = append(errs, err)
	}
	if o.ftSeeds, err = parseList("-finetune-seeds", *ftSeeds, func(s string) (uint64, error) {
		return strconv.ParseUint(s, 10, 64)
	}); err != nil {
		errs = append(errs, err)
	}
	if _, err := adult.ParseDeletionSpec(o.deletion); err != nil {
		errs = append(errs, fmt.Errorf("-deletion: %w", err))
	}
	if !(o.fraction > 0 && o.fraction < 1) {
		errs = append(errs, fmt.Errorf("-fraction %g must be in (0, 1)", o.fraction))
	}
	if o.batch <= 0 {
		errs = append(errs, fmt.Errorf("-batch %d must be positive", o.batch))
	}
	if !(o.tolerance >= 0 && o.tolerance < 1) {
		errs = append(errs, fmt.Errorf("-tolerance %g must be in [0, 1)", o.tolerance))
	}
	if o.trainEpochs <= 0 {
		errs = append(errs, fmt.Errorf("-train-epochs %d must be positive", o.trainEpochs))
	}
	if len(errs) > 0 {
		return o, cli.Usage(errors.Join(errs...))
	}
	return o, nil
}

// parseList parses a comma-separated list of distinct values, sorted
// ascending; errors name the flag.
func parseList[T int | float64 | uint64](name, s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		v, err := parse(part)
		if ne, ok := err.(*strconv.NumError); ok {
			err = ne.Err
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %v", name, part, err)
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("%s: %q is listed twice", name, part)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	o, err := parseArgs(stderr, args)
	if err != nil {
		return err
	}
	if err := backend.Check(backend.Config()); err != nil {
		return cli.Usage(err)
	}
	logw := stderr
	if o.quiet {
		logw = nil
	}
	dir, err := adult.ResolveDir(o.dataDir, logw)
	if err != nil {
		return err
	}
	set, err := adult.Load(dir)
	if err != nil {
		return err
	}
	return searchSet(ctx, stdout, logw, set, o)
}

// searchSet prepares set (dropping its test split), runs the search and
// prints the table and the choice.
func searchSet(ctx context.Context, stdout, logw io.Writer, set *adult.Dataset, o options) error {
	start := time.Now()
	d, err := prepare(set, o)
	if err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	defer b.Finalize()
	arch := mlp.Seed
	arch.Inputs = d.Pool.Features
	r, err := search(ctx, b, arch, d, o, train.NewProgress(logw))
	if err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	return report(stdout, r, o)
}

// searchData is everything the search sees: the training split (the pool
// the deletion rows come from, as unlearn.Env.Pool) and the validation
// split, scaled with a scaler fit on the training split alone, and the
// forget and retained rows as positions in Pool. prepare drops the test
// split's row ids before it builds any matrix, so no code after prepare can
// read a test row: the search never sees the test split, by construction
// (TestTestRowsNeverRead checks it).
type searchData struct {
	Pool, Val      train.Data
	Forget, Retain []int // positions in Pool
}

// prepare splits set as the seed protocol does, selects the deletion rows
// and returns the training and validation matrices only.
func prepare(set *adult.Dataset, o options) (searchData, error) {
	splits, err := adult.Split(set, o.splitSeed)
	if err != nil {
		return searchData{}, err
	}
	trainIDs, valIDs := splits.Train, splits.Val
	splits.Test = nil // the test split ends here
	spec, err := adult.ParseDeletionSpec(o.deletion)
	if err != nil {
		return searchData{}, cli.Usage(fmt.Errorf("-deletion: %w", err))
	}
	deleted, err := spec.Select(trainIDs, int64(o.seed))
	if err != nil {
		return searchData{}, cli.Usage(fmt.Errorf("-deletion: %w", err))
	}
	pos := make(map[int]int, len(trainIDs))
	for p, id := range trainIDs {
		pos[id] = p
	}
	d := searchData{}
	for _, id := range deleted {
		d.Forget = append(d.Forget, pos[id])
	}
	for _, id := range adult.Retained(trainIDs, deleted) {
		d.Retain = append(d.Retain, pos[id])
	}
	if len(d.Retain) == 0 {
		return searchData{}, cli.Usage(fmt.Errorf("-deletion %s deletes the whole training split", o.deletion))
	}
	scaler := adult.FitScaler(set, trainIDs)
	rows := func(ids []int) train.Data {
		y := make([]int32, len(ids))
		for i, id := range ids {
			y[i] = set.Y[id]
		}
		return train.Data{X: scaler.Apply(set, ids), Y: y, Features: len(set.Features)}
	}
	d.Pool, d.Val = rows(trainIDs), rows(valIDs)
	return d, nil
}

// point is one grid point's outcome.
type point struct {
	Epochs  int
	LR      float64
	ValAcc  []float64 // per fine-tune seed
	Mean    float64   // mean of ValAcc
	Seconds float64   // wall time of the grid point's ensemble ÷ its fine-tunes (Fisher, pruning, fine-tune)
}

// result is the whole search.
type result struct {
	Rows                        string // a line describing the data
	FullValAcc, RetrainValAcc   float64
	FullEpochs, RetrainEpochs   int
	FullSeconds, RetrainSeconds float64
	Points                      []point
	Backend                     string
	Seconds                     float64 // wall time of the whole search
}

// search trains the full and retrained models, then prunes and fine-tunes
// at every grid point. It reads d only: training and validation rows.
func search(ctx context.Context, b compute.Backend, arch mlp.Arch, d searchData, o options, progress *train.Progress) (*result, error) {
	logf := progress.Printf
	r := &result{Backend: b.Name(),
		Rows: fmt.Sprintf("%d training rows (%d forgotten, %d retained), %d validation rows", d.Pool.Rows(), len(d.Forget), len(d.Retain), d.Val.Rows())}
	logf("%s; test rows: none (dropped before the search)", r.Rows)
	acc, finalize, err := valAccuracy(b, arch, d.Val)
	if err != nil {
		return nil, err
	}
	defer finalize()

	tc := train.Seed
	tc.MaxEpochs = o.trainEpochs
	tc.Name, tc.Progress = "full", progress
	full, err := train.FitEnsemble(ctx, b, arch, d.Pool, &d.Val, tc,
		[]train.Member{{Name: "full", Init: arch.Init(o.seed), Seed: o.seed}})
	if err != nil {
		return nil, err
	}
	r.FullEpochs, r.FullSeconds = full[0].History.BestEpoch, full[0].History.Seconds
	if r.FullValAcc, err = acc(full[0].Params); err != nil {
		return nil, err
	}
	logf("full: best epoch %d, validation accuracy %.4f, %.1fs", r.FullEpochs, r.FullValAcc, r.FullSeconds)

	env := unlearn.Env{Backend: b, Arch: arch, Pool: d.Pool, Val: &d.Val, Train: tc, Progress: progress}
	task := unlearn.Task{Name: "retrain", Model: full[0].Params, Retain: d.Retain, Forget: d.Forget, Seed: o.seed}
	t0 := time.Now()
	retrained, err := unlearn.Retrain{}.Unlearn(ctx, env, []unlearn.Task{task})
	if err != nil {
		return nil, err
	}
	r.RetrainSeconds = time.Since(t0).Seconds()
	if r.RetrainValAcc, err = acc(retrained[0].Params); err != nil {
		return nil, err
	}
	logf("retrain: validation accuracy %.4f, %.1fs", r.RetrainValAcc, r.RetrainSeconds)

	for _, epochs := range o.epochs {
		for _, lr := range o.lrs {
			cfg := train.FastFineTune
			cfg.LearningRate, cfg.MaxEpochs, cfg.BatchSize, cfg.Patience = lr, epochs, o.batch, 0
			m := unlearn.FIMPrune{Fraction: o.fraction, Kind: fisher.Empirical, FineTune: &cfg, Label: fmt.Sprintf("e%d-lr%g", epochs, lr)}
			tasks := make([]unlearn.Task, len(o.ftSeeds))
			for i, s := range o.ftSeeds {
				tasks[i] = unlearn.Task{Name: fmt.Sprintf("seed %d", s), Model: full[0].Params, Retain: d.Retain, Forget: d.Forget, Seed: s}
			}
			outs, err := m.Unlearn(ctx, env, tasks)
			if err != nil {
				return nil, err
			}
			p := point{Epochs: epochs, LR: lr, Seconds: outs[0].Seconds}
			for _, out := range outs {
				a, err := acc(out.Params)
				if err != nil {
					return nil, err
				}
				p.ValAcc = append(p.ValAcc, a)
				p.Mean += a / float64(len(outs))
			}
			logf("%d epochs, lr %g: validation accuracy %.4f (per seed %.4f; gap to retrain %+.4f), %.1fs per fine-tune",
				epochs, lr, p.Mean, p.ValAcc, p.Mean-r.RetrainValAcc, p.Seconds)
			r.Points = append(r.Points, p)
		}
	}
	return r, nil
}

// valAccuracy returns a function giving the validation accuracy of a
// model's parameters (one compiled evaluator for all), and its finalizer.
func valAccuracy(b compute.Backend, arch mlp.Arch, val train.Data) (func([]mlp.Tensor) (float64, error), func(), error) {
	store, err := mlp.NewStore(arch.Init(0), 0)
	if err != nil {
		return nil, nil, err
	}
	ev := train.NewEvaluator(b, store, arch)
	acc := func(params []mlp.Tensor) (float64, error) {
		if err := mlp.SetParams(store, params); err != nil {
			return 0, err
		}
		logp, err := ev.LogProbabilities(val)
		if err != nil {
			return 0, err
		}
		return train.Accuracy(logp, val.Y), nil
	}
	return acc, func() { ev.Finalize(); store.Finalize() }, nil
}

// slack absorbs float rounding in the tolerance comparison: accuracies are
// means of multiples of 1/rows.
const slack = 1e-9

// within reports whether acc is within tol of target, either side.
func within(acc, target, tol float64) bool { return math.Abs(acc-target) <= tol+slack }

// choose applies the rule: among the points whose mean validation accuracy is
// within tol of retrain's (either side), the fewest epochs, then the best
// mean validation accuracy, then the smaller learning rate. It returns the
// index of the chosen point, or -1 when none qualifies.
func choose(points []point, retrain, tol float64) int {
	best := -1
	for i, p := range points {
		if !within(p.Mean, retrain, tol) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		q := points[best]
		switch {
		case p.Epochs != q.Epochs:
			if p.Epochs < q.Epochs {
				best = i
			}
		case p.Mean != q.Mean:
			if p.Mean > q.Mean {
				best = i
			}
		case p.LR < q.LR:
			best = i
		}
	}
	return best
}

// report prints the table and the choice; it fails when no point qualifies.
func report(w io.Writer, r *result, o options) error {
	fmt.Fprintf(w, "data: %s; split seed %d, deletion %s\n", r.Rows, o.splitSeed, o.deletion)
	fmt.Fprintf(w, "full model (seed %d, train.Seed, best epoch %d): validation accuracy %.4f\n", o.seed, r.FullEpochs, r.FullValAcc)
	fmt.Fprintf(w, "retrain (seed %d, train.Seed): validation accuracy %.4f — the target\n", o.seed, r.RetrainValAcc)
	fmt.Fprintf(w, "grid: FIM pruning at %g, masked fine-tune on the retained rows, Adam, batch %d; fine-tune seeds %s (mean)\n\n",
		o.fraction, o.batch, joinSeeds(o.ftSeeds))
	fmt.Fprintf(w, "| epochs | lr | val acc (mean) | min – max | gap to retrain | within ±%g | s per fine-tune |\n", o.tolerance)
	fmt.Fprintln(w, "| ---: | ---: | ---: | :---: | ---: | :---: | ---: |")
	chosen := choose(r.Points, r.RetrainValAcc, o.tolerance)
	for i, p := range r.Points {
		mark := "no"
		if within(p.Mean, r.RetrainValAcc, o.tolerance) {
			mark = "yes"
		}
		if i == chosen {
			mark = "**chosen**"
		}
		fmt.Fprintf(w, "| %d | %g | %.4f | %.4f – %.4f | %+.4f | %s | %.1f |\n",
			p.Epochs, p.LR, p.Mean, slices.Min(p.ValAcc), slices.Max(p.ValAcc), p.Mean-r.RetrainValAcc, mark, p.Seconds)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "rule: among the grid points within %g of retrain's validation accuracy (either side), the fewest epochs, then the best validation accuracy, then the smaller learning rate\n", o.tolerance)
	fmt.Fprintf(w, "search: %.0f s wall on %d CPUs (%s), backend %s, %s\n", r.Seconds, runtime.NumCPU(), runtime.GOARCH, r.Backend, runtime.Version())
	if chosen < 0 {
		return fmt.Errorf("no grid point is within %g of the retrained model's validation accuracy %.4f", o.tolerance, r.RetrainValAcc)
	}
	c := r.Points[chosen]
	fmt.Fprintf(w, "choice: %s, lr %g, batch %d (validation accuracy %.4f, gap to retrain %+.4f)\n",
		epochs(c.Epochs), c.LR, o.batch, c.Mean, c.Mean-r.RetrainValAcc)
	cur := train.FastFineTune
	verdict := "differs from the choice"
	if c.Epochs == cur.MaxEpochs && c.LR == cur.LearningRate && o.batch == cur.BatchSize {
		verdict = "same as the choice"
	}
	fmt.Fprintf(w, "train.FastFineTune (%s, lr %g, batch %d): %s\n", epochs(cur.MaxEpochs), cur.LearningRate, cur.BatchSize, verdict)
	return nil
}

func epochs(n int) string {
	if n == 1 {
		return "1 epoch"
	}
	return strconv.Itoa(n) + " epochs"
}

func joinSeeds(seeds []uint64) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ", ")
}
