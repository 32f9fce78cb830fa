package study

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
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
	for i := range 20 {
		d.Forget = append(d.Forget, i*3)
	}
	cfg := Config{
		Seeds: []uint64{1, 2}, Fraction: 0.2, Shadows: 8, Bootstrap: 50,
		Arch:  mlp.Arch{Inputs: 6, Hidden: []int{12, 6}, Classes: 2, Dropout: 0.1},
		Train: train.Seed, FineTune: train.SeedFineTune,
	}
	cfg.Train.MaxEpochs, cfg.Train.Patience = 4, 2
	cfg.FineTune.MaxEpochs = 2
	st, err := Run(context.Background(), be, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Methods) != 9 {
		t.Fatalf("%d methods, want 9", len(st.Methods))
	}
	for _, m := range st.Methods {
		if len(m.TestAccuracy.Values) != 2 || len(m.Attacks) != 4 {
			t.Errorf("%s: %d seeds, %d attacks", m.Name, len(m.TestAccuracy.Values), len(m.Attacks))
		}
		if m.ULiRA == nil || m.Epsilon == nil {
			t.Fatalf("%s: no shadow attacks", m.Name)
		}
		if m.Epsilon.ModelsPerSide != 4 || m.ULiRA.Examples == 0 {
			t.Errorf("%s: ε %+v, U-LiRA %+v", m.Name, *m.Epsilon, *m.ULiRA)
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
	d := Data{Train: rowsOf(50, 1), Val: rowsOf(10, 2), Test: rowsOf(10, 3), Forget: []int{1, 2}}
	good := Config{Seeds: []uint64{1}, Fraction: 0.2, Arch: mlp.Arch{Inputs: 6, Hidden: []int{4}, Classes: 2}, Train: train.Seed, FineTune: train.SeedFineTune}
	if err := good.validate(d); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Config, *Data){
		"no seeds":       func(c *Config, _ *Data) { c.Seeds = nil },
		"fraction 1":     func(c *Config, _ *Data) { c.Fraction = 1 },
		"6 shadows":      func(c *Config, _ *Data) { c.Shadows = 6 },
		"repeated row":   func(_ *Config, d *Data) { d.Forget = []int{1, 1} },
		"row outside":    func(_ *Config, d *Data) { d.Forget = []int{50} },
		"everything out": func(_ *Config, d *Data) { d.Forget = complement(50, nil) },
	}
	for name, edit := range bad {
		c, dd := good, d
		edit(&c, &dd)
		if err := c.validate(dd); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
