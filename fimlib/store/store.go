// Package store is a content-addressed store of computed values (trained
// models, unlearned models, their outcomes) in a directory, shared by the
// processes of one study: every key names everything that determines its
// value ([Key] hashes a description of the inputs), so a value found under
// its key is the value a computation would give, and any process may reuse
// it.
//
// Many processes may write into one store at once, also on a network file
// system: a value is written to a temporary file in the store's directory,
// synced, and renamed to its key's name, so a reader sees a whole value or
// none, and two writers of one key write the same value (the last rename
// wins). No locks are taken. A file that does not match the checksum it
// carries (a disk error, a hand edit) reads as missing, with a warning, and
// is computed again.
//
// Values are encoded with encoding/gob, which keeps float32 and float64
// values bit for bit.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store is a store in the directory Dir.
type Store struct {
	Dir string
	// Warn, if not nil, receives a line for every entry that could not be
	// read back and is treated as missing.
	Warn func(format string, args ...any)
}

// Open returns the store in dir, creating the directory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{Dir: dir}, nil
}

// Key returns the hex SHA-256 of the JSON encoding of desc: the key of the
// value that desc describes. desc must name every input of the computation
// (and a version of the code that affects its result).
func Key(desc any) (string, error) {
	b, err := json.Marshal(desc)
	if err != nil {
		return "", fmt.Errorf("store: key: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// magic opens every entry file, naming the format.
const magic = "fimprune-store/v1\n"

func (s *Store) path(key string) string {
	return filepath.Join(s.Dir, key[:2], key+".gob")
}

func validKey(key string) error {
	if len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
		return fmt.Errorf("store: key %q is not a hex SHA-256", key)
	}
	return nil
}

// Get decodes the value under key into v and reports whether there was one.
func (s *Store) Get(key string, v any) (bool, error) {
	if err := validKey(key); err != nil {
		return false, err
	}
	p := s.path(key)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	body, ok := bytes.CutPrefix(data, []byte(magic))
	if !ok || len(body) < sha256.Size {
		s.warn("store: %s is not a store entry; computing it again", p)
		return false, nil
	}
	sum, payload := body[:sha256.Size], body[sha256.Size:]
	if got := sha256.Sum256(payload); !bytes.Equal(got[:], sum) {
		s.warn("store: %s does not match its checksum; computing it again", p)
		return false, nil
	}
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(v); err != nil {
		s.warn("store: %s: %v; computing it again", p, err)
		return false, nil
	}
	return true, nil
}

func (s *Store) warn(format string, args ...any) {
	if s.Warn != nil {
		s.Warn(format, args...)
	}
}

// Put stores v under key: encoded, checksummed, written to a temporary file
// beside its final name, synced, and renamed into place.
func (s *Store) Put(key string, v any) error {
	if err := validKey(key); err != nil {
		return err
	}
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(v); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	sum := sha256.Sum256(payload.Bytes())
	p := s.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+key[:12]+".tmp-")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(append(append([]byte(magic), sum[:]...), payload.Bytes()...))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Has reports whether the store holds a file under key (without reading it).
func (s *Store) Has(key string) bool {
	if validKey(key) != nil {
		return false
	}
	_, err := os.Stat(s.path(key))
	return err == nil
}

// Await waits until the store holds a value under key, decodes it into v,
// and returns; it polls every poll, and gives up after timeout (or when
// done is closed), naming what it waited for.
func (s *Store) Await(done <-chan struct{}, key, what string, poll, timeout time.Duration, v any) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := s.Get(key, v)
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("store: waited %v for %s (key %s…) from another shard; is that shard running?", timeout, what, key[:12])
		}
		select {
		case <-done:
			return fmt.Errorf("store: stopped while waiting for %s", what)
		case <-time.After(poll):
		}
	}
}

// Check reads every entry of the store and verifies its checksum: it
// returns the number of whole entries, and an error naming the first entry
// that is damaged. Temporary files a killed writer left (".…tmp-…") are
// not entries: they are never read, and Check counts them in leftovers.
func (s *Store) Check() (entries, leftovers int, err error) {
	err = filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") {
			leftovers++
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		body, ok := bytes.CutPrefix(data, []byte(magic))
		if !ok || len(body) < sha256.Size {
			return fmt.Errorf("store: %s is not a store entry", p)
		}
		if sum := sha256.Sum256(body[sha256.Size:]); !bytes.Equal(sum[:], body[:sha256.Size]) {
			return fmt.Errorf("store: %s does not match its checksum", p)
		}
		entries++
		return nil
	})
	return entries, leftovers, err
}
