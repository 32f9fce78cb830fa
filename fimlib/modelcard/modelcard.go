// Package modelcard defines the model card that fimprune writes beside every
// checkpoint (checkpoints/<name>/card.json, schema "fimprune/modelcard/v2"):
// a self-contained record of what a set of parameters is and where it came
// from, so that a checkpoint can be checked, and later unlearned from, without
// the run that made it. docs/modelcard.md describes every field.
//
// A card holds the data's SHA-256 sums, the split seed, the scaler's
// parameters, the feature names, the architecture, the training recipe and
// its seeds, the rows the model trained on (a spec that recomputes them, their
// count and a SHA-256 over their stable row ids), the checkpoint's content
// hash and, for an unlearned model, its parent's content hash and the method.
//
// Entry points:
//
//   - [Card] (the schema), [Read] / [Decode] (which refuse another schema
//     with a [*SchemaError], unknown fields, and invalid values with a
//     [*FieldError]), [Write] (validated, atomic) and [Card.Validate];
//   - [ParamsHash]: the content hash of a set of parameters, over their
//     names, shapes and float32 bits, not over a checkpoint's files;
//   - [RowSpec], [NewRowSet], [RowSet.Verify] and [RowIDsHash]: the rows a
//     model trained on, named by their stable ids (adult.RowID);
//   - [Card.VerifyData]: everything a verifier holding the UCI files can
//     recompute (sums, features, scaler, every row set).
//
// The package is plain Go (no gomlx), so that the report and other tools can
// read cards without the compute stack.
package modelcard

import (
	"fmt"
	"io"
	"os"

	"github.com/fimprune/fimprune/fimlib/results"
)

// Schema is the schema identifier of the cards this package writes.
const Schema = "fimprune/modelcard/v2"

// SchemaV1 is the schema before row sets could list rows (RowSpec.Minus and
// RowSpec.Only); [Decode] still reads it, as a v2 card without those fields.
const SchemaV1 = "fimprune/modelcard/v1"

// File is the card's file name inside a checkpoint directory.
const File = "card.json"

// RowIDScheme names how row ids are written (Data.RowIDs): "FILE:LINE" of
// the original UCI files, see adult.RowID.
const RowIDScheme = "adult-file-line/v1"

// MaxBytes bounds the size of a card Decode accepts.
const MaxBytes = 16 << 20

// Card is the model card of one checkpoint.
type Card struct {
	// Schema is [Schema].
	Schema string `json:"schema"`
	// Name is the model's name in its run, which is also its checkpoint
	// directory's name: "full", "retrain", "pruned-0.1", ….
	Name string `json:"name"`
	// ParamsSHA256 is the checkpoint's content hash: [ParamsHash] of its
	// parameters in the order of Model.Tensors.
	ParamsSHA256 string `json:"params_sha256"`
	// Parent is the content hash of the model this one was unlearned from
	// (for pruned-<f>: the full model's); nil for a model trained from
	// scratch. It is set exactly when Method is.
	Parent *string `json:"parent_params_sha256,omitempty"`
	// TrainedRows are the rows whose information the model may hold: for a
	// model trained from scratch, the rows it trained on; for an unlearned
	// model, its parent's trained rows minus the forgotten ones (what the
	// deletion claims; fim-prune also fine-tunes on exactly these rows).
	TrainedRows RowSet `json:"trained_rows"`
	// ValidationRows are the rows whose loss chose the training's best epoch
	// (early stopping); present exactly when Training.Recipe.Patience > 0.
	// They are not trained on, but they choose among the weights.
	ValidationRows *RowSet `json:"validation_rows,omitempty"`
	// Method is how an unlearned model was made from its parent; nil for a
	// model trained from scratch.
	Method *Method `json:"method,omitempty"`
	// Model is the architecture and the parameter tensors' names and shapes.
	Model Model `json:"model"`
	// Data is the data set the card's rows are rows of.
	Data Data `json:"data"`
	// Scaler is the feature standardisation the model's inputs go through.
	Scaler Scaler `json:"scaler"`
	// Training is the training step that produced these parameters: from
	// scratch, or the method's fine-tuning after its edit.
	Training Training `json:"training"`
	// Build is the software that computed the parameters (numbers differ in
	// the last bits across backends and builds, so a content hash is
	// reproducible only with the same build).
	Build Build `json:"build"`
}

// Method is how an unlearned model was made from its parent.
type Method struct {
	// ID is the method's family and settings, as results files write them
	// (results.MethodID: "fim-prune" with its fraction, …). Recipe is
	// "seed" or "fast" when the fine-tuning is one of those recipes, and
	// empty for another (Training.Recipe holds the numbers either way).
	ID results.MethodID `json:"id"`
	// Fisher is the kind of Fisher information scored, "empirical" or
	// "true", for the families that use one (fim-prune, ratio-prune, ssd);
	// empty otherwise.
	Fisher string `json:"fisher,omitempty"`
	// Forget are the rows the method was asked to forget.
	Forget RowSet `json:"forget_rows"`
}

// Model describes the network and its parameters.
type Model struct {
	// Kind is "mlp": Inputs → Hidden[0] → … → Classes dense layers with ReLU,
	// and dropout after each hidden layer while training.
	Kind    string  `json:"kind"`
	Inputs  int     `json:"inputs"`
	Hidden  []int   `json:"hidden"`
	Classes int     `json:"classes"`
	Dropout float64 `json:"dropout"`
	// Params is the number of scalar parameters, the sum of the tensors' sizes.
	Params int `json:"params"`
	// Init is how a model trained from scratch was initialised.
	Init string `json:"init"`
	// Tensors are the parameter tensors in the order ParamsSHA256 hashes
	// them (mlp.Arch.Init's: per layer, weights [in, out], then biases [out]).
	Tensors []TensorInfo `json:"tensors"`
}

// TensorInfo is one parameter tensor's name and shape.
type TensorInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Data identifies the data set and how it was cleaned and split.
type Data struct {
	// Name is the data set's name, "UCI Adult".
	Name string `json:"name"`
	// SHA256 maps each input file's role ("adult.data", "adult.test") to
	// the hex SHA-256 of the file read.
	SHA256 map[string]string `json:"sha256"`
	// RowIDs is the scheme of every row id in this card, [RowIDScheme].
	RowIDs string `json:"row_ids"`
	// Rows is the number of rows left after cleaning (rows with "?" dropped).
	Rows int `json:"rows"`
	// SplitSeed is the seed of the stratified train/validation/test split
	// (adult.Split).
	SplitSeed int64 `json:"split_seed"`
	// Splits are the sizes of the three splits.
	Splits Splits `json:"splits"`
	// Features are the model's inputs, in order.
	Features []string `json:"feature_names"`
}

// Splits are the sizes of the train, validation and test splits.
type Splits struct {
	Train int `json:"train"`
	Val   int `json:"val"`
	Test  int `json:"test"`
}

// Scaler is a standard scaler: input j is (x_j − Mean[j]) / Std[j].
type Scaler struct {
	// Kind is "standard".
	Kind string    `json:"kind"`
	Mean []float64 `json:"mean"`
	// Std is the population standard deviation (ddof = 0), 1 for a feature
	// constant over FitRows.
	Std []float64 `json:"std"`
	// FitRows are the rows Mean and Std were computed on.
	FitRows RowSet `json:"fit_rows"`
}

// Training is one training run: the recipe and the seeds of its random
// streams.
type Training struct {
	// Seed is the run's seed (-seed), from which the seeds below derive.
	Seed uint64 `json:"seed"`
	// InitSeed is the seed of mlp.Arch.Init for a model trained from
	// scratch; nil for an unlearned model, which starts from its parent.
	InitSeed *uint64 `json:"init_seed,omitempty"`
	// DropoutSeed seeds the dropout masks, ShuffleSeed the batch order
	// (fimlib/train draws both from one seed, so the two are equal in
	// cards written since; older cards have distinct values).
	DropoutSeed uint64 `json:"dropout_seed"`
	ShuffleSeed uint64 `json:"shuffle_seed"`
	// Recipe is the optimiser and its settings (results.TrainConfig). It is
	// absent (the zero value) for a model made by a method that does not
	// train (ssd, identity; schema v2), whose seeds above are then unused.
	Recipe results.TrainConfig `json:"recipe,omitzero"`
	// ScratchRecipe is, for an unlearned model (schema v2), the recipe its
	// ancestor trained from scratch with: what retraining without the
	// forgotten rows, and the reference models of a verification, use.
	// Absent for a model trained from scratch, whose Recipe it is.
	ScratchRecipe results.TrainConfig `json:"scratch_recipe,omitzero"`
}

// Build names the software that computed the parameters.
type Build struct {
	GoVersion    string `json:"go_version"`
	GomlxVersion string `json:"gomlx_version"`
	Backend      string `json:"backend"`
	GOEXPERIMENT string `json:"goexperiment"`
	GOOS         string `json:"goos"`
	GOARCH       string `json:"goarch"`
}

// SchemaError reports a card of another schema.
type SchemaError struct{ Got string }

func (e *SchemaError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("modelcard: no \"schema\" field (want %q)", Schema)
	}
	return fmt.Sprintf("modelcard: unsupported schema %q (this version reads %q and %q)", e.Got, Schema, SchemaV1)
}

// FieldError is a field of a [Card] that [Card.Validate] refuses.
type FieldError struct {
	// Path is the field's JSON path, e.g. "trained_rows.count".
	Path string
	// Problem says what the field holds and what was expected.
	Problem string
}

func (e *FieldError) Error() string { return "modelcard: invalid " + e.Path + ": " + e.Problem }

// Marshal encodes c as results files are encoded: indented JSON with a
// trailing newline, HTML escaping off, numbers in Go's shortest round-trip
// form (so the float64 scaler values and uint64 seeds are exact).
func Marshal(c *Card) ([]byte, error) { return results.Marshal(c) }

// Decode reads a card from r, refusing another schema, unknown fields, data
// after the card, more than [MaxBytes], and a card that fails
// [Card.Validate].
func Decode(r io.Reader) (*Card, error) {
	var c Card
	err := results.DecodeStrict(r, MaxBytes, "modelcard", func(schema string) error {
		if schema != Schema && schema != SchemaV1 {
			return &SchemaError{Got: schema}
		}
		return nil
	}, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Read decodes the card at path (a card.json).
func Read(path string) (*Card, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Write validates c and stores it at path atomically (results.WriteFileAtomic:
// a temporary file beside path, synced, renamed over it).
func Write(path string, c *Card) error {
	if err := c.Validate(); err != nil {
		return err
	}
	data, err := Marshal(c)
	if err != nil {
		return fmt.Errorf("modelcard: %w", err)
	}
	return results.WriteFileAtomic(path, data)
}
