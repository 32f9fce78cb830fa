package forget

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/modelcard"
)

// CheckReport is what [Check] checked, one line per fact, and what it could
// not check (a model directory of the chain that is not there any more).
type CheckReport struct {
	Checked   []string
	Unchecked []string
	// Entries is the model's ledger; Model the model directory checked
	// first (the one Check was given).
	Entries []deletion.Entry
	Model   *Model
}

// Check verifies the model directory dir and the chain behind it: the card,
// the parameters against the card's hash, the ledger's hash chain, the
// deletion record against its ledger line and the checkpoints, and then,
// for every earlier model of the chain whose directory is still where the
// record says, the same checks and that its ledger is a prefix of this one.
// With set (the data), the cards are also checked against the data. The
// first problem is returned as an error; the report lists what passed.
func Check(dir string, set *adult.Dataset) (*CheckReport, error) {
	rep := &CheckReport{}
	seen := map[string]bool{}
	var childLines [][]byte
	for step := 0; ; step++ {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return rep, err
		}
		if seen[abs] {
			return rep, fmt.Errorf("%s: the chain of records loops back to this directory", dir)
		}
		seen[abs] = true
		m, err := LoadModel(dir)
		if err != nil {
			return rep, err
		}
		if step == 0 {
			rep.Entries, rep.Model = m.Ledger, m
		}
		rep.Checked = append(rep.Checked, fmt.Sprintf("%s: card valid, parameters hash to params_sha256 %s", dir, m.Card.ParamsSHA256))
		if set != nil {
			if err := m.Card.VerifyData(set); err != nil {
				return rep, fmt.Errorf("%s: %w", filepath.Join(dir, modelcard.File), err)
			}
			rep.Checked = append(rep.Checked, fmt.Sprintf("%s: card matches the data (hashes, splits, scaler, row sets)", dir))
		}
		if childLines != nil {
			if len(m.LedgerLines) != len(childLines)-1 {
				return rep, fmt.Errorf("%s: its ledger has %d lines, the next model's %d; want one fewer", dir, len(m.LedgerLines), len(childLines))
			}
			for i, l := range m.LedgerLines {
				if !bytes.Equal(l, childLines[i]) {
					return rep, &deletion.ChainError{Line: i + 1, Problem: fmt.Sprintf("differs between %s and the next model's ledger", dir)}
				}
			}
			rep.Checked = append(rep.Checked, fmt.Sprintf("%s: its ledger is the next model's without the last line", dir))
		}
		if len(m.Ledger) == 0 {
			rep.Checked = append(rep.Checked, fmt.Sprintf("%s: no ledger, a model trained by a run: the start of the chain", dir))
			return rep, nil
		}
		lines := "lines"
		if len(m.Ledger) == 1 {
			lines = "line"
		}
		rep.Checked = append(rep.Checked, fmt.Sprintf("%s: ledger of %d %s, an unbroken hash chain ending at this model", dir, len(m.Ledger), lines))
		last := m.Ledger[len(m.Ledger)-1]
		recPath := filepath.Join(dir, deletion.File)
		recHash, err := deletion.FileHash(recPath)
		if err != nil {
			return rep, err
		}
		if recHash != last.Record {
			return rep, fmt.Errorf("%s hashes to %s, ledger line %d records %s (the record was changed after it was written)", recPath, recHash, last.Seq, last.Record)
		}
		rec, err := deletion.Read(recPath)
		if err != nil {
			return rep, err
		}
		switch {
		case rec.Output.ParamsSHA256 != m.Card.ParamsSHA256:
			return rep, fmt.Errorf("%s: output.params_sha256 %s is not the model's %s", recPath, rec.Output.ParamsSHA256, m.Card.ParamsSHA256)
		case rec.Output.CardSHA256 != m.CardSHA256:
			return rep, fmt.Errorf("%s: output.card_sha256 %s, but %s hashes to %s (the card was changed after it was written)", recPath, rec.Output.CardSHA256, modelcard.File, m.CardSHA256)
		case rec.Input.ParamsSHA256 != last.Input:
			return rep, fmt.Errorf("%s: input.params_sha256 %s, ledger line %d records %s", recPath, rec.Input.ParamsSHA256, last.Seq, last.Input)
		case rec.Request.IDsSHA256 != last.RowsSHA256 || rec.Request.Count != last.Rows:
			return rep, fmt.Errorf("%s: the request (%d rows, %s) is not the one ledger line %d records (%d rows, %s)", recPath, rec.Request.Count, rec.Request.IDsSHA256, last.Seq, last.Rows, last.RowsSHA256)
		}
		rep.Checked = append(rep.Checked, fmt.Sprintf("%s: %s hashes to ledger line %d's record_sha256 and names this model, its card and its input", dir, deletion.File, last.Seq))
		inDir := rec.Input.Dir
		if !filepath.IsAbs(inDir) {
			inDir = filepath.Join(dir, inDir)
		}
		if _, err := os.Stat(filepath.Join(inDir, modelcard.File)); errors.Is(err, os.ErrNotExist) {
			rep.Unchecked = append(rep.Unchecked, fmt.Sprintf("%s (input of ledger line %d, params %s): not found, so its checkpoint is not checked", inDir, last.Seq, short(last.Input)))
			return rep, nil
		}
		in, err := LoadModel(inDir)
		if err != nil {
			return rep, err
		}
		if in.Card.ParamsSHA256 != last.Input {
			return rep, fmt.Errorf("%s: params_sha256 %s, but ledger line %d's input is %s", inDir, in.Card.ParamsSHA256, last.Seq, last.Input)
		}
		if in.CardSHA256 != rec.Input.CardSHA256 {
			return rep, fmt.Errorf("%s: its card hashes to %s, %s records %s (the card was changed after the request)", inDir, in.CardSHA256, recPath, rec.Input.CardSHA256)
		}
		childLines = m.LedgerLines
		dir = inDir
	}
}
