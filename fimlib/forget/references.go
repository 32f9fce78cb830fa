package forget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

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

// referenceVersion changes whenever this package's way of training the
// references changes what they are, so that a cache written before is not
// reused; a change of the training step itself is [train.StepVersion],
// also in the key.
const referenceVersion = "fimprune/forget-references/v1"

// referenceKey is everything that determines a set of reference models;
// its SHA-256 (over its JSON) is the cache key.
type referenceKey struct {
	Version       string              `json:"version"`
	TrainStep     int                 `json:"train_step"`
	Data          map[string]string   `json:"data_sha256"`
	SplitSeed     int64               `json:"split_seed"`
	ScalerRows    string              `json:"scaler_rows_sha256"`
	Model         modelcard.Model     `json:"model"`
	TrainedRows   string              `json:"trained_rows_sha256"`
	TrainedCount  int                 `json:"trained_rows"`
	Recipe        results.TrainConfig `json:"recipe"`
	References    int                 `json:"references"`
	Seed          uint64              `json:"seed"`
	Backend       string              `json:"backend"`
	GomlxVersion  string              `json:"gomlx_version"`
	ValidationSet string              `json:"validation_rows_sha256,omitempty"`
}

// references are K models trained from scratch without the deleted rows.
type references struct {
	key    string
	seeds  []uint64
	params [][]mlp.Tensor
	cached bool
	// scores are the references' and the input model's scores, computed by
	// the first verification and reused by a second (after a fallback).
	scores   []Scores
	inScores *Scores
}

// referenceManifest is the cache entry's description, beside the models.
type referenceManifest struct {
	Key        string       `json:"key"`
	KeyFields  referenceKey `json:"key_fields"`
	Seeds      []uint64     `json:"seeds"`
	ParamsHash []string     `json:"params_sha256"`
	Created    string       `json:"created"`
}

const manifestFile = "references.json"

// referenceModels returns the request's reference models: from the cache
// when they are there (each checked against its recorded hash), else
// trained with the card's scratch recipe on the trained rows minus the
// request's, and cached.
func referenceModels(ctx context.Context, env unlearn.Env, o Options, card *modelcard.Card, d *data, idsHash string) (*references, error) {
	k := o.References
	if k < 3 {
		return nil, fmt.Errorf("-verify %d: the test needs at least 3 reference models", k)
	}
	// The rows the references train on are the output's trained rows: the
	// card's minus the request's.
	trainedHash := sha256.New()
	trainedHash.Write([]byte(card.TrainedRows.SHA256 + "\n" + idsHash))
	recipe := env.Train.Recipe()
	key := referenceKey{
		Version: referenceVersion, TrainStep: train.StepVersion, Data: card.Data.SHA256, SplitSeed: card.Data.SplitSeed,
		ScalerRows: card.Scaler.FitRows.SHA256, Model: card.Model,
		TrainedRows: hex.EncodeToString(trainedHash.Sum(nil)), TrainedCount: len(d.retain),
		Recipe: recipe, References: k, Seed: o.Seed, Backend: o.Backend.Name(),
	}
	key.Model.Tensors = nil
	if env.Train.Patience > 0 {
		key.ValidationSet = "val split, split seed " + strconv.FormatInt(card.Data.SplitSeed, 10)
	}
	keyJSON, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(keyJSON)
	r := &references{key: hex.EncodeToString(sum[:])}
	for j := range k {
		r.seeds = append(r.seeds, subSeed(o.Seed, r.key+"/"+strconv.Itoa(j)))
	}
	if o.CacheDir != "" {
		params, err := readReferences(filepath.Join(o.CacheDir, r.key), r, env.Arch)
		if err == nil {
			r.params, r.cached = params, true
			return r, nil
		}
		if !errors.Is(err, os.ErrNotExist) && o.Log != nil {
			fmt.Fprintf(o.Log, "forget: the cached references are unusable (%v); training them again\n", err)
		}
	}
	tasks := make([]unlearn.Task, k)
	for j := range tasks {
		tasks[j] = unlearn.Task{Name: fmt.Sprintf("reference-%d", j+1), Model: mlp.Clone(env.Arch.Init(r.seeds[j])),
			Retain: d.retain, Forget: d.forget, Seed: r.seeds[j]}
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "forget: training %d reference models without the rows (cache key %s)\n", k, short(r.key))
	}
	out, err := unlearn.Retrain{}.Unlearn(ctx, env, tasks)
	if err != nil {
		return nil, fmt.Errorf("reference models: %w", err)
	}
	for _, oc := range out {
		r.params = append(r.params, oc.Params)
	}
	if o.CacheDir != "" {
		if err := writeReferences(o.CacheDir, r, key); err != nil {
			return nil, fmt.Errorf("caching the reference models: %w", err)
		}
	}
	return r, nil
}

func readReferences(dir string, r *references, arch mlp.Arch) ([][]mlp.Tensor, error) {
	body, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, err
	}
	var m referenceManifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if m.Key != r.key || len(m.Seeds) != len(r.seeds) || len(m.ParamsHash) != len(r.seeds) {
		return nil, fmt.Errorf("%s describes another set of references", filepath.Join(dir, manifestFile))
	}
	params := make([][]mlp.Tensor, len(r.seeds))
	for j := range params {
		p, err := experiment.LoadCheckpoint(filepath.Join(dir, "ref-"+strconv.Itoa(j+1)), arch)
		if err != nil {
			return nil, err
		}
		if got := modelcard.ParamsHash(p); got != m.ParamsHash[j] {
			return nil, &HashError{Dir: filepath.Join(dir, "ref-"+strconv.Itoa(j+1)), Want: m.ParamsHash[j], Got: got, Source: manifestFile}
		}
		params[j] = p
	}
	return params, nil
}

// writeReferences stores r under cacheDir/key: written into a temporary
// directory and renamed, so that concurrent requests never see half an
// entry; when another process stored the same key first, its entry stays.
func writeReferences(cacheDir string, r *references, key referenceKey) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(cacheDir, "."+r.key[:12]+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	m := referenceManifest{Key: r.key, KeyFields: key, Seeds: r.seeds, Created: time.Now().UTC().Format(time.RFC3339)}
	for j, p := range r.params {
		dir := filepath.Join(tmp, "ref-"+strconv.Itoa(j+1))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		if err := experiment.SaveParams(dir, p); err != nil {
			return err
		}
		if err := experiment.SyncTree(dir); err != nil {
			return err
		}
		m.ParamsHash = append(m.ParamsHash, modelcard.ParamsHash(p))
	}
	body, err := results.Marshal(m)
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(tmp, manifestFile), body); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	final := filepath.Join(cacheDir, r.key)
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(filepath.Join(final, manifestFile)); statErr == nil {
			return nil // stored by another request meanwhile
		}
		return err
	}
	return results.SyncDir(cacheDir)
}

// verify runs the membership test of out (and of the input model in) against
// the references on the deleted rows and the test split.
func (r *references) verify(backend compute.Backend, arch mlp.Arch, in, out []mlp.Tensor, d *data, cfg TestConfig) (*deletion.Verification, error) {
	fy := make([]int32, len(d.forget))
	for i, p := range d.forget {
		fy[i] = d.pool.Y[p]
	}
	fd := d.pool.Select(d.forget)
	scores := func(params []mlp.Tensor) (Scores, error) {
		var s Scores
		for _, part := range []struct {
			d   train.Data
			dst *[]float64
		}{{fd, &s.F}, {d.test, &s.T}} {
			lp, err := logProbs(backend, arch, params, part.d)
			if err != nil {
				return s, err
			}
			if *part.dst, err = mia.ScoresFromLogProbs(mia.LogitConfidence, lp, part.d.Y); err != nil {
				return s, err
			}
		}
		return s, nil
	}
	if r.scores == nil {
		refs := make([]Scores, len(r.params))
		for j, p := range r.params {
			var err error
			if refs[j], err = scores(p); err != nil {
				return nil, err
			}
		}
		inS, err := scores(in)
		if err != nil {
			return nil, err
		}
		r.scores, r.inScores = refs, &inS
	}
	outS, err := scores(out)
	if err != nil {
		return nil, err
	}
	v, err := MembershipTest(r.scores, *r.inScores, outS, cfg)
	if err != nil {
		return nil, err
	}
	v.References, v.Seeds, v.ReferenceKey, v.Cached = len(r.params), r.seeds, r.key, r.cached
	return &v, nil
}
