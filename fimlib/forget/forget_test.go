package forget_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/forget"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/unlearn"
)

// overfit trains a small model to memorise its rows: generated data in the
// Adult format (the label has noise a model can only memorise), 150 epochs
// without early stopping. It returns the data directory, the data and the
// model directory.
func overfit(t *testing.T) (dataDir string, set *adult.Dataset, model string) {
	t.Helper()
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	adulttest.WriteSynthetic(t, filepath.Join(dataDir, adult.DataFile), 500, 1)
	adulttest.WriteSynthetic(t, filepath.Join(dataDir, adult.TestFile), 300, 2)
	set, err := adult.LoadFiles(filepath.Join(dataDir, adult.DataFile), filepath.Join(dataDir, adult.TestFile), adult.Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := experiment.Default()
	cfg.OutDir = filepath.Join(dir, "run")
	cfg.Arch.Inputs = len(set.Features)
	cfg.Fractions = []float64{0.2}
	cfg.Deletion = "random:10"
	cfg.NonMembers, cfg.Bootstrap = 20, 20
	cfg.Train.MaxEpochs, cfg.Train.Patience = 150, 0
	cfg.FineTune.MaxEpochs = 1
	d, err := experiment.Prepare(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := experiment.RunWithData(context.Background(), cfg, d); err != nil {
		t.Fatal(err)
	}
	return dataDir, set, filepath.Join(cfg.OutDir, experiment.CheckpointsDir, "full")
}

func options(t *testing.T, dataDir string, set *adult.Dataset, model, out string) forget.Options {
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return forget.Options{
		ModelDir: model, OutDir: out, Set: set, DataDir: dataDir, Deletion: "random:30", DeletionSeed: 3,
		Method: unlearn.SSD{Alpha: 10, Lambda: 1}, References: 4, Test: forget.DefaultTest,
		CacheDir: filepath.Join(filepath.Dir(out), "cache"), Seed: 1, Backend: b,
	}
}

// TestForgetOverfitModel runs requests on a model that memorised its rows:
// the no-op identity fails the verification, with -fallback the output is a
// retrained model whose record says so, a second request on it chains, and
// refused requests, tampering and mismatched data are caught.
func TestForgetOverfitModel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models")
	}
	dataDir, set, model := overfit(t)
	work := t.TempDir()
	ctx := context.Background()

	// The identity keeps everything: the test must say so.
	o := options(t, dataDir, set, model, filepath.Join(work, "identity"))
	o.Method = unlearn.Identity{}
	rec, err := forget.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	v := rec.Verification
	t.Logf("identity: %s (input AUC %.3f, output %.3f, null %.3f ± %.3f, MDE %.3f)", v.Verdict, v.Input.AUC, v.Output.AUC, v.NullMean, v.NullSD, v.MDE)
	if v.Verdict != deletion.Fail {
		t.Errorf("identity on an overfit model: verdict %s (%s), want fail", v.Verdict, v.Reason)
	}
	if v.Cached {
		t.Error("the first request found its references in an empty cache")
	}
	if rec.Output.ParamsSHA256 != rec.Input.ParamsSHA256 {
		t.Error("identity changed the parameters")
	}

	// With the fallback, the same request ends in a retrained model; the
	// references are now cached.
	o.OutDir = filepath.Join(work, "fallback")
	o.Fallback = true
	rec, err = forget.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	f := rec.Fallback
	if f == nil || f.Method.ID.Family != results.FamilyIdentity || f.Verification.Verdict != deletion.Fail {
		t.Fatalf("fallback record %+v, want the identity's failed attempt", f)
	}
	if !rec.Method.Exact || rec.Method.ID.Family != results.FamilyRetrain || rec.Output.ParamsSHA256 == rec.Input.ParamsSHA256 {
		t.Errorf("method after the fallback %+v, want an exact retrain with new parameters", rec.Method)
	}
	if !rec.Verification.Cached {
		t.Error("the second request on the same rows retrained its references")
	}
	t.Logf("retrain after fallback: %s (output AUC %.3f, pass bound %.3f); difference attack %.3f, exact %.3f",
		rec.Verification.Verdict, rec.Verification.Output.AUC, rec.Verification.PassBound, rec.Difference.AUC, rec.Difference.ExactAUC)
	if rec.Verification.Verdict == deletion.Fail {
		t.Errorf("the retrained model fails: %s", rec.Verification.Reason)
	}
	card, err := modelcard.Read(filepath.Join(o.OutDir, modelcard.File))
	if err != nil {
		t.Fatal(err)
	}
	if card.Method == nil || card.Method.ID.Family != results.FamilyRetrain || card.TrainedRows.Count != rec.Input.TrainedRows-30 ||
		len(card.TrainedRows.Spec.Minus) != 30 || card.Method.Forget.Count != 30 {
		t.Errorf("the retrained model's card: method %+v, trained rows %d (%d listed as deleted)", card.Method, card.TrainedRows.Count, len(card.TrainedRows.Spec.Minus))
	}
	if err := card.VerifyData(set); err != nil {
		t.Errorf("the new card does not verify against the data: %v", err)
	}

	// A second request on the retrained model chains to the first.
	first := o.OutDir
	o2 := options(t, dataDir, set, first, filepath.Join(work, "second"))
	o2.DeletionSeed = 4
	o2.Deletion = "random:20"
	rec2, err := forget.Run(ctx, o2)
	if err != nil {
		t.Fatal(err)
	}
	if rec2.Input.ParamsSHA256 != rec.Output.ParamsSHA256 {
		t.Errorf("second input %s, want the first output %s", rec2.Input.ParamsSHA256, rec.Output.ParamsSHA256)
	}
	rep, err := forget.Check(o2.OutDir, set)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, strings.Join(rep.Checked, "\n"))
	}
	if len(rep.Entries) != 2 || rep.Entries[1].Input != rep.Entries[0].Output || len(rep.Unchecked) != 0 {
		t.Errorf("check: %d entries, unchecked %v", len(rep.Entries), rep.Unchecked)
	}

	t.Run("refused requests write nothing", func(t *testing.T) {
		splits, err := adult.Split(set, 42)
		if err != nil {
			t.Fatal(err)
		}
		testIDs, err := set.RowIDs(splits.Test[:2])
		if err != nil {
			t.Fatal(err)
		}
		trained, err := set.RowIDs(splits.Train[:1])
		if err != nil {
			t.Fatal(err)
		}
		firstRows := make([]string, 2)
		for i, r := range rec.Request.Rows[:2] {
			firstRows[i] = r.ID
		}
		for _, c := range []struct {
			name  string
			model string
			ids   []string
			kinds []string
		}{
			{"malformed", model, []string{"adult.data:0", "row 5"}, []string{forget.Malformed}},
			{"unknown", model, []string{"adult.data:99999"}, []string{forget.Unknown}},
			{"repeated", model, []string{trained[0], trained[0]}, []string{forget.Repeated}},
			{"never trained", model, testIDs, []string{forget.NeverTrained}},
			{"already deleted", first, firstRows, []string{forget.AlreadyDeleted}},
			{"several at once", first, append([]string{"adult.data:99999", "x"}, firstRows...), []string{forget.Unknown, forget.Malformed, forget.AlreadyDeleted}},
		} {
			o := options(t, dataDir, set, c.model, filepath.Join(t.TempDir(), "out"))
			o.Deletion, o.IDs = "", c.ids
			_, err := forget.Run(ctx, o)
			var re *forget.RequestError
			if !errors.As(err, &re) {
				t.Errorf("%s: %v, want a *RequestError", c.name, err)
				continue
			}
			for _, k := range c.kinds {
				if len(re.Problems[k]) == 0 {
					t.Errorf("%s: no %q in %v", c.name, k, err)
				}
			}
			for _, id := range c.ids {
				if !strings.Contains(err.Error(), id) {
					t.Errorf("%s: the error does not name %q: %v", c.name, id, err)
				}
			}
			if _, statErr := os.Stat(o.OutDir); !os.IsNotExist(statErr) {
				t.Errorf("%s: the output directory was created", c.name)
			}
		}
	})

	t.Run("mismatched data is refused", func(t *testing.T) {
		other := t.TempDir()
		adulttest.WriteSynthetic(t, filepath.Join(other, adult.DataFile), 500, 9)
		adulttest.WriteSynthetic(t, filepath.Join(other, adult.TestFile), 300, 2)
		otherSet, err := adult.LoadFiles(filepath.Join(other, adult.DataFile), filepath.Join(other, adult.TestFile), adult.Options{SkipChecksum: true})
		if err != nil {
			t.Fatal(err)
		}
		o := options(t, other, otherSet, model, filepath.Join(t.TempDir(), "out"))
		_, err = forget.Run(ctx, o)
		var me *modelcard.MismatchError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("other data: %v, want a *modelcard.MismatchError on the data hashes", err)
		}
		if _, statErr := os.Stat(o.OutDir); !os.IsNotExist(statErr) {
			t.Error("the output directory was created")
		}
	})

	t.Run("tampering is detected", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			edit   func(t *testing.T, dir string)
			expect string
		}{
			{"checkpoint", func(t *testing.T, dir string) {
				m, err := forget.LoadModel(dir)
				if err != nil {
					t.Fatal(err)
				}
				m.Params[0].Values[0] += 1e-3
				for _, e := range mustReadDir(t, dir) {
					if strings.HasPrefix(e, "checkpoint") {
						os.RemoveAll(filepath.Join(dir, e))
					}
				}
				if err := experiment.SaveParams(dir, m.Params); err != nil {
					t.Fatal(err)
				}
			}, "the checkpoint was changed"},
			{"card", func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, modelcard.File), `"name": "fallback"`, `"name": "fallbacK"`)
			}, "the card was changed"},
			{"record", func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, deletion.File), `"verdict": "`, `"verdict":  "`)
			}, "the record was changed"},
			{"ledger line", func(t *testing.T, dir string) {
				replaceIn(t, filepath.Join(dir, deletion.LedgerFile), `"rows":30`, `"rows":29`)
			}, "is not the one ledger line 1 records"},
		} {
			dir := filepath.Join(t.TempDir(), "fallback")
			copyDir(t, first, dir)
			// The copy is intact; its input model is not beside it, which
			// Check reports as unchecked, not as an error.
			if rep, err := forget.Check(dir, nil); err != nil || len(rep.Unchecked) != 1 {
				t.Fatalf("intact copy: %v, unchecked %v", err, rep.Unchecked)
			}
			c.edit(t, dir)
			_, err := forget.Check(dir, nil)
			if err == nil || !strings.Contains(err.Error(), c.expect) {
				t.Errorf("%s changed: Check = %v, want an error with %q", c.name, err, c.expect)
			}
			// A request on the tampered model is refused, with nothing written.
			o := options(t, dataDir, set, dir, filepath.Join(t.TempDir(), "out"))
			if _, err := forget.Run(ctx, o); err == nil || !strings.Contains(err.Error(), c.expect) {
				t.Errorf("%s changed: Run = %v, want an error with %q", c.name, err, c.expect)
			}
			if _, statErr := os.Stat(o.OutDir); !os.IsNotExist(statErr) {
				t.Errorf("%s changed: the output directory was created", c.name)
			}
		}
	})
}

func mustReadDir(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}
