package adult

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// realDir finds the UCI files: $FIMPRUNE_DATA, else the project's shared
// copy. Without them the test is skipped, except under CI where missing data
// is a setup error.
func realDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv(EnvDataDir); dir != "" {
		return dir
	}
	dir := filepath.Join("..", "..", "..", "shared", "data", "adult")
	if _, err := os.Stat(filepath.Join(dir, DataFile)); err == nil {
		return dir
	}
	msg := fmt.Sprintf("UCI Adult files not found: set $%s or provide %s", EnvDataDir, dir)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestRealData(t *testing.T) {
	d, err := Load(realDir(t))
	if err != nil {
		t.Fatal(err)
	}
	// Counts from shared/seed/PROTOCOL.md ("Data").
	if d.Rows() != NumRows || len(d.Features) != NumFeatures || len(d.X) != NumRows*NumFeatures {
		t.Fatalf("%d rows × %d features (len X %d), want %d × %d", d.Rows(), len(d.Features), len(d.X), NumRows, NumFeatures)
	}
	ones := 0
	for _, y := range d.Y {
		ones += int(y)
	}
	if ones != 11208 || d.Rows()-ones != 34014 {
		t.Errorf("labels: %d zeros, %d ones, want 34014 and 11208", d.Rows()-ones, ones)
	}
	if d.SHA256[DataFile] != SHA256Data || d.SHA256[TestFile] != SHA256Test {
		t.Errorf("SHA256 = %v", d.SHA256)
	}
	// pandas get_dummies order: numeric columns, then the dummies of each
	// categorical column with the alphabetically first level dropped.
	wantHead := []string{"age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week",
		"workclass=Local-gov", "workclass=Private"}
	if !slices.Equal(d.Features[:len(wantHead)], wantHead) {
		t.Errorf("first features %q, want %q", d.Features[:len(wantHead)], wantHead)
	}
	if last := d.Features[NumFeatures-1]; last != "native-country=Yugoslavia" {
		t.Errorf("last feature %q, want native-country=Yugoslavia", last)
	}
	// Row 0 is the first line of adult.data.
	if got := d.Row(0)[:6]; !slices.Equal(got, []float32{39, 77516, 13, 2174, 0, 40}) {
		t.Errorf("row 0 numeric = %v", got)
	}

	s, err := Split(d, 42)
	if err != nil {
		t.Fatal(err)
	}
	// Validation and training shares are allocated within the 36,177-row
	// pool, whose own proportions are off by < 1 row, so < 2 rows overall;
	// on the real data all three are within 1.
	checkSplits(t, d, s, 28941, 7236, 9045, 1)
	again, _ := Split(d, 42)
	if !slices.Equal(s.Train, again.Train) || !slices.Equal(s.Val, again.Val) || !slices.Equal(s.Test, again.Test) {
		t.Error("same seed gave different splits")
	}

	del, err := DeletionSpec{Kind: DeleteFirst, N: 100}.Select(s.Train, 42)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(Retained(s.Train, del)); got != 28841 {
		t.Errorf("retained %d rows, want 28841", got)
	}

	sc := FitScaler(d, s.Train)
	for j, sd := range sc.Std {
		if sd <= 0 || math.IsNaN(sd) {
			t.Errorf("feature %s: std %v", d.Features[j], sd)
		}
	}
}

func ExampleLoadFiles() {
	dir, err := os.MkdirTemp("", "adult-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	data := "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n" +
		"50, ?, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, <=50K\n"
	test := "|1x3 Cross validator\n" +
		"25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, >50K.\n"
	os.WriteFile(filepath.Join(dir, DataFile), []byte(data), 0o644)
	os.WriteFile(filepath.Join(dir, TestFile), []byte(test), 0o644)

	// Generated files are not the UCI ones, so skip the pinned checksums.
	// The "?" row is dropped; "11th" sorts before "Bachelors", so the
	// education dummy is "education=Bachelors"; sex and marital-status have
	// one level here and give no dummy.
	d, err := LoadFiles(filepath.Join(dir, DataFile), filepath.Join(dir, TestFile), Options{SkipChecksum: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Rows(), "rows;", d.Y)
	for i := range d.Rows() {
		fmt.Println(d.Row(i))
	}
	fmt.Println(d.Features)
	// Output:
	// 2 rows; [0 1]
	// [39 77516 13 2174 0 40 1 1 0 0 1]
	// [25 226802 7 0 0 40 0 0 1 1 0]
	// [age fnlwgt education-num capital-gain capital-loss hours-per-week workclass=State-gov education=Bachelors occupation=Machine-op-inspct relationship=Own-child race=White]
}
