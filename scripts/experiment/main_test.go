package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
)

func TestUsageErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-fractions", "0.1,1.5"},
		{"-fractions", "0.1,x"},
		{"-fractions", "0.2,0.2"},
		{"-deletion", "last:3"},
		{"-fisher", "squared"},
		{"-epochs", "0"},
		{"-batch", "-1"},
		{"-parallel", "0"},
		{"-out", file},
		{"-nosuchflag"},
		{"extra-argument"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), &stdout, &stderr, args)
		var usage usageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: got %v, want a usage error (exit status 2)", args, err)
		}
	}
	t.Setenv("GOMLX_BACKEND", "nosuch")
	var usage usageError
	if err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, nil); !errors.As(err, &usage) {
		t.Errorf("unknown backend: got %v, want a usage error", err)
	}
}

func TestTinyRun(t *testing.T) {
	dir := adulttest.Dir(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-data", dir, "-out", out, "-epochs", "1", "-finetune-epochs", "1", "-fractions", "0.2", "-bootstrap", "20", "-no-checkpoints"}
	if err := run(context.Background(), &stdout, &stderr, args); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"FINAL RESULTS SUMMARY", "full", "retrain", "pruned 0.20 (best)", "timings (s, wall"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "full: epoch 1/1") {
		t.Errorf("no progress lines on stderr:\n%s", stderr.String())
	}
	for _, f := range []string{"results.json", "inference_report_summary.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints")); !os.IsNotExist(err) {
		t.Errorf("-no-checkpoints wrote checkpoints (stat: %v)", err)
	}
}
