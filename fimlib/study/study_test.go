package study

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
)

func rowsOf(n int, seed uint64) train.Data {
	const f = 6
	rng := rand.New(rand.NewPCG(seed, 1))
	d := train.Data{Features: f, X: make([]float32, n*f), Y: make([]int32, n)}
	for r := range n {
		var s float64
		for j := range f {
			v := rng.NormFloat64()
			d.X[r*f+j] = float32(v)
			s += v
		}
		if s+rng.NormFloat64() > 0 {
			d.Y[r] = 1
		}
	}
	return d
}

// TestRunSmallStudy runs every method and the shadow attacks end to end on
// small generated data and checks that the study is complete.
func TestRunSmallStudy(t *testing.T) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Train: rowsOf(240, 1), Val: rowsOf(80, 2), Test: rowsOf(120, 3)}
	cfg := Config{
		Seeds: []uint64{1, 2}, Fraction: 0.2, Shadows: 8, ULiRAModels: 3, ForgetRows: 20,
		Arch:  mlp.Arch{Inputs: 6, Hidden: []int{12, 6}, Classes: 2, Dropout: 0.1},
		Train: train.Seed, FineTune: train.SeedFineTune,
	}
	cfg.Train.MaxEpochs, cfg.Train.Patience = 4, 2
	cfg.FineTune.MaxEpochs = 2
	st, err := Run(context.Background(), be, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Methods) != 11 {
		t.Fatalf("%d methods, want 11", len(st.Methods))
	}
	for _, m := range st.Methods {
		if len(m.TestAccuracy.Values) != 2 || len(m.Attacks) != 4 {
			t.Errorf("%s: %d seeds, %d attacks", m.Name, len(m.TestAccuracy.Values), len(m.Attacks))
		}
		if m.Shadow == nil || m.RMIAAUC == nil || m.LiRATiedShare == nil || m.Change == nil {
			t.Fatalf("%s: no shadow attacks or no change record", m.Name)
		}
		if m.Shadow.ModelsPerSide != 3 || len(m.Shadow.ULiRA.Values) != 2 {
			t.Errorf("%s: shadow %+v", m.Name, *m.Shadow)
		}
		switch m.ID.Family {
		case results.FamilyIdentity:
			if m.Change.Parameters.Mean != 0 {
				t.Errorf("identity changed %v parameters", m.Change.Parameters.Values)
			}
		case results.FamilyFIM, results.FamilyFineTune, results.FamilyRetrain:
			if m.Change.Parameters.Mean == 0 {
				t.Errorf("%s changed no parameter", m.Name)
			}
		}
		if m.Name == "retrain" {
			for _, g := range []results.Estimate{m.TestGap, m.ForgetGap, m.ForgetKL} {
				for _, v := range g.Values {
					if v != 0 {
						t.Errorf("retrain compared with itself: %v", g.Values)
					}
				}
			}
		}
	}
}

func TestConfigRejects(t *testing.T) {
	d := Data{Train: rowsOf(50, 1), Val: rowsOf(10, 2), Test: rowsOf(10, 3)}
	good := Config{Seeds: []uint64{1}, Fraction: 0.2, ForgetRows: 2, Arch: mlp.Arch{Inputs: 6, Hidden: []int{4}, Classes: 2}, Train: train.Seed, FineTune: train.SeedFineTune}
	if err := good.validate(d); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Config, *Data){
		"no seeds":        func(c *Config, _ *Data) { c.Seeds = nil },
		"repeated seed":   func(c *Config, _ *Data) { c.Seeds = []uint64{1, 1} },
		"fraction 1":      func(c *Config, _ *Data) { c.Fraction = 1 },
		"14 shadows":      func(c *Config, _ *Data) { c.Shadows = 14 },
		"odd shadows":     func(c *Config, _ *Data) { c.Shadows = 17 },
		"2 U-LiRA models": func(c *Config, _ *Data) { c.ULiRAModels = 2 },
		"no forget rows":  func(c *Config, _ *Data) { c.ForgetRows = 0 },
		"everything out":  func(c *Config, _ *Data) { c.ForgetRows = 50 },
		"no test rows":    func(_ *Config, d *Data) { d.Test = train.Data{Features: 6} },
	}
	for name, edit := range bad {
		c, dd := good, d
		edit(&c, &dd)
		if err := c.validate(dd); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRunSplits: with a split per seed, each seed draws its forget set from
// its own training split, trains its own shadows (one RMIA setting per
// seed) and the study is as complete as with one split.
func TestRunSplits(t *testing.T) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	ds := []Data{
		{Train: rowsOf(240, 1), Val: rowsOf(80, 2), Test: rowsOf(120, 3), SplitSeed: 7},
		{Train: rowsOf(200, 4), Val: rowsOf(80, 5), Test: rowsOf(120, 6), SplitSeed: 8},
	}
	cfg := Config{
		Seeds: []uint64{1, 2}, Fraction: 0.2, Shadows: 8, ULiRAModels: 3, ForgetRows: 20,
		Arch:  mlp.Arch{Inputs: 6, Hidden: []int{12, 6}, Classes: 2, Dropout: 0.1},
		Train: train.Seed, FineTune: train.SeedFineTune,
		Methods: func(float64) []unlearn.Method {
			return []unlearn.Method{unlearn.Retrain{}, unlearn.Retrain{Replica: 2}, unlearn.Identity{}}
		},
	}
	cfg.Train.MaxEpochs, cfg.Train.Patience = 4, 2
	st, err := RunSplits(context.Background(), be, ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.RMIA != nil || len(st.RMIASplits) != 2 {
		t.Errorf("RMIA %v, %d per-split settings; want one per seed and no shared one", st.RMIA, len(st.RMIASplits))
	}
	for i, f := range st.ForgetSets {
		if f.SplitSeed != ds[i].SplitSeed || len(f.Rows) != 20 || f.Rows[len(f.Rows)-1] >= ds[i].Train.Rows() {
			t.Errorf("seed %d: forget set %+v, want 20 rows of split %d", i, f, ds[i].SplitSeed)
		}
	}
	if len(st.Methods) != 3 || st.Verdicts == nil {
		t.Fatalf("%d methods, verdicts %v", len(st.Methods), st.Verdicts != nil)
	}
	if _, err := RunSplits(context.Background(), be, ds[:1], cfg); err == nil {
		t.Error("one split for two seeds was accepted")
	}
}
