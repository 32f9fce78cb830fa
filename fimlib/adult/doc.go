// Package adult loads the UCI Adult (Census Income) data set and prepares it
// the way the seed notebook does: cleaned, one-hot encoded, split into
// stratified train/validation/test sets, and standard-scaled.
//
// # Entry points
//
//   - [ResolveDir] finds the data directory (flag, $FIMPRUNE_DATA, the user
//     cache, or a checksum-verified download into the cache); [Resolver] is
//     the configurable form used by tests.
//   - [Load] reads adult.data and adult.test from a directory, verifying their
//     pinned SHA-256 sums; [LoadFiles] takes explicit paths and [Options]
//     (custom sums or none, for small generated files).
//   - [Split] makes the seeded stratified train/validation/test split.
//   - [FitScaler] and [Scaler.Apply] standardise features.
//   - [ParseDeletionSpec], [DeletionSpec.Select] and [Retained] choose the
//     rows to forget and the rows kept.
//   - [RowID], [ParseRowID], [Dataset.RowID] and [Dataset.Index]: the stable
//     id of a row (file and line of the original files).
//
// # Conventions
//
// A row id is an index into the cleaned [Dataset] (0-based; the adult.data
// rows first, then adult.test, each in file order). [Splits], deletion sets
// and retained sets are slices of row ids. Matrices are row-major []float32;
// [Dataset.X] is unscaled. An index depends on which rows cleaning drops; the
// stable name of a row, for records that outlive a run (model cards), is its
// [RowID]: "adult.data:LINE" or "adult.test:LINE", the 1-based line of the
// original file (adult.test's header is its line 1). [Dataset.RowID] and
// [Dataset.Index] convert between the two.
//
// Cleaning follows the seed protocol (docs/protocol.md, "Data"):
// adult.data and adult.test are concatenated (48,842 rows), every row with a
// "?" field is dropped (45,222 rows remain), and the income label is 1 for
// ">50K" or ">50K." and 0 for "<=50K" or "<=50K.". The 8 categorical columns
// are one-hot encoded as pandas get_dummies(drop_first=True) does: levels are
// collected from all cleaned rows (train and test together, as the notebook
// does on its concatenated frame), sorted in byte order, and the first level
// is dropped. Feature order is the 6 numeric columns in file order, then the
// dummies column by column, giving [NumFeatures] = 96 features named "age",
// …, "workclass=Private", ….
//
// Randomness comes only from seeds passed in (math/rand/v2 PCG), so every
// result is reproducible for a given seed and Go release.
//
// The scaler must be fit on the training split only. The seed notebook fit it
// on all rows, which leaks test statistics into training; the protocol notes
// the effect on accuracy is below 0.1 points.
package adult
