package experiment

import (
	"fmt"
	"slices"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
)

// cards returns the model card of every checkpoint in sets (by checkpoint
// name). Each row set is formed again from its spec and compared with the
// rows the session used, so a card never names rows other than the ones the
// model saw (data prepared otherwise than by [Prepare] is refused).
func (s *Session) cards(sets map[string][]mlp.Tensor) (map[string]*modelcard.Card, error) {
	d := s.d
	split := func(name string) modelcard.RowSpec {
		return modelcard.RowSpec{Split: name, SplitSeed: d.SplitSeed}
	}
	deletion := func(keep string) modelcard.RowSpec {
		spec := split(modelcard.SplitTrain)
		spec.Deletion = &modelcard.DeletionDraw{Spec: d.DeletionSpec, Seed: d.DeletionSeed, Keep: keep}
		return spec
	}
	rowSet := func(spec modelcard.RowSpec, rows []int) (modelcard.RowSet, error) {
		rs, err := modelcard.NewRowSet(d.Set, spec, rows)
		if err == nil {
			err = rs.Verify(d.Set)
		}
		if err != nil {
			return modelcard.RowSet{}, fmt.Errorf("model cards: the rows of %s: %w", spec, err)
		}
		return rs, nil
	}
	trainRows, err := rowSet(split(modelcard.SplitTrain), d.Splits.Train)
	if err != nil {
		return nil, err
	}
	valRows, err := rowSet(split(modelcard.SplitVal), d.Splits.Val)
	if err != nil {
		return nil, err
	}
	retained, err := rowSet(deletion(modelcard.KeepRetained), d.RetainedRows)
	if err != nil {
		return nil, err
	}
	forget, err := rowSet(deletion(modelcard.KeepDeleted), d.DeletionRows)
	if err != nil {
		return nil, err
	}
	validation := func(t train.Config) *modelcard.RowSet {
		if t.Patience > 0 {
			return &valRows
		}
		return nil
	}

	rc := s.res.Config
	env := s.res.Environment
	base := func(name string, params []mlp.Tensor) *modelcard.Card {
		tensors := make([]modelcard.TensorInfo, len(params))
		for i, p := range params {
			tensors[i] = modelcard.TensorInfo{Name: p.Name, Shape: slices.Clone(p.Shape)}
		}
		return &modelcard.Card{
			Schema: modelcard.Schema, Name: name, ParamsSHA256: modelcard.ParamsHash(params),
			Model: modelcard.Model{Kind: "mlp", Inputs: rc.Model.Inputs, Hidden: slices.Clone(rc.Model.Hidden), Classes: rc.Model.Classes,
				Dropout: rc.Model.Dropout, Params: rc.Model.Params, Init: rc.Model.Init, Tensors: tensors},
			Data: modelcard.Data{Name: s.res.Dataset.Name, SHA256: d.Set.SHA256, RowIDs: modelcard.RowIDScheme, Rows: d.Set.Rows(),
				SplitSeed: d.SplitSeed, Features: slices.Clone(d.Set.Features),
				Splits: modelcard.Splits{Train: len(d.Splits.Train), Val: len(d.Splits.Val), Test: len(d.Splits.Test)}},
			Scaler: modelcard.Scaler{Kind: "standard", Mean: slices.Clone(d.Scaler.Mean), Std: slices.Clone(d.Scaler.Std), FitRows: trainRows},
			Training: modelcard.Training{Seed: s.cfg.Seed,
				DropoutSeed: subSeed(s.cfg.Seed, name+"/shuffle"), ShuffleSeed: subSeed(s.cfg.Seed, name+"/shuffle")},
			Build: modelcard.Build{GoVersion: env.GoVersion, GomlxVersion: env.GomlxVersion, Backend: env.Backend,
				GOEXPERIMENT: env.GOEXPERIMENT, GOOS: env.GOOS, GOARCH: env.GOARCH},
		}
	}
	fromScratch := func(name string, rows modelcard.RowSet) *modelcard.Card {
		c := base(name, sets[name])
		init := subSeed(s.cfg.Seed, name+"/init")
		c.Training.InitSeed, c.Training.Recipe = &init, rc.Train
		c.TrainedRows, c.ValidationRows = rows, validation(s.cfg.Train)
		return c
	}

	out := map[string]*modelcard.Card{}
	if _, ok := sets["full"]; ok {
		out["full"] = fromScratch("full", trainRows)
	}
	if _, ok := sets["retrain"]; ok {
		out["retrain"] = fromScratch("retrain", retained)
	}
	for _, f := range s.cfg.Fractions {
		name := PrunedName(f)
		params, ok := sets[name]
		if !ok {
			continue
		}
		full, ok := out["full"]
		if !ok {
			return nil, fmt.Errorf("model cards: %s has no parent card (no full model)", name)
		}
		c := base(name, params)
		parent := full.ParamsSHA256
		c.Parent = &parent
		c.Method = &modelcard.Method{
			ID:     results.MethodID{Family: results.FamilyFIM, Fraction: f, Recipe: recipeName(s.cfg.FineTune)},
			Fisher: string(s.cfg.Fisher), Forget: forget,
		}
		c.Training.Recipe, c.Training.ScratchRecipe = rc.FineTune, rc.Train
		c.TrainedRows, c.ValidationRows = retained, validation(s.cfg.FineTune)
		out[name] = c
	}
	for name, c := range out {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("model card of %s: %w", name, err)
		}
	}
	if len(out) != len(sets) {
		return nil, fmt.Errorf("model cards: %d cards for %d checkpoints", len(out), len(sets))
	}
	return out, nil
}

// recipeName names the fine-tuning recipe c is, results.RecipeSeed or
// results.RecipeFast, or "" for another.
func recipeName(c train.Config) string {
	same := func(a, b train.Config) bool {
		return a.LearningRate == b.LearningRate && a.BatchSize == b.BatchSize && a.MaxEpochs == b.MaxEpochs &&
			a.Patience == b.Patience && a.AdamEpsilon == b.AdamEpsilon
	}
	switch {
	case same(c, train.SeedFineTune):
		return results.RecipeSeed
	case same(c, train.FastFineTune):
		return results.RecipeFast
	}
	return ""
}
