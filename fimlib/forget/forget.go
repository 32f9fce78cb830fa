// Package forget honours a deletion request on a saved model: it reads a
// model directory (a checkpoint with its model card) and the data, checks
// both against the card, removes the requested rows with a method of
// fimlib/unlearn, verifies the result against reference models trained
// without the rows, and writes the new model with its card, a deletion
// record (deletion.json) and the ledger (ledger.jsonl) into a new
// directory. scripts/forget is its command line; docs/deletion.md describes
// the record and README.md ("Deleting rows from a trained model") the use.
//
// Entry points: [Run] (one request), [Check] (a model directory's chain and
// hashes), [LoadModel], [MembershipTest] (the verification's statistics,
// which need only scores).
package forget

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
	"github.com/gomlx/compute"
)

// Options is one deletion request and how to honour it.
type Options struct {
	// ModelDir is the model to delete from; OutDir the new model directory,
	// which must not exist or be empty.
	ModelDir, OutDir string
	// Set is the data, loaded from DataDir (whose files give each row's
	// bytes for the record's hashes).
	Set     *adult.Dataset
	DataDir string
	// IDs are the rows to delete, by stable id; Source says where they came
	// from, for the record. Alternatively Deletion ("random:N", "first:N")
	// draws them from the model's trained rows with DeletionSeed.
	IDs          []string
	Source       string
	Deletion     string
	DeletionSeed int64
	// Method is the deletion method; MethodDefault records that it was not
	// chosen on the command line.
	Method        unlearn.Method
	MethodDefault bool
	// References is K, the number of reference models of the verification;
	// 0 switches it off. Test holds its settings.
	References int
	Test       TestConfig
	// Fallback retrains from scratch when the verdict is not "pass".
	Fallback bool
	// CacheDir holds reference models by content key; "" does not cache.
	CacheDir string
	// Seed seeds the method and the references (with the request's hashes).
	Seed uint64
	// Backend computes; Log receives progress lines (nil: none).
	Backend compute.Backend
	Log     io.Writer
}

// Run honours one deletion request and returns its record, which is also
// written to OutDir with the new checkpoint, its card and the ledger. A
// request that cannot be honoured (a [*RequestError]: unknown, repeated or
// never-trained rows, rows already deleted) and any mismatch between the
// model, its card and the data are refused before anything is written.
func Run(ctx context.Context, o Options) (*deletion.Record, error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	if o.Method == nil {
		return nil, errors.New("forget: no method")
	}
	if o.Test == (TestConfig{}) {
		o.Test = DefaultTest
	}
	if o.Fallback && o.References == 0 {
		return nil, errors.New("forget: the fallback to retraining needs the verification (References ≥ 3) to decide")
	}
	if err := checkOutDir(o.OutDir); err != nil {
		return nil, err
	}
	// The input and the chain behind it must check as -check would: a
	// record, card or ledger changed since it was written is refused here.
	rep, err := Check(o.ModelDir, nil)
	if err != nil {
		return nil, fmt.Errorf("the input model does not check: %w", err)
	}
	in := rep.Model
	card := in.Card
	if err := card.VerifyData(o.Set); err != nil {
		return nil, fmt.Errorf("the data does not match %s: %w", filepath.Join(o.ModelDir, modelcard.File), err)
	}
	scratch := card.Training.Recipe
	if card.Parent != nil {
		scratch = card.Training.ScratchRecipe
	}
	if scratch == (results.TrainConfig{}) {
		return nil, fmt.Errorf("%s: the card does not record the recipe the model was trained from scratch with (a %s card of an unlearned model); retraining and the references need it", o.ModelDir, card.Schema)
	}
	trained, err := card.TrainedRows.Spec.Rows(o.Set)
	if err != nil {
		return nil, err
	}
	ids := o.IDs
	if o.Deletion != "" {
		if len(ids) > 0 {
			return nil, errors.New("forget: both row ids and a deletion spec")
		}
		spec, err := adult.ParseDeletionSpec(o.Deletion)
		if err != nil {
			return nil, err
		}
		rows, err := spec.Select(trained, o.DeletionSeed)
		if err != nil {
			return nil, err
		}
		if ids, err = o.Set.RowIDs(rows); err != nil {
			return nil, err
		}
	}
	req, err := resolve(o.Set, card, trained, ids)
	if err != nil {
		return nil, err
	}
	hashes, err := lineHashes(o.DataDir, card.Data.SHA256, req.ids)
	if err != nil {
		return nil, err
	}
	idsHash := modelcard.RowIDsHash(req.ids)
	logf("forget: %d rows from %s (params %s), %d trained rows", len(req.ids), o.ModelDir, short(card.ParamsSHA256), len(trained))

	data, err := prepare(o.Set, card, trained, req.rows)
	if err != nil {
		return nil, err
	}
	env := unlearn.Env{
		Backend: o.Backend, Arch: in.Arch, Pool: data.pool, Val: &data.val,
		FineTune: train.SeedFineTune, Train: train.FromRecipe(scratch), Progress: train.NewProgress(o.Log),
	}
	seed := subSeed(o.Seed, card.ParamsSHA256+"/"+idsHash)
	loaded := time.Since(start).Seconds()

	t0 := time.Now()
	outParams, method, err := runMethod(ctx, env, o.Method, in.Params, data, seed, o.MethodDefault)
	if err != nil {
		return nil, err
	}
	methodSeconds := time.Since(t0).Seconds()

	rec := &deletion.Record{
		Schema: deletion.Schema, Created: start.UTC().Format(time.RFC3339),
		Request: deletion.Request{Source: o.Source, Count: len(req.ids), IDsSHA256: idsHash},
		Data:    card.Data.SHA256,
	}
	if o.Deletion != "" {
		rec.Request.Source = fmt.Sprintf("deletion spec %s, seed %d, drawn from the model's trained rows", o.Deletion, o.DeletionSeed)
	}
	for i, id := range req.ids {
		rec.Request.Rows = append(rec.Request.Rows, deletion.Row{ID: id, SHA256: hashes[i]})
	}

	var refs *references
	t1 := time.Now()
	if o.References > 0 {
		refs, err = referenceModels(ctx, env, o, card, data, idsHash)
		if err != nil {
			return nil, err
		}
	}
	refSeconds := time.Since(t1).Seconds()

	var verifySeconds float64
	verify := func(params []mlp.Tensor) (*deletion.Verification, error) {
		if refs == nil {
			return nil, nil
		}
		t := time.Now()
		v, err := refs.verify(o.Backend, in.Arch, in.Params, params, data, o.Test)
		if err != nil {
			return nil, err
		}
		v.ReferenceSeconds = refSeconds
		v.TestSeconds = time.Since(t).Seconds()
		verifySeconds += v.TestSeconds
		return v, nil
	}
	v, err := verify(outParams)
	if err != nil {
		return nil, err
	}
	if v != nil {
		logf("forget: verification %s: %s", v.Verdict, v.Reason)
	}
	if o.Fallback && v.Verdict != deletion.Pass && method.ID.Family != results.FamilyRetrain {
		first := deletion.Fallback{Method: method, OutputParamsSHA256: modelcard.ParamsHash(outParams), Verification: *v,
			Reason: fmt.Sprintf("%s gave the verdict %q: %s", method.ID.Name(), v.Verdict, v.Reason)}
		logf("forget: falling back to retraining from scratch")
		t2 := time.Now()
		outParams, method, err = runMethod(ctx, env, unlearn.Retrain{}, in.Params, data, seed, false)
		if err != nil {
			return nil, err
		}
		methodSeconds += time.Since(t2).Seconds()
		if v, err = verify(outParams); err != nil {
			return nil, err
		}
		rec.Fallback = &first
	}
	rec.Method, rec.Verification = method, v

	// Accuracy and the difference attack.
	inLP, err := logProbs(o.Backend, in.Arch, in.Params, data.all)
	if err != nil {
		return nil, err
	}
	outLP, err := logProbs(o.Backend, in.Arch, outParams, data.all)
	if err != nil {
		return nil, err
	}
	var exactLP []float32
	if refs != nil {
		if exactLP, err = logProbs(o.Backend, in.Arch, refs.params[0], data.all); err != nil {
			return nil, err
		}
	}
	if rec.Difference, err = differenceAttack(inLP, outLP, exactLP, data); err != nil {
		return nil, err
	}

	outCard, err := outputCard(in, o, outParams, method, req.ids, data, seed, scratch)
	if err != nil {
		return nil, err
	}
	rec.Input = deletion.Checkpoint{Dir: relDir(o.OutDir, o.ModelDir), ParamsSHA256: card.ParamsSHA256, CardSHA256: in.CardSHA256,
		TrainedRows: card.TrainedRows.Count, TestAccuracy: accuracy(inLP, data)}
	rec.Output = deletion.Checkpoint{Dir: ".", ParamsSHA256: outCard.ParamsSHA256,
		TrainedRows: outCard.TrainedRows.Count, TestAccuracy: accuracy(outLP, data)}
	env0 := experiment.Environment(start)
	rec.Build = modelcard.Build{GoVersion: env0.GoVersion, GomlxVersion: env0.GomlxVersion, Backend: o.Backend.Name(),
		GOEXPERIMENT: env0.GOEXPERIMENT, GOOS: env0.GOOS, GOARCH: env0.GOARCH}
	outCard.Build = rec.Build
	rec.Seconds = deletion.Timings{Load: loaded, Method: methodSeconds, References: refSeconds, Verification: verifySeconds}
	rec.Seconds.Total = time.Since(start).Seconds()
	if err := write(o.OutDir, in, outParams, outCard, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// short is the first 12 hex digits of a hash, as logs print it.
func short(h string) string { return h[:min(12, len(h))] }

// relDir is dir relative to base when that can be formed, dir otherwise.
func relDir(base, dir string) string {
	ab, err1 := filepath.Abs(base)
	ad, err2 := filepath.Abs(dir)
	if err1 == nil && err2 == nil {
		if r, err := filepath.Rel(ab, ad); err == nil {
			return filepath.ToSlash(r)
		}
	}
	return dir
}

// checkOutDir refuses an output directory that exists and is not empty.
func checkOutDir(dir string) error {
	if dir == "" {
		return errors.New("forget: no output directory")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("output directory %s exists and is not empty: each request writes a new model directory", dir)
	}
	return nil
}

// subSeed derives an independent seed for purpose from seed: the first 8
// bytes of SHA-256(seed, purpose).
func subSeed(seed uint64, purpose string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(purpose))
	return binary.LittleEndian.Uint64(h.Sum(nil))
}

// data are the rows a request works on, scaled with the card's scaler.
type data struct {
	// pool is the training split; retain and forget index it.
	pool           train.Data
	retain, forget []int
	// val and test are the validation and test splits.
	val, test train.Data
	// all is pool followed by test, for one evaluation pass per model.
	all train.Data
	// valRows are the validation split's dataset indices.
	valRows []int
}

func prepare(set *adult.Dataset, card *modelcard.Card, trained, forgetRows []int) (*data, error) {
	splits, err := adult.Split(set, card.Data.SplitSeed)
	if err != nil {
		return nil, err
	}
	sc := adult.Scaler{Mean: card.Scaler.Mean, Std: card.Scaler.Std}
	rows := func(ids []int) train.Data {
		y := make([]int32, len(ids))
		for i, id := range ids {
			y[i] = set.Y[id]
		}
		return train.Data{X: sc.Apply(set, ids), Y: y, Features: len(set.Features)}
	}
	pos := make(map[int]int, len(splits.Train))
	for i, r := range splits.Train {
		pos[r] = i
	}
	d := &data{pool: rows(splits.Train), val: rows(splits.Val), test: rows(splits.Test), valRows: splits.Val}
	isForget := map[int]bool{}
	for _, r := range forgetRows {
		p, ok := pos[r]
		if !ok {
			return nil, fmt.Errorf("forget: row %d is not in the training split", r)
		}
		isForget[r] = true
		d.forget = append(d.forget, p)
	}
	for _, r := range trained {
		p, ok := pos[r]
		if !ok {
			return nil, fmt.Errorf("forget: trained row %d is not in the training split", r)
		}
		if !isForget[r] {
			d.retain = append(d.retain, p)
		}
	}
	all := append(slices.Clone(splits.Train), splits.Test...)
	d.all = rows(all)
	return d, nil
}

// methodRecipe is the training recipe m uses in env, nil for a method that
// does not train.
func methodRecipe(m unlearn.Method, env unlearn.Env) *train.Config {
	switch m := m.(type) {
	case unlearn.SSD, unlearn.Identity:
		return nil
	case unlearn.Retrain:
		return &env.Train
	case unlearn.FIMPrune:
		if m.FineTune != nil {
			return m.FineTune
		}
	}
	return &env.FineTune
}

// runMethod runs m on the request and describes what it did.
func runMethod(ctx context.Context, env unlearn.Env, m unlearn.Method, params []mlp.Tensor, d *data, seed uint64, isDefault bool) ([]mlp.Tensor, deletion.Method, error) {
	t := time.Now()
	out, err := m.Unlearn(ctx, env, []unlearn.Task{{Name: m.Name(), Model: params, Retain: d.retain, Forget: d.forget, Seed: seed}})
	if err != nil {
		return nil, deletion.Method{}, err
	}
	p := out[0].Params
	desc := deletion.Method{ID: m.ID(), Default: isDefault, Exact: m.ID().Family == results.FamilyRetrain, Seed: seed,
		Seconds: time.Since(t).Seconds()}
	if r := methodRecipe(m, env); r != nil {
		tc := r.Recipe()
		desc.Training = &tc
	}
	var diff, norm float64
	for i := range p {
		for j, v := range p[i].Values {
			w := params[i].Values[j]
			if v != w {
				desc.ParamsChanged++
			}
			diff += float64(v-w) * float64(v-w)
			norm += float64(w) * float64(w)
		}
	}
	if norm > 0 {
		desc.RelativeChange = math.Sqrt(diff / norm)
	}
	return p, desc, nil
}

// logProbs evaluates params on d: row-major [rows, classes] log-probabilities.
func logProbs(backend compute.Backend, arch mlp.Arch, params []mlp.Tensor, d train.Data) ([]float32, error) {
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		return nil, err
	}
	defer store.Finalize()
	ev := train.NewEvaluator(backend, store, arch)
	defer ev.Finalize()
	return ev.LogProbabilities(d)
}

// accuracy is the test accuracy from log-probabilities of d.all.
func accuracy(lp []float32, d *data) float64 {
	classes := len(lp) / d.all.Rows()
	off := d.pool.Rows() * classes
	return train.Accuracy(lp[off:], d.test.Y)
}

// differenceAttack ranks the deleted and the retained rows by how much
// their loss rose from the input model (inLP) to the output (outLP), and
// to an exact retrain (exactLP, nil without references).
func differenceAttack(inLP, outLP, exactLP []float32, d *data) (deletion.Difference, error) {
	negLoss := func(lp []float32) ([]float64, error) {
		classes := len(lp) / d.all.Rows()
		return mia.ScoresFromLogProbs(mia.NegLoss, lp[:d.pool.Rows()*classes], d.pool.Y)
	}
	before, err := negLoss(inLP)
	if err != nil {
		return deletion.Difference{}, err
	}
	aucOf := func(lp []float32) (auc, meanF, meanR float64, err error) {
		after, err := negLoss(lp)
		if err != nil {
			return 0, 0, 0, err
		}
		change := func(rows []int) ([]float64, float64) {
			out := make([]float64, len(rows))
			var sum float64
			for i, r := range rows {
				out[i] = before[r] - after[r] // loss after − loss before
				sum += out[i]
			}
			return out, sum / float64(len(rows))
		}
		f, mf := change(d.forget)
		r, mr := change(d.retain)
		auc, err = mia.AUC(f, r)
		return auc, mf, mr, err
	}
	diff := deletion.Difference{Deleted: len(d.forget), Retained: len(d.retain)}
	if diff.AUC, diff.MeanChangeDeleted, diff.MeanChangeRetained, err = aucOf(outLP); err != nil {
		return diff, err
	}
	if exactLP != nil {
		if diff.ExactAUC, _, _, err = aucOf(exactLP); err != nil {
			return diff, err
		}
	}
	return diff, nil
}

// outputCard is the card of the model a request made.
func outputCard(in *Model, o Options, params []mlp.Tensor, method deletion.Method, ids []string, d *data, seed uint64, scratch results.TrainConfig) (*modelcard.Card, error) {
	c := *in.Card
	c.Schema = modelcard.Schema
	c.Name = filepath.Base(filepath.Clean(o.OutDir))
	c.ParamsSHA256 = modelcard.ParamsHash(params)
	parent := in.Card.ParamsSHA256
	c.Parent = &parent
	base := in.Card.TrainedRows.Spec
	base.Minus, base.Only = nil, nil
	forget := base
	forget.Only = ids
	fisherKind := ""
	switch method.ID.Family {
	case results.FamilyFIM, results.FamilyRatio, results.FamilySSD:
		fisherKind = modelcard.FisherEmpirical
	}
	rs, err := modelcard.NewRowSet(o.Set, forget, rowsOf(o.Set, ids))
	if err != nil {
		return nil, err
	}
	c.Method = &modelcard.Method{ID: method.ID, Fisher: fisherKind, Forget: rs}
	trained := in.Card.TrainedRows.Spec
	minus := append(slices.Clone(trained.Minus), ids...)
	slices.SortFunc(minus, func(a, b string) int {
		x, _ := adult.ParseRowID(a)
		y, _ := adult.ParseRowID(b)
		return x.Compare(y)
	})
	trained.Minus = minus
	rows, err := trained.Rows(o.Set)
	if err != nil {
		return nil, err
	}
	if c.TrainedRows, err = modelcard.NewRowSet(o.Set, trained, rows); err != nil {
		return nil, err
	}
	c.Training = modelcard.Training{Seed: o.Seed, DropoutSeed: seed, ShuffleSeed: seed, ScratchRecipe: scratch}
	c.ValidationRows = nil
	if method.Training != nil {
		c.Training.Recipe = *method.Training
		if method.Training.Patience > 0 {
			val, err := modelcard.NewRowSet(o.Set, modelcard.RowSpec{Split: modelcard.SplitVal, SplitSeed: c.Data.SplitSeed}, d.valRows)
			if err != nil {
				return nil, err
			}
			c.ValidationRows = &val
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("the new model's card: %w", err)
	}
	return &c, nil
}

// rowsOf maps ids (already resolved) to dataset indices.
func rowsOf(set *adult.Dataset, ids []string) []int {
	out := make([]int, 0, len(ids))
	for _, text := range ids {
		id, _ := adult.ParseRowID(text)
		if i, ok := set.Index(id); ok {
			out = append(out, i)
		}
	}
	return out
}

// write stores the new model directory: checkpoint, card, record and the
// ledger (the input's lines and one more), all in a temporary directory
// beside OutDir that is synced and renamed into place, so the directory
// appears complete or not at all.
func write(outDir string, in *Model, params []mlp.Tensor, card *modelcard.Card, rec *deletion.Record) error {
	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(outDir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := experiment.SaveParams(tmp, params); err != nil {
		return err
	}
	if err := modelcard.Write(filepath.Join(tmp, modelcard.File), card); err != nil {
		return err
	}
	if rec.Output.CardSHA256, err = deletion.FileHash(filepath.Join(tmp, modelcard.File)); err != nil {
		return err
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("the deletion record: %w", err)
	}
	body, err := deletion.Marshal(rec)
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(tmp, deletion.File), body); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	entry := deletion.NewEntry(rec, hex.EncodeToString(sum[:]), filepath.Base(filepath.Clean(outDir)), in.LedgerLines)
	line, err := deletion.MarshalEntry(entry)
	if err != nil {
		return err
	}
	var ledger []byte
	for _, l := range in.LedgerLines {
		ledger = append(append(ledger, l...), '\n')
	}
	ledger = append(append(ledger, line...), '\n')
	if err := results.WriteFileAtomic(filepath.Join(tmp, deletion.LedgerFile), ledger); err != nil {
		return err
	}
	if err := experiment.SyncTree(tmp); err != nil {
		return err
	}
	// An empty OutDir (checked at the start) is replaced; a non-empty one
	// makes the rename fail, and nothing is written.
	if err := os.Remove(outDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("output directory %s: %w", outDir, err)
	}
	if err := os.Rename(tmp, outDir); err != nil {
		return err
	}
	return results.SyncDir(parent)
}
