package deletion_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/results"
)

// chain returns three records, each deleting from the previous one's output
// (the second one a fallback to retraining, the third unverified), and the
// ledger lines NewEntry and MarshalEntry make of them.
func chain(t *testing.T) ([]*deletion.Record, [][]byte) {
	t.Helper()
	a, b, c := valid(), withFallback(), valid()
	c.Verification, c.Difference.ExactAUC = nil, 0
	b.Input.ParamsSHA256, b.Input.TrainedRows = a.Output.ParamsSHA256, a.Output.TrainedRows
	b.Output.ParamsSHA256, b.Output.TrainedRows = sum("second output"), a.Output.TrainedRows-2
	c.Input.ParamsSHA256, c.Input.TrainedRows = b.Output.ParamsSHA256, b.Output.TrainedRows
	c.Output.ParamsSHA256, c.Output.TrainedRows = sum("third output"), b.Output.TrainedRows-2
	b.Difference.Retained, c.Difference.Retained = b.Output.TrainedRows, c.Output.TrainedRows
	recs := []*deletion.Record{a, b, c}
	var lines [][]byte
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		data, err := deletion.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		e := deletion.NewEntry(r, sum(string(data)), "forget-"+string(rune('a'+i)), lines)
		line, err := deletion.MarshalEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	return recs, lines
}

// entry decodes one ledger line.
func entry(t *testing.T, line []byte) deletion.Entry {
	t.Helper()
	var e deletion.Entry
	if err := json.Unmarshal(line, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// marshal encodes e as a ledger line.
func marshal(t *testing.T, e deletion.Entry) []byte {
	t.Helper()
	line, err := deletion.MarshalEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	return line
}

func TestLineHash(t *testing.T) {
	// echo -n abc | sha256sum
	if got, want := deletion.LineHash([]byte("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("LineHash(abc) = %s, want %s", got, want)
	}
}

func TestLedgerChain(t *testing.T) {
	recs, lines := chain(t)
	entries, err := deletion.CheckChain(lines)
	if err != nil {
		t.Fatalf("CheckChain: %v", err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	for i, e := range entries {
		r := recs[i]
		prev := ""
		if i > 0 {
			prev = deletion.LineHash(lines[i-1])
		}
		if e.Seq != i+1 || e.Prev != prev || e.Input != r.Input.ParamsSHA256 || e.Output != r.Output.ParamsSHA256 ||
			e.Rows != 2 || e.RowsSHA256 != idsSHA256 || e.Created != r.Created || e.Method != r.Method.ID {
			t.Errorf("line %d: %+v", i+1, e)
		}
	}
	if entries[0].Fallback || !entries[1].Fallback || entries[2].Fallback {
		t.Errorf("fallback flags %v %v %v, want false true false", entries[0].Fallback, entries[1].Fallback, entries[2].Fallback)
	}
	if entries[0].Verdict != deletion.Pass || entries[1].Verdict != deletion.Pass || entries[2].Verdict != "" {
		t.Errorf("verdicts %q %q %q, want pass, pass and none", entries[0].Verdict, entries[1].Verdict, entries[2].Verdict)
	}
	if entries[1].Method.Family != results.FamilyRetrain {
		t.Errorf("line 2's method %+v, want the retraining", entries[1].Method)
	}
	// Compact, one line, fields in Entry's order.
	if bytes.ContainsAny(lines[0], "\n ") || !bytes.HasPrefix(lines[0], []byte(`{"seq":1,"prev_sha256":"","created":"2026-12-01T10:00:00Z","record_sha256":"`)) {
		t.Errorf("line 1: %s", lines[0])
	}
	if _, err := deletion.CheckChain(nil); err != nil {
		t.Errorf("an empty chain: %v", err)
	}

	// Written with a "\n" after each line and read back.
	path := filepath.Join(t.TempDir(), deletion.LedgerFile)
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	read, err := deletion.ReadLedgerLines(path)
	if err != nil || !reflect.DeepEqual(read, lines) {
		t.Fatalf("ReadLedgerLines = %d lines, %v; want the 3 written", len(read), err)
	}
	if _, err := deletion.CheckChain(read); err != nil {
		t.Errorf("CheckChain of the file: %v", err)
	}
}

func TestLedgerTampering(t *testing.T) {
	_, lines := chain(t)
	for _, c := range []struct {
		name    string
		change  func(t *testing.T, lines [][]byte) [][]byte
		line    int
		problem string
	}{
		{"a changed field in line 2", func(t *testing.T, ls [][]byte) [][]byte {
			ls[1] = bytes.Replace(ls[1], []byte(`"verdict":"pass"`), []byte(`"verdict":"fail"`), 1)
			return ls
		}, 3, "line 2 hashes to"},
		{"a changed field in line 1", func(t *testing.T, ls [][]byte) [][]byte {
			ls[0] = bytes.Replace(ls[0], []byte(`"rows":2`), []byte(`"rows":1`), 1)
			return ls
		}, 2, "line 1 hashes to"},
		{"white space added to line 1", func(t *testing.T, ls [][]byte) [][]byte {
			ls[0] = bytes.Replace(ls[0], []byte(`"seq":1`), []byte(`"seq": 1`), 1)
			return ls
		}, 2, "prev_sha256"},
		{"line 2 dropped", func(t *testing.T, ls [][]byte) [][]byte { return slices.Delete(ls, 1, 2) }, 2, "seq 3, want 2"},
		{"line 1 dropped", func(t *testing.T, ls [][]byte) [][]byte { return ls[1:] }, 1, "seq 2, want 1"},
		{"lines 2 and 3 swapped", func(t *testing.T, ls [][]byte) [][]byte { ls[1], ls[2] = ls[2], ls[1]; return ls }, 2, "seq 3, want 2"},
		{"line 3 repeated", func(t *testing.T, ls [][]byte) [][]byte { return append(ls, ls[2]) }, 4, "seq 3, want 4"},
		{"a changed seq", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[1])
			e.Seq = 5
			ls[1] = marshal(t, e)
			return ls
		}, 2, "seq 5, want 2"},
		{"the first line with a prev", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[0])
			e.Prev = sum("an earlier ledger")
			ls[0] = marshal(t, e)
			return ls
		}, 1, "on the first line"},
		{"a line re-chained to its predecessor's predecessor", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[2])
			e.Prev = deletion.LineHash(ls[0])
			ls[2] = marshal(t, e)
			return ls
		}, 3, "line 2 hashes to"},
		{"input not the previous output", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[2])
			e.Input = sum("another model")
			ls[2] = marshal(t, e)
			return ls
		}, 3, "is not line 2's output"},
		{"a non-hash record", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[2])
			e.Record = strings.ToUpper(e.Record)
			ls[2] = marshal(t, e)
			return ls
		}, 3, "record_sha256"},
		{"a non-hash rows hash", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[0])
			e.RowsSHA256 = ""
			ls[0] = marshal(t, e)
			return ls
		}, 1, "rows_sha256"},
		{"a non-hash output", func(t *testing.T, ls [][]byte) [][]byte {
			e := entry(t, ls[1])
			e.Output = e.Output[:63]
			ls[1] = marshal(t, e)
			return ls
		}, 2, "output_params_sha256"},
		{"an unknown field", func(t *testing.T, ls [][]byte) [][]byte {
			ls[1] = bytes.Replace(ls[1], []byte(`"seq":2`), []byte(`"seq":2,"note":"x"`), 1)
			return ls
		}, 2, "unknown field"},
		{"trailing garbage", func(t *testing.T, ls [][]byte) [][]byte {
			ls[1] = append(ls[1], " x"...)
			return ls
		}, 2, "data after the entry"},
		{"two entries on a line", func(t *testing.T, ls [][]byte) [][]byte {
			ls[2] = append(slices.Clone(ls[2]), ls[2]...)
			return ls
		}, 3, "data after the entry"},
		{"not JSON", func(t *testing.T, ls [][]byte) [][]byte { ls[0] = []byte("seq 1"); return ls }, 1, "not a ledger entry"},
		{"an empty line", func(t *testing.T, ls [][]byte) [][]byte { return slices.Insert(ls, 1, []byte{}) }, 2, "not a ledger entry"},
	} {
		ls := make([][]byte, len(lines))
		for i := range lines {
			ls[i] = slices.Clone(lines[i])
		}
		ls = c.change(t, ls)
		if slices.EqualFunc(ls, lines, bytes.Equal) {
			t.Fatalf("%s: the change changed nothing", c.name)
		}
		_, err := deletion.CheckChain(ls)
		var ce *deletion.ChainError
		if !errors.As(err, &ce) || ce.Line != c.line || !strings.Contains(ce.Problem, c.problem) {
			t.Errorf("%s: CheckChain = %v, want a *ChainError at line %d with %q", c.name, err, c.line, c.problem)
		}
	}
	// What the chain alone cannot see: the last lines dropped. A reader
	// compares the last line with the model directory (docs/deletion.md).
	if _, err := deletion.CheckChain(lines[:2]); err != nil {
		t.Errorf("a prefix of the ledger: %v", err)
	}
}

func TestReadLedgerLines(t *testing.T) {
	dir := t.TempDir()
	if lines, err := deletion.ReadLedgerLines(filepath.Join(dir, "none.jsonl")); lines != nil || err != nil {
		t.Errorf("a missing ledger: %d lines, %v; want nil, nil", len(lines), err)
	}
	_, lines := chain(t)
	for _, c := range []struct {
		name, data, problem string
	}{
		{"no final newline", string(bytes.Join(lines, []byte("\n"))), "no newline"},
		{"cut in the middle of a line", string(lines[0]) + "\n" + string(lines[1][:40]), "no newline"},
		{"empty", "", "empty ledger"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
		if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := deletion.ReadLedgerLines(path); err == nil || !strings.Contains(err.Error(), c.problem) {
			t.Errorf("%s: ReadLedgerLines = %d lines, %v; want an error with %q", c.name, len(got), err, c.problem)
		}
	}
	if _, err := deletion.ReadLedgerLines(dir); err == nil {
		t.Error("ReadLedgerLines of a directory succeeded")
	}
	// A carriage return is part of a line's bytes: a ledger converted to
	// CRLF, or one "\r" added to line 1, breaks the chain at line 2.
	for name, data := range map[string]string{
		"crlf":       string(bytes.Join(lines, []byte("\r\n"))) + "\r\n",
		"one return": string(lines[0]) + "\r\n" + string(bytes.Join(lines[1:], []byte("\n"))) + "\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := deletion.ReadLedgerLines(path)
		if err != nil {
			t.Fatal(err)
		}
		var ce *deletion.ChainError
		if _, err := deletion.CheckChain(got); !errors.As(err, &ce) || ce.Line != 2 {
			t.Errorf("%s: CheckChain = %v, want a break at line 2", name, err)
		}
	}
}

// TestShellRecipes runs the checks docs/deletion.md gives a reader with
// shell tools and compares them with the Go values.
func TestShellRecipes(t *testing.T) {
	for _, tool := range []string{"sh", "sha256sum", "sed", "sort", "head", "tr", "cut", "grep", "wc", "seq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recs, lines := chain(t)
	data, err := deletion.Marshal(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	write(deletion.File, string(data))
	write(deletion.LedgerFile, string(append(bytes.Join(lines, []byte("\n")), '\n')))
	write("adult.data", strings.Join(dataLines, ""))
	write("adult.test", strings.Join(testLines, ""))
	write("ids.txt", "adult.test:2\nadult.data:5\n")
	sh := func(script string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		return strings.TrimSpace(string(out))
	}
	hash := func(script string) string { return sh(script + " | sha256sum | cut -d' ' -f1") }
	e := entry(t, lines[0])
	for _, c := range []struct{ script, want, what string }{
		{"cat deletion.json", e.Record, "line 1's record_sha256"},
		{"head -n 1 ledger.jsonl | tr -d '\\n'", entry(t, lines[1]).Prev, "line 2's prev_sha256"},
		{"sed -n 2p ledger.jsonl | tr -d '\\n'", entry(t, lines[2]).Prev, "line 3's prev_sha256"},
		{"sed -n 5p adult.data", recs[0].Request.Rows[0].SHA256, "adult.data:5's sha256"},
		{"sed -n 2p adult.test", recs[0].Request.Rows[1].SHA256, "adult.test:2's sha256"},
		{"LC_ALL=C sort ids.txt", recs[0].Request.IDsSHA256, "request.ids_sha256"},
	} {
		if got := hash(c.script); got != c.want {
			t.Errorf("%s | sha256sum = %s, want %s (%s)", c.script, got, c.want, c.what)
		}
	}
	// The loop over every link, as the page gives it.
	loop := `n=$(wc -l < ledger.jsonl)
for i in $(seq 2 "$n"); do
  want=$(sed -n "${i}p" ledger.jsonl | grep -o '"prev_sha256":"[0-9a-f]*"' | cut -d'"' -f4)
  got=$(sed -n "$((i - 1))p" ledger.jsonl | tr -d '\n' | sha256sum | cut -d' ' -f1)
  [ "$want" = "$got" ] || echo "line $i: prev_sha256 is not line $((i - 1))'s hash"
done`
	doc, err := os.ReadFile(recordDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(loop)) {
		t.Errorf("%s does not give the loop this test runs", recordDoc)
	}
	if out := sh(loop); out != "" {
		t.Errorf("the loop on an unbroken ledger printed %q", out)
	}
	tampered := slices.Clone(lines)
	tampered[1] = bytes.Replace(tampered[1], []byte(`"rows":2`), []byte(`"rows":3`), 1)
	write(deletion.LedgerFile, string(append(bytes.Join(tampered, []byte("\n")), '\n')))
	if out := sh(loop); out != "line 3: prev_sha256 is not line 2's hash" {
		t.Errorf("the loop on a ledger with line 2 changed printed %q", out)
	}
	// The ids as the page extracts them.
	if got := sh(`grep -o '"id": "[^"]*"' deletion.json | cut -d'"' -f4`); got != "adult.data:5\nadult.test:2" {
		t.Errorf("the ids extracted from deletion.json: %q", got)
	}
	if got, err := deletion.FileHash(filepath.Join(dir, deletion.File)); err != nil || got != e.Record {
		t.Errorf("FileHash = %s, %v; want %s", got, err, e.Record)
	}
	if _, err := deletion.FileHash(filepath.Join(dir, "none")); err == nil {
		t.Error("FileHash of a missing file succeeded")
	}
}

// TestLedgerDocumented checks docs/deletion.md's section "Ledger fields"
// against Entry, and its example lines against chain's.
func TestLedgerDocumented(t *testing.T) {
	checkDocumented(t, reflect.TypeFor[deletion.Entry](), "## Ledger fields", []string{"prev_sha256", "method.family", "verdict"})
	doc, err := os.ReadFile(recordDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, lines := chain(t)
	second := lines[1][:bytes.Index(lines[1], []byte(`,"created"`))+1]
	for _, want := range [][]byte{lines[0], second} {
		if !bytes.Contains(doc, want) {
			t.Errorf("%s does not show the ledger line %s", recordDoc, want)
		}
	}
}
