package forget

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
)

// Model is a model directory read and checked: a checkpoint, its card and,
// for a model that scripts/forget made, its ledger.
type Model struct {
	Dir        string
	Card       *modelcard.Card
	CardSHA256 string
	Arch       mlp.Arch
	Params     []mlp.Tensor
	// LedgerLines are the ledger's lines (nil without a ledger), Ledger the
	// entries they decode to.
	LedgerLines [][]byte
	Ledger      []deletion.Entry
}

// HashError is a checkpoint whose parameters do not hash to what its card
// (or a ledger) records: the files were changed after they were written.
type HashError struct {
	Dir       string
	Want, Got string
	// Source names the record of Want, e.g. "card.json".
	Source string
}

func (e *HashError) Error() string {
	return fmt.Sprintf("%s: the parameters hash to %s, %s records %s (the checkpoint was changed after it was written)", e.Dir, e.Got, e.Source, e.Want)
}

// LoadModel reads the model directory dir (a checkpoint directory holding
// card.json, such as runs/latest/checkpoints/full, or an output of
// scripts/forget) and checks it: the card is valid, the parameters hash to
// the card's params_sha256 (a [*HashError] otherwise), and a ledger, if
// there is one, is an unbroken chain (a [*deletion.ChainError] otherwise)
// whose last output is this model.
func LoadModel(dir string) (*Model, error) {
	cardPath := filepath.Join(dir, modelcard.File)
	card, err := modelcard.Read(cardPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: not a model directory that fimprune wrote (a run's checkpoints/<name>, or an output of scripts/forget)", dir, modelcard.File)
	}
	if err != nil {
		return nil, err
	}
	cardHash, err := deletion.FileHash(cardPath)
	if err != nil {
		return nil, err
	}
	arch := mlp.Arch{Inputs: card.Model.Inputs, Hidden: card.Model.Hidden, Classes: card.Model.Classes, Dropout: card.Model.Dropout}
	if err := arch.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", cardPath, err)
	}
	params, err := experiment.LoadCheckpoint(dir, arch)
	if err != nil {
		return nil, err
	}
	if got := modelcard.ParamsHash(params); got != card.ParamsSHA256 {
		return nil, &HashError{Dir: dir, Want: card.ParamsSHA256, Got: got, Source: modelcard.File}
	}
	m := &Model{Dir: dir, Card: card, CardSHA256: cardHash, Arch: arch, Params: params}
	ledgerPath := filepath.Join(dir, deletion.LedgerFile)
	if m.LedgerLines, err = deletion.ReadLedgerLines(ledgerPath); err != nil {
		return nil, err
	}
	if m.Ledger, err = deletion.CheckChain(m.LedgerLines); err != nil {
		return nil, fmt.Errorf("%s: %w", ledgerPath, err)
	}
	if n := len(m.Ledger); n > 0 {
		last := m.Ledger[n-1]
		if last.Output != card.ParamsSHA256 {
			return nil, fmt.Errorf("%s: the last line's output %s is not this model's params_sha256 %s", ledgerPath, last.Output, card.ParamsSHA256)
		}
		if card.Parent == nil || *card.Parent != last.Input {
			return nil, fmt.Errorf("%s: the last line's input %s is not the card's parent", ledgerPath, last.Input)
		}
	}
	return m, nil
}
