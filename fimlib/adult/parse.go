package adult

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// columns are the 15 fields of adult.data and adult.test, as named in
// adult.names.
var columns = [...]string{
	"age", "workclass", "fnlwgt", "education", "education-num",
	"marital-status", "occupation", "relationship", "race", "sex",
	"capital-gain", "capital-loss", "hours-per-week", "native-country",
	"income",
}

// Indices into columns, in file order; the order is also the feature order.
var (
	numericCols     = [...]int{0, 2, 4, 10, 11, 12}
	categoricalCols = [...]int{1, 3, 5, 6, 7, 8, 9, 13}
)

const labelCol = 14

// Columns returns the names of the 15 fields of a data row, in file order.
func Columns() []string { return slices.Clone(columns[:]) }

// Sentinel errors wrapped by ParseError.Err; test them with errors.Is.
var (
	ErrFieldCount = errors.New("wrong number of fields")
	ErrNotNumber  = errors.New("not a number")
	ErrBadLabel   = errors.New("bad income label")
	ErrEmptyField = errors.New("empty field")
	ErrEmpty      = errors.New("no data rows")
)

// ParseError reports a malformed row. Err wraps one of the sentinel errors
// above (or a csv error such as csv.ErrBareQuote) and says what was expected.
type ParseError struct {
	File   string // path as given to LoadFiles
	Line   int    // 1-based; 0 when the error concerns the whole file
	Column int    // 1-based byte column; 0 when unknown
	Field  string // column name, e.g. "fnlwgt"; "" for row-level errors
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("adult: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns Err, so errors.Is matches the sentinels.
func (e *ParseError) Unwrap() error { return e.Err }

// rawRow is one cleaned row before encoding.
type rawRow struct {
	num   [len(numericCols)]float64
	cat   [len(categoricalCols)]string
	label int32
	// origin is where the row came from; parse fills Line (the line its
	// record starts on, 1-based, every physical line counted), LoadFiles File.
	origin RowID
}

var utf8BOM = []byte("\xef\xbb\xbf")

// parse reads one Adult file, dropping rows that contain a "?" field.
//
// Quirks of the UCI files handled here:
//   - Fields are separated by ", "; TrimLeadingSpace removes the space and
//     strings.TrimSpace any trailing blanks.
//   - adult.test starts with the line "|1x3 Cross validator". Comment = '|'
//     skips it (a data row cannot start with '|': its first field is age).
//   - Both files end with a blank line; csv.Reader skips blank lines.
//   - adult.test labels end with "." (">50K."); the dot is accepted in
//     either file.
//   - CRLF line ends and a UTF-8 byte order mark are accepted, for copies
//     that went through other tools.
//
// Rows with a "?" are dropped before their other fields are validated, as
// pandas drops them before any conversion.
func parse(path string, b []byte) ([]rawRow, error) {
	b = bytes.TrimPrefix(b, utf8BOM)
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '|'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = len(columns)
	r.ReuseRecord = true

	var rows []rawRow
	records := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *csv.ParseError
			if !errors.As(err, &ce) {
				return nil, &ParseError{File: path, Err: err}
			}
			if errors.Is(ce.Err, csv.ErrFieldCount) {
				return nil, &ParseError{File: path, Line: ce.StartLine,
					Err: fmt.Errorf("%w: got %d, want %d", ErrFieldCount, len(rec), len(columns))}
			}
			return nil, &ParseError{File: path, Line: ce.Line, Column: ce.Column, Err: ce.Err}
		}
		records++
		missing := false
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
			missing = missing || rec[i] == "?"
		}
		if missing {
			continue
		}
		fieldErr := func(col int, err error) error {
			line, column := r.FieldPos(col)
			return &ParseError{File: path, Line: line, Column: column, Field: columns[col], Err: err}
		}

		var row rawRow
		row.origin.Line, _ = r.FieldPos(0)
		for k, c := range numericCols {
			v, err := strconv.ParseFloat(rec[c], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fieldErr(c, fmt.Errorf("%w: got %q, want a finite number", ErrNotNumber, rec[c]))
			}
			row.num[k] = v
		}
		for k, c := range categoricalCols {
			if rec[c] == "" {
				return nil, fieldErr(c, fmt.Errorf("%w: want a category name", ErrEmptyField))
			}
			row.cat[k] = rec[c]
		}
		switch strings.TrimSuffix(rec[labelCol], ".") {
		case "<=50K":
			row.label = 0
		case ">50K":
			row.label = 1
		default:
			return nil, fieldErr(labelCol, fmt.Errorf("%w: got %q, want <=50K or >50K (optionally with a trailing \".\")", ErrBadLabel, rec[labelCol]))
		}
		rows = append(rows, row)
	}
	if records == 0 {
		return nil, &ParseError{File: path, Err: ErrEmpty}
	}
	return rows, nil
}
