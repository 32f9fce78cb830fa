package deletion

import (
	"fmt"
	"io"
	"os"

	"github.com/fimprune/fimprune/fimlib/results"
)

// MaxBytes bounds the size of a record Decode accepts.
const MaxBytes = 16 << 20

// SchemaError reports a record of another schema.
type SchemaError struct{ Got string }

func (e *SchemaError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("deletion record: no \"schema\" field (want %q)", Schema)
	}
	return fmt.Sprintf("deletion record: unsupported schema %q (this version reads %q)", e.Got, Schema)
}

// Marshal encodes r as results files are encoded: indented JSON with a
// trailing newline, HTML escaping off, numbers in Go's shortest round-trip
// form.
func Marshal(r *Record) ([]byte, error) { return results.Marshal(r) }

// Decode reads a record from r, refusing another schema, unknown fields,
// data after the record, more than [MaxBytes], and a record that fails
// [Record.Validate].
func Decode(r io.Reader) (*Record, error) {
	var rec Record
	err := results.DecodeStrict(r, MaxBytes, "deletion record", func(schema string) error {
		if schema != Schema {
			return &SchemaError{Got: schema}
		}
		return nil
	}, &rec)
	if err != nil {
		return nil, err
	}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Read decodes the record at path.
func Read(path string) (*Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rec, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rec, nil
}
