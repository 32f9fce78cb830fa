package store

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type value struct {
	Name   string
	Values []float32
	X      float64
}

func TestRoundTripExact(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := Key(map[string]any{"kind": "test", "seed": 1})
	if err != nil {
		t.Fatal(err)
	}
	in := value{Name: "m", Values: []float32{1, float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -0}, X: math.Pi}
	if ok, err := s.Get(key, &value{}); ok || err != nil {
		t.Fatalf("empty store: %v, %v", ok, err)
	}
	if err := s.Put(key, in); err != nil {
		t.Fatal(err)
	}
	var out value
	if ok, err := s.Get(key, &out); !ok || err != nil {
		t.Fatalf("Get: %v, %v", ok, err)
	}
	for i := range in.Values {
		if math.Float32bits(in.Values[i]) != math.Float32bits(out.Values[i]) {
			t.Errorf("value %d: %v, want %v bit for bit", i, out.Values[i], in.Values[i])
		}
	}
	if out.X != in.X || out.Name != in.Name || !s.Has(key) {
		t.Errorf("got %+v", out)
	}
}

func TestKeyNamesItsInputs(t *testing.T) {
	a, _ := Key(map[string]any{"seed": 1})
	b, _ := Key(map[string]any{"seed": 2})
	c, _ := Key(map[string]any{"seed": 1})
	if a == b || a != c {
		t.Errorf("keys %s %s %s", a, b, c)
	}
	if _, err := (&Store{Dir: t.TempDir()}).Get("../x", &value{}); err == nil {
		t.Error("a key that is not a hash was accepted")
	}
}

// TestCorruptEntryIsMissing: a damaged file reads as missing (and is
// computed again), with a warning, never as a wrong value.
func TestCorruptEntryIsMissing(t *testing.T) {
	s, _ := Open(t.TempDir())
	var warned []string
	s.Warn = func(format string, args ...any) { warned = append(warned, format) }
	key, _ := Key("x")
	if err := s.Put(key, value{Values: []float32{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	p := s.path(key)
	data, _ := os.ReadFile(p)
	for name, bad := range map[string][]byte{
		"flipped byte": append(append([]byte{}, data[:len(data)-1]...), data[len(data)-1]^1),
		"truncated":    data[:len(data)/2],
		"foreign":      []byte("hello"),
	} {
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		var v value
		if ok, err := s.Get(key, &v); ok || err != nil {
			t.Errorf("%s: Get = %v, %v; want missing", name, ok, err)
		}
	}
	if len(warned) != 3 {
		t.Errorf("%d warnings, want 3", len(warned))
	}
}

// TestConcurrentWriters: many writers of the same keys leave whole entries
// and no temporary files.
func TestConcurrentWriters(t *testing.T) {
	s, _ := Open(t.TempDir())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				key, _ := Key(k)
				if err := s.Put(key, value{Values: make([]float32, 1000), X: float64(k)}); err != nil {
					t.Error(w, err)
				}
			}
		}()
	}
	wg.Wait()
	for k := range 20 {
		key, _ := Key(k)
		var v value
		if ok, err := s.Get(key, &v); !ok || err != nil || v.X != float64(k) {
			t.Errorf("key %d: %v %v %v", k, ok, err, v.X)
		}
	}
	filepath.Walk(s.Dir, func(p string, info os.FileInfo, err error) error {
		if strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestAwait(t *testing.T) {
	s, _ := Open(t.TempDir())
	key, _ := Key("later")
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.Put(key, value{X: 7})
	}()
	var v value
	if err := s.Await(nil, key, "a value", 10*time.Millisecond, 5*time.Second, &v); err != nil || v.X != 7 {
		t.Fatalf("Await: %v, %v", err, v)
	}
	other, _ := Key("never")
	if err := s.Await(nil, other, "the shadows", 5*time.Millisecond, 30*time.Millisecond, &v); err == nil || !strings.Contains(err.Error(), "the shadows") {
		t.Errorf("Await of a missing key: %v", err)
	}
}

func TestCheck(t *testing.T) {
	s, _ := Open(t.TempDir())
	for k := range 3 {
		key, _ := Key(k)
		if err := s.Put(key, value{X: float64(k)}); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := Key(0)
	// A killed writer's temporary file is a leftover, not an entry.
	if err := os.WriteFile(filepath.Join(s.Dir, key[:2], "."+key[:12]+".tmp-123"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, left, err := s.Check(); n != 3 || left != 1 || err != nil {
		t.Fatalf("Check = %d entries, %d leftovers, %v", n, left, err)
	}
	data, _ := os.ReadFile(s.path(key))
	data[len(data)-1] ^= 1
	os.WriteFile(s.path(key), data, 0o644)
	if _, _, err := s.Check(); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a damaged entry: %v", err)
	}
}
