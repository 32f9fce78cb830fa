// Package param holds the one data type that the model, the Fisher scores,
// the pruning masks and the deletion methods exchange: a named parameter
// tensor as plain Go data. It is a leaf (no imports), so that package mlp
// and package prune can share the type without importing each other.
package param

// Tensor is one named parameter tensor: scores or weights, flattened in
// row-major order. len(Values) must equal the product of Shape.
type Tensor struct {
	Name   string
	Shape  []int
	Values []float32
}
