package report

import (
	"os/exec"
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
// results.json alone, without gomlx, fimlib's compute packages or a browser.
func TestImports(t *testing.T) {
	const self = "github.com/fimprune/fimprune/report"
	direct := goList(t, "-f", `{{join .Imports "\n"}}`, self)
	allowed := []string{
		"github.com/fimprune/fimprune/fimlib/results",
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
		case strings.HasPrefix(dep, "github.com/fimprune/fimprune/") &&
			dep != self && dep != "github.com/fimprune/fimprune/fimlib/results":
			t.Errorf("report depends on %s; only fimlib/results is allowed", dep)
		}
	}
}
