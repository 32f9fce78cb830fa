// Package results defines fimprune's results file (results.json, schema
// "fimprune/results/v3"; v2 and v1 files are still read) and
// reads and writes it. It is plain Go with no compute dependencies (gonum's
// Student's t for [NewEstimate] aside), so that package report can read
// results without importing gomlx.
//
// Entry points: [Results] (the schema; docs/results-schema.md describes every
// field with its unit), [Read] / [Decode] (which refuse an unknown schema with
// a [*SchemaError] and invalid values with a [*FieldError]), [Write]
// (atomic), [WriteFileAtomic], [SeedSummary] (the seed notebook's
// inference_report_summary.json), and [Study] with [NewEstimate] (the
// multi-seed comparison of deletion methods that schema v2 added and v3
// extends with per-seed forget sets, shadow-model attacks and verdicts).
//
// Conventions: accuracies and attack scores are fractions in [0, 1], times are
// seconds of wall clock, fractions of pruned parameters are in (0, 1).
package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Schema is the schema identifier writers put in new files. Version 3
// changes the study section ([Study]: per-seed forget sets and shadow-model
// attacks, typed method identities, verdicts); everything else is as in
// version 2.
const Schema = "fimprune/results/v3"

// SchemaV2 added the optional top-level "study" section to version 1.
// [Decode] and [Results.Validate] still accept it.
const SchemaV2 = "fimprune/results/v2"

// SchemaV1 is the previous schema identifier. [Decode] and [Results.Validate]
// still accept it, for files without a study section; Marshal keeps whatever
// Results.Schema holds, so a v1 file read and written again stays v1.
const SchemaV1 = "fimprune/results/v1"

// supportedSchema reports whether this package reads schema s.
func supportedSchema(s string) bool { return s == Schema || s == SchemaV2 || s == SchemaV1 }

// Results is the whole record of one experiment run.
type Results struct {
	Schema      string      `json:"schema"`
	Config      Config      `json:"config"`
	Environment Environment `json:"environment"`
	Dataset     Dataset     `json:"dataset"`
	Models      Models      `json:"models"`
	Fisher      Fisher      `json:"fisher"`
	Best        Best        `json:"best"`
	Timings     Timings     `json:"timings"`
	// Study is the multi-seed comparison of deletion methods (schema v2
	// only; nil, and absent from the file, when the run made none).
	Study *Study `json:"study,omitempty"`
}

// Config is everything that determines the run's numbers, plus Parallel,
// which changes only its times.
type Config struct {
	Seed       uint64      `json:"seed"`
	SplitSeed  int64       `json:"split_seed"`
	Fractions  []float64   `json:"fractions"`
	Deletion   string      `json:"deletion"` // deletion spec, e.g. "first:100"
	FisherKind string      `json:"fisher_kind"`
	NonMembers int         `json:"non_members"` // test rows drawn as the attack's non-members
	Bootstrap  int         `json:"bootstrap"`   // resamples for the AUC confidence interval
	Model      ModelConfig `json:"model"`
	Train      TrainConfig `json:"train"`
	FineTune   TrainConfig `json:"finetune"`
	Selection  Selection   `json:"selection"`
	Backend    string      `json:"backend"`
	// Parallel is how many models were trained at once; per-model times are
	// wall times measured while sharing the machine with the others.
	Parallel int `json:"parallel"`
}

// ModelConfig describes the MLP.
type ModelConfig struct {
	Inputs  int     `json:"inputs"`
	Hidden  []int   `json:"hidden"`
	Classes int     `json:"classes"`
	Dropout float64 `json:"dropout"`
	Params  int     `json:"params"`
	Init    string  `json:"init"`
}

// TrainConfig is one training recipe.
type TrainConfig struct {
	Optimizer    string  `json:"optimizer"`
	LearningRate float64 `json:"learning_rate"`
	AdamEpsilon  float64 `json:"adam_epsilon"`
	BatchSize    int     `json:"batch_size"`
	MaxEpochs    int     `json:"max_epochs"`
	Patience     int     `json:"patience"` // 0: no early stopping
}

// Selection holds the weights of the seed's combined score.
type Selection struct {
	UtilityWeight float64 `json:"utility_weight"`
	PrivacyWeight float64 `json:"privacy_weight"`
}

// Environment says where and when the run happened. It is excluded from
// determinism checks, as are [Timings], the *_seconds fields and
// Config.Parallel: they describe how the run went, not what it computed.
type Environment struct {
	GoVersion    string `json:"go_version"`
	GomlxVersion string `json:"gomlx_version"`
	Backend      string `json:"backend"`
	GOEXPERIMENT string `json:"goexperiment"`
	GOOS         string `json:"goos"`
	GOARCH       string `json:"goarch"`
	CPU          string `json:"cpu"`
	Cores        int    `json:"cores"`
	Time         string `json:"time"` // RFC 3339, UTC, start of the run
}

// Dataset describes the data the run used.
type Dataset struct {
	Name     string            `json:"name"`
	Rows     int               `json:"rows"` // cleaned rows
	Features int               `json:"features"`
	Train    int               `json:"train"`
	Val      int               `json:"val"`
	Test     int               `json:"test"`
	Deletion int               `json:"deletion"`
	Retained int               `json:"retained"`
	SHA256   map[string]string `json:"sha256"` // file name → hex digest
	Scaler   string            `json:"scaler"` // which rows the standard scaler was fit on
	// DeletionRows are the row ids (indices into the cleaned data) forgotten.
	DeletionRows []int `json:"deletion_rows"`
	// FeatureNames are the model's inputs in order.
	FeatureNames []string `json:"feature_names"`
}

// Models holds every evaluated model.
type Models struct {
	Full    Model    `json:"full"`
	Retrain Model    `json:"retrain"`
	Pruned  []Pruned `json:"pruned"`
}

// Model is a model trained from scratch.
type Model struct {
	TestAccuracy float64       `json:"test_accuracy"`
	Classes      []ClassReport `json:"classes"`
	// TiedPredictions counts test rows whose class probabilities are exactly
	// equal; the arg-max then picks class 0, as numpy and torch do, so
	// those rows' accuracy is the tie-break's, not the model's.
	TiedPredictions int     `json:"tied_predictions"`
	Epochs          int     `json:"epochs"`
	BestEpoch       int     `json:"best_epoch"`
	TrainSeconds    float64 `json:"train_seconds"`
	MIA             MIA     `json:"mia"`            // loss-score attack (the seed's)
	MIAConfidence   MIA     `json:"mia_confidence"` // confidence-score attack
	Checkpoint      string  `json:"checkpoint"`     // directory, relative to results.json
}

// Pruned is one Fisher-pruned and fine-tuned model.
type Pruned struct {
	Fraction               float64       `json:"fraction"`
	PrunedParams           int           `json:"pruned_params"`
	TotalParams            int           `json:"total_params"`
	SeedRulePrunedParams   int           `json:"seed_rule_pruned_params"` // what the seed's percentile rule would prune
	SeedRuleThreshold      float64       `json:"seed_rule_threshold"`
	AccuracyBeforeFinetune float64       `json:"accuracy_before_finetune"`
	TestAccuracy           float64       `json:"test_accuracy"`
	Classes                []ClassReport `json:"classes"`
	TiedPredictions        int           `json:"tied_predictions"` // as in Model
	FinetuneSeconds        float64       `json:"finetune_seconds"`
	// DeletionSeconds is the cost of this deletion: Fisher + pruning + fine-tuning.
	DeletionSeconds float64      `json:"deletion_seconds"`
	Layers          []LayerCount `json:"layers"`
	MIA             MIA          `json:"mia"`
	MIAConfidence   MIA          `json:"mia_confidence"`
	Utility         float64      `json:"utility"`
	Privacy         float64      `json:"privacy"`
	CombinedScore   float64      `json:"combined_score"`
	Checkpoint      string       `json:"checkpoint"`
}

// LayerCount is how many entries of one parameter tensor were pruned.
type LayerCount struct {
	Name   string `json:"name"`
	Pruned int    `json:"pruned"`
	Total  int    `json:"total"`
}

// ClassReport is one row of a classification report on the test split.
type ClassReport struct {
	Class     int     `json:"class"`
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// MIA is one membership-inference attack on one model.
type MIA struct {
	Score                 string     `json:"score"` // "loss" (−cross-entropy) or "confidence" (p of the true class)
	Members               int        `json:"members"`
	NonMembers            int        `json:"non_members"`
	BestThresholdAccuracy float64    `json:"best_threshold_accuracy"` // chosen on the same rows it is scored on
	BestThreshold         float64    `json:"best_threshold"`
	AUC                   float64    `json:"auc"`
	AUCCI95               [2]float64 `json:"auc_ci95"`
	Advantage             float64    `json:"advantage"` // max |TPR − FPR|
	// ROC is the attack's ROC curve (absent in files that do not carry it).
	ROC *ROC `json:"roc,omitempty"`
}

// ROC is a ROC curve: points from (0, 0) to (1, 1) with FPR ascending, one
// per distinct score (member iff score ≥ cutoff).
type ROC struct {
	FPR []float64 `json:"fpr"`
	TPR []float64 `json:"tpr"`
}

// Fisher describes the Fisher scores used for pruning.
type Fisher struct {
	Kind string `json:"kind"` // "empirical" or "true"
	Rows int    `json:"rows"`
	// Seconds is the time to compute the kind used for pruning (it is part of
	// every fraction's deletion_seconds); the other kind is not included.
	Seconds float64       `json:"seconds"`
	Summary Stats         `json:"summary"`
	Tensors []TensorStats `json:"tensors"`
	// Other summarises the other kind of Fisher on the same rows, for comparison.
	Other *OtherFisher `json:"other,omitempty"`
}

// OtherFisher summarises the Fisher kind not used for pruning.
type OtherFisher struct {
	Kind    string `json:"kind"`
	Summary Stats  `json:"summary"`
	// SpearmanWithUsed is the rank correlation of its scores with the used kind's.
	SpearmanWithUsed float64 `json:"spearman_with_used"`
	// TopOverlap[i] is the share of the top Fractions[i] parameters the two kinds agree on.
	TopOverlap []float64 `json:"top_overlap"`
}

// Stats summarises a set of scores.
type Stats struct {
	Count  int     `json:"count"`
	Zeros  int     `json:"zeros"`
	Mean   float64 `json:"mean"`
	Max    float64 `json:"max"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	P99    float64 `json:"p99"`
	Sum    float64 `json:"sum"`
}

// TensorStats summarises one parameter tensor's scores, with a histogram of
// log10 of its non-zero scores (bin edges shared by all tensors).
type TensorStats struct {
	Name      string    `json:"name"`
	Shape     []int     `json:"shape"`
	Stats     Stats     `json:"stats"`
	Log10Bins []float64 `json:"log10_bins"` // len(Counts)+1 edges
	Counts    []int     `json:"counts"`
}

// Best is the pruned fraction with the highest combined score.
type Best struct {
	Fraction      float64 `json:"fraction"`
	CombinedScore float64 `json:"combined_score"`
}

// Timings are per-phase wall times in seconds. Phases that train several
// models (Train, PruneFinetune) run up to Config.Parallel of them at once, so
// a phase takes less than the sum of its models' own times.
type Timings struct {
	LoadData      float64 `json:"load_data_seconds"`
	Train         float64 `json:"train_seconds"` // full and retrain models, with evaluation
	Fisher        float64 `json:"fisher_seconds"`
	PruneFinetune float64 `json:"prune_finetune_seconds"` // every fraction, with evaluation
	// Write covers the checkpoints; Write and Total stop just before
	// results.json itself is written (a file cannot hold its own write time).
	Write float64 `json:"write_seconds"`
	Total float64 `json:"total_seconds"`
}

// SchemaError reports a results file of another schema.
type SchemaError struct{ Got string }

func (e *SchemaError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("results: no \"schema\" field (want %q)", Schema)
	}
	return fmt.Sprintf("results: unsupported schema %q (this version reads %q, %q and %q)", e.Got, Schema, SchemaV2, SchemaV1)
}

// Decode reads results JSON from r, refusing unknown schemas and fields and
// results that fail [Results.Validate]. It reads [Schema], [SchemaV2] and
// [SchemaV1] files; Results.Schema keeps the version read.
func Decode(r io.Reader) (*Results, error) {
	var res Results
	err := DecodeStrict(r, MaxBytes, "results", func(schema string) error {
		if !supportedSchema(schema) {
			return &SchemaError{Got: schema}
		}
		return nil
	}, &res)
	if err != nil {
		return nil, err
	}
	if err := res.Validate(); err != nil {
		return nil, err
	}
	return &res, nil
}

// DecodeStrict reads one JSON document of at most max bytes from r into v,
// as the project's versioned files are read: it passes the document's
// "schema" field to schema first (which refuses another schema with its own
// error), then decodes it refusing unknown fields and anything after the
// document. Other errors are prefixed with what ("results", …).
func DecodeStrict(r io.Reader, max int, what string, schema func(string) error, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return err
	}
	if len(data) > max {
		return fmt.Errorf("%s: larger than %d bytes", what, max)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := schema(head.Schema); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: data after the document", what)
	}
	return nil
}

// MaxBytes bounds the size of a results file Decode accepts.
const MaxBytes = 64 << 20

// Read decodes the results file at path.
func Read(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// Marshal encodes v as indented JSON with a trailing newline, without
// escaping <, > and & (the class labels "<=50K" stay readable). NaN and ±Inf,
// which JSON cannot hold, are an error.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write stores r at path atomically.
func Write(path string, r *Results) error {
	data, err := Marshal(r)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so a reader (or a crash) sees either the old file or
// the new one, never a torn one.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making the renames in it durable on
// filesystems that need it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// WithoutTimes returns a copy of r with what varies from run to run of one
// configuration removed: every wall time (the timings, each model's and
// method's seconds, the study's), the environment and the parallelism
// setting. Two runs with one seed, on one build, give equal copies however
// they were scheduled (models trained at once, study shards).
func (r *Results) WithoutTimes() *Results {
	c := *r
	c.Environment, c.Timings, c.Config.Parallel = Environment{}, Timings{}, 0
	c.Models.Full.TrainSeconds, c.Models.Retrain.TrainSeconds, c.Fisher.Seconds = 0, 0, 0
	c.Models.Pruned = append([]Pruned(nil), r.Models.Pruned...)
	for i := range c.Models.Pruned {
		c.Models.Pruned[i].FinetuneSeconds, c.Models.Pruned[i].DeletionSeconds = 0, 0
	}
	if r.Study != nil {
		c.Study = r.Study.WithoutTimes()
	}
	return &c
}

// WithoutTimes returns a copy of s with its wall times removed (the
// study's and each method's seconds).
func (s *Study) WithoutTimes() *Study {
	c := *s
	c.Seconds = 0
	c.Methods = append([]Method(nil), s.Methods...)
	for i := range c.Methods {
		c.Methods[i].Seconds = Estimate{}
	}
	return &c
}
