// Package rundir keeps one writer per run directory.
//
// Two processes writing one run directory at once (two command-line runs
// with the same -out, a run and a notebook, two notebook kernels, a run and
// scripts/report) interleave their files: the directory can end up with
// results.json from one run and report.html from the other, or a cache file
// from a configuration that no longer matches. So whatever writes a run
// directory first takes its lock ([Acquire]): an advisory lock (flock(2))
// on the file [LockFile] inside it, held for as long as the writer runs. A
// second writer is refused at once with an [*InUseError] naming the
// directory and the holder (its pid, command line and start, which the
// holder writes into the file).
//
// The kernel drops a flock when its holder's last descriptor closes, also
// when the process is killed (SIGKILL, a crash), so a killed run never
// leaves a stale lock behind: its file may remain, with its details, but the
// next writer locks it at once and overwrites them. A clean release removes
// the file. Descriptors are opened close-on-exec, so a child process
// (Chromium printing a PDF, say) does not inherit the lock.
//
// The lock belongs to an open file, not to a process: two locks taken in one
// process on the same directory conflict too, as they should.
//
// The package needs nothing but the standard library, so that light
// commands (scripts/report) can lock a directory without linking the
// experiment's machinery.
package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// LockFile is the lock file inside a run directory (see [Acquire]).
const LockFile = ".fimprune.lock"

// ErrInUse is matched (errors.Is) by the error of a writer refused because
// another one holds the run directory; the error itself is an [*InUseError].
var ErrInUse = errors.New("run directory in use")

// Holder describes the process holding a run directory's lock, as it wrote
// itself into the lock file.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"` // the command line, shortened
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started"` // when it took the lock
}

// InUseError says that another writer holds the run directory Dir.
type InUseError struct {
	Dir string
	// Holder is the lock holder's description; nil when it could not be
	// read (the holder had not written it yet, or is not fimprune).
	Holder *Holder
}

func (e *InUseError) Error() string {
	const advice = "wait for it to finish or choose another run directory"
	h := e.Holder
	if h == nil {
		return fmt.Sprintf("run directory %s is in use by another process; %s", e.Dir, advice)
	}
	started := h.Started.Local().Format(time.DateTime)
	if h.PID == os.Getpid() && h.Host == hostname() {
		return fmt.Sprintf("run directory %s is in use by this process (pid %d, since %s): another lock on it (a Session, say) is still open; close it first",
			e.Dir, h.PID, started)
	}
	host := ""
	if h.Host != "" && h.Host != hostname() {
		host = " on host " + h.Host
	}
	return fmt.Sprintf("run directory %s is in use by pid %d%s (%s, started %s); %s", e.Dir, h.PID, host, h.Command, started, advice)
}

// Is makes errors.Is(err, ErrInUse) hold.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Lock is a held lock on a run directory (see [Acquire]).
type Lock struct {
	dir, path string
	mu        sync.Mutex
	f         *os.File // nil once released
	created   []string // directories Acquire created, deepest first
}

// Acquire takes the lock of run directory dir, creating dir if it is
// missing, and records this process (pid, command line, host, time) in it.
// It does not wait: when another writer holds the directory it returns an
// [*InUseError] (errors.Is(err, ErrInUse)) naming that writer. Release the
// lock with [Lock.Unlock]; the kernel releases it anyway when the process
// ends, however it ends.
//
// Without flock(2) (systems other than Linux, the BSDs and macOS; see
// [Supported]) the lock is not exclusive: it only records the holder.
func Acquire(dir string) (*Lock, error) {
	if dir == "" {
		return nil, errors.New("locking run directory: no directory")
	}
	l := &Lock{dir: dir, path: filepath.Join(dir, LockFile)}
	// A directory that goes away while this runs (an empty one, removed by
	// its last holder's Unlock) is created again; so is a lock file.
	const attempts = 100
	for attempt := 1; ; attempt++ {
		created, err := mkdirAll(dir)
		l.created = append(created, l.created...)
		if errors.Is(err, fs.ErrNotExist) && attempt < attempts {
			continue
		}
		if err != nil {
			l.removeCreated()
			return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
		}
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
		if errors.Is(err, fs.ErrNotExist) && attempt < attempts {
			continue
		}
		if err != nil {
			l.removeCreated()
			return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
		}
		locked, err := tryLock(f)
		if err != nil {
			f.Close()
			l.removeCreated()
			return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
		}
		if !locked {
			f.Close()
			l.removeCreated()
			return nil, &InUseError{Dir: dir, Holder: readHolder(l.path)}
		}
		// Between the open and the lock, the holder may have released the
		// lock and removed the file: then this lock is on a file no one else
		// will open. Lock the file now at the path instead.
		if !stillAt(f, l.path) && attempt < attempts {
			f.Close()
			continue
		}
		l.f = f
		if err := l.writeHolder(); err != nil {
			l.Unlock()
			return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
		}
		return l, nil
	}
}

// Dir returns the locked directory, as given to [Acquire].
func (l *Lock) Dir() string { return l.dir }

// Unlock releases the lock and removes the lock file, and the directories
// Acquire created if they are still empty. Unlocking twice is harmless.
func (l *Lock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	// Remove the file while still holding the lock: a writer that opened it
	// meanwhile then finds, once it has the lock, that it is no longer at
	// the path, and starts again (see Acquire).
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	l.removeCreated()
	if err != nil {
		return fmt.Errorf("unlocking run directory %s: %w", l.dir, err)
	}
	return nil
}

// Holds returns nil when l is still held and is a lock on dir (the same
// directory, however named), else an error saying which it is not.
func (l *Lock) Holds(dir string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("the lock on run directory %s was released", l.dir)
	}
	a, errA := os.Stat(l.dir)
	b, errB := os.Stat(dir)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		return fmt.Errorf("the run directory lock is on %s, not on the output directory %s", l.dir, dir)
	}
	return nil
}

// removeCreated removes the directories Acquire created, deepest first,
// as long as they are empty.
func (l *Lock) removeCreated() {
	for _, d := range l.created {
		if os.Remove(d) != nil {
			break
		}
	}
	l.created = nil
}

func (l *Lock) writeHolder() error {
	data, err := json.Marshal(Holder{PID: os.Getpid(), Command: commandLine(), Host: hostname(), Started: time.Now()})
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err = l.f.WriteAt(append(data, '\n'), 0)
	return err
}

// readHolder reads the holder's description from the lock file at path. A
// holder writes it right after locking, so an empty or partial file is
// read again for a moment; nil if it stays unreadable.
func readHolder(path string) *Holder {
	for range 50 {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var h Holder
		if json.Unmarshal(data, &h) == nil && h.PID > 0 {
			return &h
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// ReadHolder returns the description of the last process that locked
// run directory dir, as found in its lock file (fs.ErrNotExist when there
// is none). The file does not say whether that process still holds the
// lock: a released lock removes its file, but a killed holder's file stays
// until the next writer takes the lock.
func ReadHolder(dir string) (*Holder, error) {
	data, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return nil, err
	}
	var h Holder
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("lock file of %s: %w", dir, err)
	}
	return &h, nil
}

// stillAt reports whether f is the file at path.
func stillAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// mkdirAll is os.MkdirAll that returns the directories it created, deepest
// first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

// commandLine is this process's command line for the lock file: the
// program's base name and its arguments, shortened to 200 bytes.
func commandLine() string {
	s := strings.Join(append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...), " ")
	const limit = 200
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

var hostname = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})
