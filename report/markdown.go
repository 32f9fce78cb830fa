package report

import (
	"strconv"
	"strings"
	"unicode"
)

// Markdown escaping. The report's Markdown mixes trusted text (written in
// this package) with strings from results.json (feature names, the deletion
// spec, version strings, the CPU name, ...). Every data string goes through
// text, code or codeCell, which make it inert: it renders as exactly its
// characters, never as emphasis, a link, an image, raw HTML or a table cell
// boundary. goldmark then escapes it for HTML, and runs without
// html.WithUnsafe, so raw HTML would be dropped even if one slipped through.

// mdPunct are the ASCII characters text escapes with a backslash: everything
// that can start or end an inline construct (emphasis, code, links, images,
// autolinks, raw HTML, entities, strikethrough, GFM's linkify triggers "www.",
// "://" and "@", table pipes). Parentheses need no escape: they only matter
// after a ']', which is escaped. Characters that only matter at the start of a
// line (#, -, +, digits followed by '.') are harmless because data strings
// never start a line: newlines are turned into spaces first.
const mdPunct = "\\`*_[]<>!|&~:@."

// text returns s as Markdown inline text that renders literally.
func text(s string) string {
	var b strings.Builder
	for _, r := range flatten(s) {
		if r < 0x80 && strings.ContainsRune(mdPunct, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// code returns s as a Markdown code span (outside tables).
func code(s string) string { return codeSpan(flatten(s), false) }

// codeCell returns s as a code span inside a GFM table cell, where a pipe
// must be written \| even inside code (GFM spec, "Tables" extension).
func codeCell(s string) string { return codeSpan(flatten(s), true) }

func codeSpan(s string, cell bool) string {
	if s == "" {
		return ""
	}
	// The fence must be longer than any run of backticks inside.
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	// A span that starts or ends with a backtick or a space needs padding,
	// which the parser strips again (one space each side).
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// flatten replaces line breaks, tabs and other control characters with
// spaces, so a data string stays on one line (and inside its table cell).
func flatten(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// md accumulates the Markdown document.
type md struct{ strings.Builder }

// p writes a paragraph (one line; a paragraph never wraps in the source, so
// that diffs of golden files stay readable per paragraph).
func (m *md) p(parts ...string) {
	m.WriteString(strings.Join(parts, ""))
	m.WriteString("\n\n")
}

// h writes a heading of the given level.
func (m *md) h(level int, title string) {
	m.WriteString(strings.Repeat("#", level))
	m.WriteByte(' ')
	m.WriteString(title)
	m.WriteString("\n\n")
}

// bullets writes a bullet list.
func (m *md) bullets(items ...string) {
	for _, it := range items {
		m.WriteString("- ")
		m.WriteString(it)
		m.WriteByte('\n')
	}
	m.WriteByte('\n')
}

// block writes a fenced code block (used for formulas). Only trusted text.
func (m *md) block(lines ...string) {
	m.WriteString("```text\n")
	for _, l := range lines {
		m.WriteString(l)
		m.WriteByte('\n')
	}
	m.WriteString("```\n\n")
}

// table writes a GFM table. align has one byte per column: 'l', 'r' or 'c'.
// Cells must already be Markdown (numbers, trusted text, or text/codeCell of
// data).
func (m *md) table(header []string, align string, rows [][]string) {
	m.row(header)
	m.WriteByte('|')
	for i := range header {
		switch align[i] {
		case 'r':
			m.WriteString(" ---: |")
		case 'c':
			m.WriteString(" :---: |")
		default:
			m.WriteString(" :--- |")
		}
	}
	m.WriteByte('\n')
	for _, r := range rows {
		m.row(r)
	}
	m.WriteByte('\n')
}

func (m *md) row(cells []string) {
	m.WriteByte('|')
	for _, c := range cells {
		m.WriteByte(' ')
		if c == "" {
			c = " "
		}
		m.WriteString(c)
		m.WriteString(" |")
	}
	m.WriteByte('\n')
}

// figure writes a figure reference: the image (a file beside report.md; in
// report.html the same name is replaced by the inline SVG) and its caption
// paragraph, which starts with "**Figure N.**".
func (m *md) figure(f Figure, n int) {
	m.WriteString("![" + f.Title + "](" + f.Name + ")\n\n")
	m.WriteString("**Figure " + strconv.Itoa(n) + ".** " + f.Caption + "\n\n")
}
