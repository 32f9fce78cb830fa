// Package deletion defines the record of one honoured deletion request
// (deletion.json, schema "fimprune/deletion/v1") and the model directory's
// ledger of them (ledger.jsonl, a hash chain), both written by
// scripts/forget and read by the report. docs/deletion.md describes every
// field.
//
// A [Record] says what was asked (the rows, by stable id and by the SHA-256
// of each row's original bytes, never the rows themselves), what was done
// (input and output checkpoint hashes, data hashes, the method, its
// settings and seeds, timings), how it was checked (the membership test
// against reference models trained without the rows, with its power
// statement and verdict) and what a holder of both the old and the new
// model could learn from their difference.
//
// The ledger ([Entry], [ReadLedger], [CheckChain], [NewEntry]) is
// append-only: every line carries the SHA-256 of the line before it, so a
// changed, dropped or reordered line breaks the chain at that line.
//
// The package is plain Go (no gomlx), so that the report can read records
// without the compute stack. It computes no statistics: fimlib/forget does,
// and stores them here.
package deletion

import (
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
)

// Schema is the schema of the records this package writes and reads.
const Schema = "fimprune/deletion/v1"

// File is the record's file name in the output model directory.
const File = "deletion.json"

// LedgerFile is the ledger's file name in a model directory.
const LedgerFile = "ledger.jsonl"

// Verdicts of a verification.
const (
	// Pass: the deleted rows look like rows the model never saw, to within
	// the margin, and the test could see them in the model before deletion.
	Pass = "pass"
	// Fail: the model still tells the deleted rows apart from unseen rows
	// more than models that never trained on them do.
	Fail = "fail"
	// Inconclusive: neither; the reason says which condition was not met.
	Inconclusive = "inconclusive"
)

// TestName names the verification's membership test and its version.
const TestName = "offline-lira-auc/v1"

// Record is one deletion request and what was done about it.
type Record struct {
	// Schema is [Schema].
	Schema string `json:"schema"`
	// Created is when the record was written, RFC 3339 in UTC.
	Created string `json:"created"`
	// Request is what was asked.
	Request Request `json:"request"`
	// Input is the model the rows were deleted from, Output the model
	// written.
	Input  Checkpoint `json:"input"`
	Output Checkpoint `json:"output"`
	// Data names the data files (role → SHA-256), verified against the
	// input's model card before anything ran.
	Data map[string]string `json:"data_sha256"`
	// Method is how Output was made from Input. With a fallback it is the
	// retraining; the first attempt is in Fallback.
	Method Method `json:"method"`
	// Verification is the membership test of Output; nil when it was
	// switched off (-verify 0).
	Verification *Verification `json:"verification,omitempty"`
	// Fallback is set when the first method's verdict was not "pass" and
	// the model was retrained from scratch instead (-fallback retrain).
	Fallback *Fallback `json:"fallback,omitempty"`
	// Difference is the before/after ("difference") attack on Input and
	// Output.
	Difference Difference `json:"difference_attack"`
	// Seconds are the request's wall times.
	Seconds Timings `json:"seconds"`
	// Build is the software that ran the request.
	Build modelcard.Build `json:"build"`
}

// Request is the set of rows to delete.
type Request struct {
	// Source says where the ids came from: "file NAME" (the -rows file's
	// base name) or "deletion spec SPEC, seed N" (drawn from the input's
	// trained rows).
	Source string `json:"source"`
	// Count is the number of rows, len(Rows).
	Count int `json:"count"`
	// IDsSHA256 is modelcard.RowIDsHash of the ids: `LC_ALL=C sort | sha256sum`
	// of a file holding them one per line.
	IDsSHA256 string `json:"ids_sha256"`
	// Rows are the rows in RowID order (adult.RowID.Compare).
	Rows []Row `json:"rows"`
}

// Row is one deleted row: its stable id and a hash of its bytes.
type Row struct {
	// ID is the row's stable id, "adult.data:LINE" or "adult.test:LINE".
	ID string `json:"id"`
	// SHA256 is the SHA-256 of the row's physical line in the original
	// file, with its terminating "\n" (what `sed -n LINEp FILE | sha256sum`
	// prints). It lets the requester check that the right record was
	// deleted; it is a hash, not a secret: whoever can guess a row's values
	// can confirm the guess.
	SHA256 string `json:"sha256"`
}

// Checkpoint identifies a model directory.
type Checkpoint struct {
	// Dir is the directory as the command was given it, relative to the
	// output directory when it could be made so.
	Dir string `json:"dir"`
	// ParamsSHA256 is the content hash of the parameters
	// (modelcard.ParamsHash), checked against the model card.
	ParamsSHA256 string `json:"params_sha256"`
	// CardSHA256 is the SHA-256 of the model card file's bytes.
	CardSHA256 string `json:"card_sha256"`
	// TrainedRows is the card's count of rows the model trained on (for the
	// output: the input's minus the deleted ones).
	TrainedRows int `json:"trained_rows"`
	// TestAccuracy is the model's accuracy on the data's test split.
	TestAccuracy float64 `json:"test_accuracy"`
}

// Method is a deletion method and how it ran.
type Method struct {
	// ID is the method's family and settings.
	ID results.MethodID `json:"id"`
	// Default is true when the method was not chosen on the command line.
	Default bool `json:"default"`
	// Exact is true for retraining from scratch: the output never saw the
	// rows, by construction.
	Exact bool `json:"exact"`
	// Training is the recipe of the method's training step (the fine-tuning
	// after an edit, or the whole training for retraining); nil when the
	// method does not train (SSD, identity).
	Training *results.TrainConfig `json:"training,omitempty"`
	// Seed is the seed of the method's randomness.
	Seed uint64 `json:"seed"`
	// ParamsChanged counts the parameters whose value differs from the
	// input's; RelativeChange is ‖Δθ‖ / ‖θ‖.
	ParamsChanged  int     `json:"params_changed"`
	RelativeChange float64 `json:"relative_change"`
	// Seconds is the method's wall time.
	Seconds float64 `json:"seconds"`
}

// Fallback records a first attempt whose verdict was not "pass", after
// which the model was retrained from scratch.
type Fallback struct {
	// Reason says why: the first attempt's verdict and its reason.
	Reason string `json:"reason"`
	// Method is the first attempt's method; OutputParamsSHA256 the content
	// hash of the model it made (not written).
	Method             Method `json:"method"`
	OutputParamsSHA256 string `json:"output_params_sha256"`
	// Verification is the first attempt's verification.
	Verification Verification `json:"verification"`
}

// Verification is the per-row membership test of a model against reference
// models that never trained on the deleted rows.
//
// Each model M is scored on every deleted row x and every control row (test
// rows no model trained on) by s_M(x) = φ_M(x) − μ(x): its logit-scaled
// confidence in the true label minus the mean of the reference models' (the
// offline LiRA score). AUC(M) is the AUC of telling the deleted rows from
// the control rows by s_M: 0.5 when M treats them alike. The null
// distribution of the AUC comes from the references themselves: each one
// scored, with μ from the other K−1, as if it were the model under test.
type Verification struct {
	// Test is [TestName].
	Test string `json:"test"`
	// References is K, the number of reference models; Seeds their seeds.
	References int      `json:"references"`
	Seeds      []uint64 `json:"seeds"`
	// ReferenceKey is the content key the references are cached under: the
	// SHA-256 of everything that determines them.
	ReferenceKey string `json:"reference_key"`
	// Cached is true when the references were read from the cache rather
	// than trained by this request.
	Cached bool `json:"cached"`
	// ControlRows is the number of control rows (the test split).
	ControlRows int `json:"control_rows"`
	// Alpha is the one-sided level of every test; Power the power the MDE
	// is computed for; Margin the share of the input model's excess AUC the
	// output may keep and still pass.
	Alpha  float64 `json:"alpha"`
	Power  float64 `json:"power"`
	Margin float64 `json:"margin"`
	// NullAUCs are the references' leave-one-out AUCs; NullMean and NullSD
	// their mean and sample standard deviation.
	NullAUCs []float64 `json:"null_aucs"`
	NullMean float64   `json:"null_mean"`
	NullSD   float64   `json:"null_sd"`
	// Input and Output are the two models' scores.
	Input  Score `json:"input"`
	Output Score `json:"output"`
	// MDE is the smallest excess AUC over NullMean that the test detects
	// with probability Power at level Alpha, given K references: the power
	// statement.
	MDE float64 `json:"mde"`
	// PassBound is the AUC the output's upper bound must stay below to pass:
	// NullMean + Margin·(Input.AUC − NullMean).
	PassBound float64 `json:"pass_bound"`
	// Verdict is Pass, Fail or Inconclusive; Reason says why in a sentence.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// ReferenceSeconds is the time the references took (training them, or
	// reading them from the cache), TestSeconds the time of the test.
	ReferenceSeconds float64 `json:"reference_seconds"`
	TestSeconds      float64 `json:"test_seconds"`
}

// Score is one model's AUC and its test against the null.
type Score struct {
	// AUC of telling the deleted rows from the control rows.
	AUC float64 `json:"auc"`
	// T is (AUC − NullMean) / (NullSD·√(1 + 1/K)); P its one-sided p-value
	// under Student's t with K − 1 degrees of freedom.
	T float64 `json:"t"`
	P float64 `json:"p"`
	// Upper is the one-sided (1 − Alpha) upper prediction bound on the AUC.
	Upper float64 `json:"upper"`
}

// Difference is the before/after attack: rank rows by how much their loss
// rose from Input to Output, and see whether the deleted rows come first.
type Difference struct {
	// AUC of telling the deleted rows from the retained trained rows by the
	// loss change, ℓ_out(x) − ℓ_in(x): 0.5 when the change does not single
	// them out, 1 when every deleted row's loss rose more than every
	// retained row's.
	AUC float64 `json:"auc"`
	// ExactAUC is the same AUC for an exact deletion, Input against a model
	// retrained without the rows (the first reference model): deletion by
	// retraining leaves this trace too. NaN is not written: 0 when there
	// were no references.
	ExactAUC float64 `json:"exact_auc"`
	// Deleted and Retained are the numbers of rows ranked.
	Deleted  int `json:"deleted"`
	Retained int `json:"retained"`
	// MeanChangeDeleted and MeanChangeRetained are the mean loss changes
	// (nats) of the two groups.
	MeanChangeDeleted  float64 `json:"mean_change_deleted"`
	MeanChangeRetained float64 `json:"mean_change_retained"`
}

// Timings are the request's wall times in seconds.
type Timings struct {
	// Load: data, card and checkpoint checks. Method: the method (and the
	// fallback). References: training or reading the references.
	// Verification: the tests. Total: the whole command.
	Load         float64 `json:"load"`
	Method       float64 `json:"method"`
	References   float64 `json:"references"`
	Verification float64 `json:"verification"`
	Total        float64 `json:"total"`
}
