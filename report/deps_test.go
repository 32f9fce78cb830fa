package report

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goList runs `go list` with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(gocmd, append([]string{"list"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.Fields(string(out))
}

// TestImports pins the package's dependencies: it must render from
// results.json (and deletion.json) alone, without gomlx, fimlib's compute
// packages or a browser. The deletion record's schema brings the plain-Go
// packages it is built from (modelcard, adult's row ids, param, the shared
// field checks).
func TestImports(t *testing.T) {
	const self = "github.com/fimprune/fimprune/report"
	direct := goList(t, "-f", `{{join .Imports "\n"}}`, self)
	plain := []string{
		"github.com/fimprune/fimprune/fimlib/results",
		"github.com/fimprune/fimprune/fimlib/deletion",
		"github.com/fimprune/fimprune/fimlib/modelcard",
		"github.com/fimprune/fimprune/fimlib/adult",
		"github.com/fimprune/fimprune/fimlib/param",
		"github.com/fimprune/fimprune/internal/fieldcheck",
	}
	allowed := []string{
		"github.com/fimprune/fimprune/fimlib/results",
		"github.com/fimprune/fimprune/fimlib/deletion",
		"github.com/yuin/goldmark",
		"gonum.org/v1/plot",
		"gonum.org/v1/gonum",
	}
	for _, imp := range direct {
		if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			if imp == a || strings.HasPrefix(imp, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("report imports %s; allowed: the standard library and %s", imp, strings.Join(allowed, ", "))
		}
	}
	for _, dep := range goList(t, "-deps", self) {
		switch {
		case strings.Contains(dep, "gomlx"), strings.Contains(dep, "chromedp"):
			t.Errorf("report depends on %s", dep)
		case strings.HasPrefix(dep, "github.com/fimprune/fimprune/") && dep != self && !slices.Contains(plain, dep):
			t.Errorf("report depends on %s; only %s are allowed", dep, strings.Join(plain, ", "))
		}
	}
}
