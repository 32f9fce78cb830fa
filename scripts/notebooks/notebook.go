package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Notebook is a Jupyter notebook (nbformat 4) as generic JSON, so that
// rewriting it keeps every field it does not touch.
type Notebook struct {
	raw   map[string]any
	Cells []Cell
}

// Cell is one cell of a Notebook; its fields alias the JSON it came from.
type Cell struct {
	raw map[string]any
}

// Output is one output of a code cell.
type Output struct {
	raw map[string]any
}

// ReadNotebook parses the notebook at path.
func ReadNotebook(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := ParseNotebook(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// ParseNotebook parses notebook JSON.
func ParseNotebook(data []byte) (*Notebook, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep numbers as written
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a notebook: %w", err)
	}
	cells, ok := raw["cells"].([]any)
	if !ok {
		return nil, fmt.Errorf("not a notebook: no cells")
	}
	nb := &Notebook{raw: raw}
	for i, c := range cells {
		m, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("cell %d is not an object", i)
		}
		nb.Cells = append(nb.Cells, Cell{m})
	}
	return nb, nil
}

// Marshal encodes the notebook as Jupyter writes it: keys sorted, one space
// of indentation, non-ASCII and HTML characters unescaped, a final newline.
func (nb *Notebook) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb.raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CodeCells counts the code cells.
func (nb *Notebook) CodeCells() int {
	n := 0
	for _, c := range nb.Cells {
		if c.Type() == "code" {
			n++
		}
	}
	return n
}

// Tagged returns the first cell carrying tag in its metadata.
func (nb *Notebook) Tagged(tag string) (Cell, bool) {
	for _, c := range nb.Cells {
		if slices.Contains(c.Tags(), tag) {
			return c, true
		}
	}
	return Cell{}, false
}

// Errors describes every failed cell: error outputs (compile errors,
// panics, non-zero exits) and shell lines that GoNB reports only as
// "exit status N" on stderr.
func (nb *Notebook) Errors() []string {
	var out []string
	for i, c := range nb.Cells {
		failed := slices.ContainsFunc(c.Outputs(), func(o Output) bool { return o.Type() == "error" })
		for _, o := range c.Outputs() {
			switch {
			case o.Type() == "error":
				// GoNB's message is often just "exit status 1"; what the
				// program said before failing is on stderr.
				var lines []string
				for _, s := range c.Outputs() {
					if s.Type() == "stream" && s.str("name") == "stderr" {
						lines = append(lines, strings.Split(strings.TrimSpace(s.Text()), "\n")...)
					}
				}
				lines = append(lines, o.strs("traceback")...)
				lines = slices.Compact(lines)
				if len(lines) > 30 {
					lines = append([]string{"…"}, lines[len(lines)-30:]...)
				}
				msg := fmt.Sprintf("%s: %s", o.str("ename"), o.str("evalue"))
				if len(lines) > 0 {
					msg += "\n\t" + strings.ReplaceAll(strings.TrimSpace(strings.Join(lines, "\n")), "\n", "\n\t")
				}
				out = append(out, fmt.Sprintf("cell %d (%s): %s", i, c.Label(), msg))
			case !failed && o.Type() == "stream" && o.str("name") == "stderr" && exitStatus.MatchString(o.Text()):
				out = append(out, fmt.Sprintf("cell %d (%s): a shell line failed:\n\t%s", i, c.Label(),
					strings.ReplaceAll(strings.TrimSpace(o.Text()), "\n", "\n\t")))
			}
		}
	}
	return out
}

// AbsolutePaths returns the paths among prefixes that some output shows.
func (nb *Notebook) AbsolutePaths(prefixes []string) []string {
	var found []string
	for _, c := range nb.Cells {
		text := c.OutputText()
		for _, p := range prefixes {
			if p != "" && strings.Contains(text, p) && !slices.Contains(found, p) {
				found = append(found, p)
			}
		}
	}
	return found
}

// StripTiming removes the execution timestamps nbclient records in each
// cell's metadata, so that re-running a notebook changes only its outputs.
func (nb *Notebook) StripTiming() {
	for _, c := range nb.Cells {
		if md, ok := c.raw["metadata"].(map[string]any); ok {
			delete(md, "execution")
		}
	}
}

// Type is "code", "markdown" or "raw".
func (c Cell) Type() string { s, _ := c.raw["cell_type"].(string); return s }

// Source is the cell's text.
func (c Cell) Source() string { return joinText(c.raw["source"]) }

// Tags are the cell's metadata tags.
func (c Cell) Tags() []string {
	md, _ := c.raw["metadata"].(map[string]any)
	var tags []string
	if list, ok := md["tags"].([]any); ok {
		for _, t := range list {
			if s, ok := t.(string); ok {
				tags = append(tags, s)
			}
		}
	}
	return tags
}

// Label names the cell in messages: its tags, else its first line.
func (c Cell) Label() string {
	if tags := c.Tags(); len(tags) > 0 {
		return strings.Join(tags, ",")
	}
	line, _, _ := strings.Cut(strings.TrimSpace(c.Source()), "\n")
	if len(line) > 40 {
		line = line[:40] + "…"
	}
	return line
}

// Outputs are the outputs of a code cell.
func (c Cell) Outputs() []Output {
	var out []Output
	if list, ok := c.raw["outputs"].([]any); ok {
		for _, o := range list {
			if m, ok := o.(map[string]any); ok {
				out = append(out, Output{m})
			}
		}
	}
	return out
}

// OutputText concatenates the cell's streams and the text of its displayed
// data (every MIME type that is text: text/plain, text/html, text/markdown,
// image/svg+xml, ...), in order.
func (c Cell) OutputText() string {
	var b strings.Builder
	for _, o := range c.Outputs() {
		b.WriteString(o.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// HTML concatenates the cell's text/html and image/svg+xml outputs.
func (c Cell) HTML() string {
	var b strings.Builder
	for _, o := range c.Outputs() {
		if data, ok := o.raw["data"].(map[string]any); ok {
			for _, mime := range []string{"text/html", "image/svg+xml"} {
				b.WriteString(joinText(data[mime]))
			}
		}
	}
	return b.String()
}

// Markdown concatenates the cell's text/markdown outputs.
func (c Cell) Markdown() string {
	var b strings.Builder
	for _, o := range c.Outputs() {
		if data, ok := o.raw["data"].(map[string]any); ok {
			b.WriteString(joinText(data["text/markdown"]))
		}
	}
	return b.String()
}

// Type is the output_type: "stream", "display_data", "execute_result" or "error".
func (o Output) Type() string { return o.str("output_type") }

// Text is a stream's text, an error's message, or the text of displayed data.
func (o Output) Text() string {
	switch o.Type() {
	case "stream":
		return joinText(o.raw["text"])
	case "error":
		return o.str("ename") + ": " + o.str("evalue") + "\n" + strings.Join(o.strs("traceback"), "\n")
	}
	data, _ := o.raw["data"].(map[string]any)
	mimes := make([]string, 0, len(data))
	for m := range data {
		mimes = append(mimes, m)
	}
	slices.Sort(mimes)
	var parts []string
	for _, m := range mimes {
		if s := joinText(data[m]); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

func (o Output) str(key string) string { s, _ := o.raw[key].(string); return s }

func (o Output) strs(key string) []string {
	var out []string
	if list, ok := o.raw[key].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// joinText reads nbformat's multiline strings: a string or a list of lines.
func joinText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var b strings.Builder
		for _, line := range t {
			if s, ok := line.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}
