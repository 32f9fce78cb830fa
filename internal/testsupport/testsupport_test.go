package testsupport

import (
	"strings"
	"testing"
)

func TestFirstDiff(t *testing.T) {
	for _, c := range []struct {
		got, want, has string
	}{
		{"a\nb\n", "a\nb\n", ""},
		{"a\nx\n", "a\nb\n", "line 2:\n  want: b\n   got: x"},
		{"a\n", "a\nb\n", "line 2:"},
		{"a\nb\nc", "a\nb", "line 3:\n  want: \n   got: c"},
	} {
		d := FirstDiff(c.got, c.want)
		if (c.has == "") != (d == "") || !strings.Contains(d, c.has) {
			t.Errorf("FirstDiff(%q, %q) = %q, want it to contain %q", c.got, c.want, d, c.has)
		}
	}
}

func TestMissingPlaceholders(t *testing.T) {
	help := "Usage of x:\n  -data DIR\n    \tdata\n  -quiet\n    \tsilent\n  -seed int\n  -n\n    \tcount\n"
	missing, listed := MissingPlaceholders(help, "quiet")
	if !listed || len(missing) != 1 || missing[0] != "n" {
		t.Errorf("MissingPlaceholders = %v, %v; want [n], true", missing, listed)
	}
	if _, listed := MissingPlaceholders("no flags here\n"); listed {
		t.Error("a help text without flags counted as listing some")
	}
}
