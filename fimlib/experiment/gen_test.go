package experiment_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// writeAdultLike writes rows in adult.data's format whose label depends on
// age and hours so that a model can learn something.
func writeAdultLike(t *testing.T, path string, rows int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(options ...string) string { return options[rng.IntN(len(options))] }
	var b strings.Builder
	for range rows {
		age, hours := 18+rng.IntN(60), 10+rng.IntN(60)
		label := "<=50K"
		if age+hours+rng.IntN(30) > 95 {
			label = ">50K"
		}
		fmt.Fprintf(&b, "%d, %s, %d, %s, %d, %s, %s, %s, %s, %s, %d, %d, %d, %s, %s\n",
			age, pick("Private", "Self-emp", "State-gov"), 10000+rng.IntN(300000), pick("Bachelors", "HS-grad", "Masters"),
			1+rng.IntN(16), pick("Married", "Never-married"), pick("Sales", "Tech-support", "Exec"),
			pick("Husband", "Wife", "Own-child"), pick("White", "Black"), pick("Male", "Female"),
			rng.IntN(2)*rng.IntN(5000), 0, hours, pick("United-States", "Mexico"), label)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
