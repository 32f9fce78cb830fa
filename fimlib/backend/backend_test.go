package backend

import (
	"strings"
	"testing"
)

func TestConfigDefaultsToGo(t *testing.T) {
	t.Setenv(EnvVar, "")
	if got := Config(); got != "go" {
		t.Fatalf("Config() = %q with $%s empty, want \"go\" (gomlx's own default would try to download XLA)", got, EnvVar)
	}
	t.Setenv(EnvVar, "xla:cuda")
	if got := Config(); got != "xla:cuda" {
		t.Fatalf("Config() = %q, want the environment's xla:cuda", got)
	}
}

func TestCheck(t *testing.T) {
	if err := Check("go"); err != nil {
		t.Errorf("Check(go): %v", err)
	}
	if err := Check("go:parallelism=1"); err != nil {
		t.Errorf("Check(go:parallelism=1): %v", err)
	}
	err := Check("cuda")
	if err == nil || !strings.Contains(err.Error(), `"cuda"`) || !strings.Contains(err.Error(), "go") {
		t.Errorf("Check(cuda) = %v, want an error naming the bad value and the available backends", err)
	}
}

func TestNewStartsGo(t *testing.T) {
	t.Setenv(EnvVar, "")
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if b.Name() == "" {
		t.Error("backend has no name")
	}
	t.Setenv(EnvVar, "nonsense")
	if _, err := New(); err == nil {
		t.Error("New() with an unknown backend succeeded")
	}
}
