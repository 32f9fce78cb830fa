package report_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/report"
)

// Render a results file and list what WriteDir would write.
func ExampleRender() {
	res, err := results.Read("testdata/small.json")
	if err != nil {
		log.Fatal(err)
	}
	files, err := report.Render(res, report.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files.List() {
		fmt.Println(f.Name)
	}
	title, _, _ := strings.Cut(string(files.Markdown), "\n")
	fmt.Println(title)
	// Output:
	// fig-1-overview.svg
	// fig-2-tradeoff.svg
	// fig-3-fisher.svg
	// report.md
	// report.html
	// inference_report_summary.json
	// # Fisher-information pruning for data deletion — inference report
}
