package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/store"
	"github.com/fimprune/fimprune/internal/modroot"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// slurmUp reports whether a Slurm cluster answers (sinfo), skipping the
// test when none does, unless $CI is set: CI starts one
// (deploy/slurm/local-cluster.sh), so a missing one there is a failure.
func slurmUp(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sbatch", "squeue", "sinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found; .ci/run installs Slurm (deploy/slurm/local-cluster.sh install)", tool)
			}
			t.Skipf("%s not found (no Slurm here; CI runs this test on a local cluster)", tool)
		}
	}
	if out, err := exec.Command("sinfo", "-h").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Slurm cluster answers (sinfo: %v: %s); .ci/run starts one with deploy/slurm/local-cluster.sh", err, out)
		}
		t.Skipf("no Slurm cluster answers (sinfo: %v)", err)
	}
}

// withoutTimes renders r as JSON without what varies from run to run.
func withoutTimes(t *testing.T, r *results.Results) string {
	t.Helper()
	data, err := results.Marshal(r.WithoutTimes())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestStudyOnSlurm submits a tiny study on the real data to Slurm as two
// dependent 4-task job arrays (the models, then the methods) and a dependent
// merge job (deploy/slurm/submit.sh). A task of the methods array is killed
// mid-way: the store must hold only whole entries, and the same submission
// again must complete the study, whose merged results equal a run in one
// process.
func TestStudyOnSlurm(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models")
	}
	slurmUp(t)
	dataDir := adulttest.Dir(t)
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "bin", "experiment")
	build := exec.Command("go", "build", "-o", bin, "./scripts/experiment")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flags := []string{"-data", dataDir, "-fractions", "0.2", "-epochs", "2", "-finetune-epochs", "1", "-bootstrap", "20",
		"-no-checkpoints", "-study-seeds", "2", "-study-shadows", "6", "-study-ulira-models", "3"}

	local := exec.Command(bin, append([]string{"-out", filepath.Join(work, "local"), "-quiet"}, flags...)...)
	if out, err := local.CombinedOutput(); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}

	submit := func() []string {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "deploy", "slurm", "submit.sh"), append([]string{"4", filepath.Join(work, "cluster")}, flags...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "FIMPRUNE_EXPERIMENT="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("submit: %v\n%s", err, out)
		}
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) == 2 && (f[0] == "models" || f[0] == "methods" || f[0] == "merge") {
				ids = append(ids, f[1])
			}
		}
		if len(ids) != 3 {
			t.Fatalf("submit printed %q, want the ids of the two arrays and the merge job", out)
		}
		t.Logf("submitted arrays %s (models) and %s (methods), merge %s", ids[0], ids[1], ids[2])
		return ids
	}
	logs := func() string {
		var b strings.Builder
		files, _ := filepath.Glob(filepath.Join(work, "fimprune-*.out"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			b.WriteString("== " + filepath.Base(f) + "\n" + string(data))
		}
		return b.String()
	}
	queue := func(ids []string) string {
		q, err := exec.Command("squeue", "-h", "-j", strings.Join(ids, ","), "-o", "%i %T %r").CombinedOutput()
		if err != nil && !strings.Contains(string(q), "Invalid job id") {
			t.Fatalf("squeue: %v: %s", err, q)
		}
		if state := strings.TrimSpace(string(q)); !strings.Contains(state, "Invalid job id") {
			return state
		}
		return ""
	}

	// First submission: once a task of the methods array runs, it is killed
	// (SIGKILL, as a lost node or a time limit would), so the merge can
	// never run and is cancelled.
	ids := submit()
	killed := ""
	deadline := time.Now().Add(15 * time.Minute)
	for {
		state := queue(ids)
		if state == "" {
			t.Fatalf("the jobs ended before a methods task could be killed:\n%s", logs())
		}
		for _, line := range strings.Split(state, "\n") {
			if f := strings.Fields(line); killed == "" && len(f) >= 2 && strings.HasPrefix(f[0], ids[1]+"_") && f[1] == "RUNNING" {
				time.Sleep(1500 * time.Millisecond)
				if out, err := exec.Command("scancel", "--signal=KILL", f[0]).CombinedOutput(); err != nil {
					t.Fatalf("scancel %s: %v: %s", f[0], err, out)
				}
				killed = f[0]
				t.Logf("killed task %s", killed)
			}
		}
		if killed != "" && (strings.Contains(state, "DependencyNeverSatisfied") || !strings.Contains(state, "RUNNING") && !strings.Contains(state, ids[1]+"_")) {
			exec.Command("scancel", ids...).Run()
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", ids...).Run()
			t.Fatalf("no methods task to kill in 15 minutes:\n%s\n%s", state, logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
	for queue(ids) != "" {
		time.Sleep(500 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(work, "cluster", "results.json")); err == nil {
		t.Fatal("the merge ran although a shard was killed")
	}
	st := &store.Store{Dir: filepath.Join(work, "cluster", "store")}
	entries, leftovers, err := st.Check()
	if err != nil {
		t.Fatalf("the store after the kill: %v", err)
	}
	t.Logf("after the kill: %d whole entries, %d temporary files left by the killed task", entries, leftovers)

	// The same submission again completes the study from what is stored.
	ids = submit()
	for {
		state := queue(ids)
		if state == "" {
			break
		}
		if strings.Contains(state, "DependencyNeverSatisfied") {
			exec.Command("scancel", ids...).Run()
			t.Fatalf("a shard failed, so the jobs after it will never run:\n%s\n%s", state, logs())
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", ids...).Run()
			t.Fatalf("the jobs did not finish in 15 minutes:\n%s\n%s", state, logs())
		}
		time.Sleep(2 * time.Second)
	}
	want, err := results.Read(filepath.Join(work, "local", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := results.Read(filepath.Join(work, "cluster", "results.json"))
	if err != nil {
		t.Fatalf("the merge job wrote no results: %v\n%s", err, logs())
	}
	if g, w := withoutTimes(t, got), withoutTimes(t, want); g != w {
		t.Errorf("the study merged from 4 Slurm shards differs from one process:\n%s", testsupport.FirstDiff(g, w))
	}
	if got.Study == nil || len(got.Study.Methods) != 11 {
		t.Errorf("merged study: %+v", got.Study)
	}
	t.Log(logs())
}
