package report

import (
	"math"
	"strconv"
	"strings"
)

// Number formatting. Every number in the report goes through these helpers so
// that the output is deterministic (strconv, fixed precision), never shows a
// negative zero, and says "n/a" for NaN or ±Inf instead of Go's spellings.

// fixed formats x with prec digits after the point.
func fixed(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:] // -0.000 → 0.000
	}
	return s
}

// signed formats x with prec digits and an explicit sign (+0.12, −0.34);
// the minus is U+2212 so that it reads as a minus in prose and tables.
func signed(x float64, prec int) string {
	s := fixed(x, prec)
	switch {
	case s == "n/a":
		return s
	case strings.HasPrefix(s, "-"):
		return "−" + s[1:]
	case strings.Trim(s, "0.") == "":
		return "±" + s
	}
	return "+" + s
}

// sci formats x in scientific notation with 3 significant digits (6.74e-04).
func sci(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(x, 'e', 2, 64)
}

// times formats a ratio as "0.86×" ("n/a" when undefined).
func times(x float64) string {
	s := fixed(x, 2)
	if s == "n/a" {
		return s
	}
	return s + "×"
}

// sig3 formats x with 3 significant digits (−4.26, 0.0141, 5.78e-05), with
// a U+2212 minus.
func sig3(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(x, 'g', 3, 64)
	if strings.HasPrefix(s, "-") {
		s = "−" + s[1:]
	}
	return s
}

// pct formats a fraction as a percentage with prec digits (0.1234 → "12.3 %").
func pct(x float64, prec int) string {
	s := fixed(100*x, prec)
	if s == "n/a" {
		return s
	}
	return s + "\u00a0%" // no-break space: the sign stays with its number
}

// secs formats a duration in seconds with a precision that suits its size.
func secs(x float64) string {
	switch a := math.Abs(x); {
	case a < 0.1:
		return fixed(x, 4)
	case a < 10:
		return fixed(x, 2)
	}
	return fixed(x, 1)
}

// frac formats a pruning fraction: as few digits as it needs, at least one
// (0.1, 0.25, 1.0).
func frac(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// count formats an integer with thousands separators (20802 → "20,802").
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// ci formats a 95 % interval "[lo, hi]" with prec digits.
func ci(v [2]float64, prec int) string {
	return "[" + fixed(v[0], prec) + ", " + fixed(v[1], prec) + "]"
}

// ratioOf returns a/b, or NaN when b is 0.
func ratioOf(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
