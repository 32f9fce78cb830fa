package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Row is one resolved line of the table: Refs holds one value per reference
// column; NaN marks a side without the figure.
type Row struct {
	Label string
	Unit  Unit
	Go    float64
	Refs  []float64
}

// Ratio is Go ÷ the i-th reference for costs (time, memory), NaN where it
// has no meaning.
func (r Row) Ratio(i int) float64 {
	ref := r.Refs[i]
	if !r.Unit.hasRatio() || math.IsNaN(r.Go) || math.IsNaN(ref) || ref == 0 {
		return math.NaN()
	}
	return r.Go / ref
}

// Resolve looks up each figure's value in each reference run, one column per
// run (a nil run gives an empty column).
func Resolve(figs []Figure, refs []*Reference) []Row {
	rows := make([]Row, len(figs))
	for i, f := range figs {
		rows[i] = Row{Label: f.Label, Unit: f.Unit, Go: f.Go, Refs: make([]float64, len(refs))}
		for j, ref := range refs {
			rows[i].Refs[j] = math.NaN()
			if f.Ref == nil || ref == nil {
				continue
			}
			if v, ok := f.Ref(ref); ok {
				rows[i].Refs[j] = v
			}
		}
	}
	return rows
}

// HeaderLine is one "key: value" line above the table.
type HeaderLine struct{ Key, Value string }

// Table is the harness's report.
type Table struct {
	Header []HeaderLine
	// Columns names the reference runs, one value column and one ratio
	// column each ("PyTorch", "PyTorch + OpenBLAS").
	Columns []string
	Rows    []Row
	Notes   []string
}

// titles returns the column titles.
func (t Table) titles() []string {
	out := []string{"benchmark", "fimprune (Go)"}
	for _, c := range t.Columns {
		out = append(out, c, "Go ÷ "+c)
	}
	return out
}

// cells returns a row's cells in title order.
func (t Table) cells(r Row) []string {
	out := []string{r.Label, formatValue(r.Go, r.Unit)}
	for i := range t.Columns {
		out = append(out, formatValue(r.Refs[i], r.Unit), formatRatio(r.Ratio(i)))
	}
	return out
}

// WriteText writes the table for a terminal.
func (t Table) WriteText(w io.Writer) error {
	for _, h := range t.Header {
		fmt.Fprintf(w, "%s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintln(w)
	if err := writeTextGrid(w, t.titles(), t.allCells()); err != nil {
		return err
	}
	for _, n := range t.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

// WriteMarkdown writes the table as GitHub-flavoured Markdown, for BENCHMARKS.md.
func (t Table) WriteMarkdown(w io.Writer) error {
	for _, h := range t.Header {
		fmt.Fprintf(w, "- %s: %s\n", h.Key, escapeCell(h.Value))
	}
	fmt.Fprintln(w)
	if err := writeMarkdownGrid(w, t.titles(), t.allCells(), 1); err != nil {
		return err
	}
	if len(t.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range t.Notes {
			fmt.Fprintf(w, "- %s\n", escapeCell(n))
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func (t Table) allCells() [][]string {
	out := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = t.cells(r)
	}
	return out
}

// writeTextGrid writes titles and rows in aligned columns.
func writeTextGrid(w io.Writer, titles []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(titles, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// writeMarkdownGrid writes titles and rows as a Markdown table; the columns
// from index rightFrom on are right-aligned (numbers).
func writeMarkdownGrid(w io.Writer, titles []string, rows [][]string, rightFrom int) error {
	fmt.Fprintf(w, "| %s |\n", strings.Join(titles, " | "))
	fmt.Fprintf(w, "|%s%s\n", strings.Repeat(" --- |", rightFrom), strings.Repeat(" ---: |", len(titles)-rightFrom))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = escapeCell(c)
		}
		if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")); err != nil {
			return err
		}
	}
	return nil
}

// escapeCell keeps a pipe from splitting a Markdown cell.
func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// formatValue prints v in its unit; a missing value is a dash.
func formatValue(v float64, u Unit) string {
	if math.IsNaN(v) {
		return "—"
	}
	switch u {
	case Seconds:
		return significant(v, 3) + " s"
	case Epochs:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case Accuracy:
		return strconv.FormatFloat(v, 'f', 4, 64)
	case Megabytes:
		return strconv.FormatFloat(v, 'f', 0, 64) + " MB"
	case RelDiff:
		return strconv.FormatFloat(v, 'e', 1, 64)
	case Ratio:
		return significant(v, 2) + "×"
	}
	return significant(v, 3) + " " + string(u)
}

func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return ""
	}
	return significant(r, 2) + "×"
}

// significant prints v with n significant digits in fixed notation (no
// exponent: 0.0172, 67.3, 1234).
func significant(v float64, n int) string {
	if v == 0 || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	decimals := n - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(v, 'f', max(decimals, 0), 64)
}
