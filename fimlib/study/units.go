package study

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/store"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
)

// Shard is one process's share of a study run on many: units (the full
// models, the shadow models, each method on the full models, each method on
// the shadows, in that order per split) are numbered in a fixed plan, and
// shard Index of Count computes the units whose number ≡ Index (mod Count).
// The zero value is no sharding.
//
// Stage, when not 0, limits the shard to one stage of the plan:
// StageModels computes only its full-model and shadow-model units,
// StageMethods only its method units, whose full and shadow models must
// then be in the store already. A scheduler runs the two stages as
// dependent job arrays, so that no task waits for another (tasks that wait
// can hold every slot of a small cluster while the task they wait for
// cannot start). Stage 0 runs both, waiting for other shards' models where
// its methods need them: for shards that all run at once.
type Shard struct{ Index, Count, Stage int }

// The stages of a sharded study.
const (
	StageModels  = 1
	StageMethods = 2
)

// ErrShardDone is what Run returns in a shard: its units are in the store,
// and the study is for a run without a shard to assemble.
var ErrShardDone = errors.New("study: this shard's units are in the store")

// DefaultShardWait bounds how long a shard waits for a unit another shard
// computes (the full or the shadow models its own units start from).
const DefaultShardWait = 6 * time.Hour

// planner numbers the units of a run and runs, loads or skips each.
type planner struct {
	cfg  Config
	next int
	// common is the part of every key that describes the data, the
	// architecture, the build and the code.
	common keyCommon
}

type keyCommon struct {
	Code    string   `json:"code"`
	Build   string   `json:"build"`
	Backend string   `json:"backend"`
	Arch    mlp.Arch `json:"arch"`
	// Pool and Val are hashes of the training pool and the validation rows
	// (features, labels) every unit trains or stops early on.
	Pool string `json:"pool"`
	Val  string `json:"val"`
}

func newPlanner(cfg Config) *planner { return &planner{cfg: cfg} }

// group starts a split's units: their keys' common part.
func (p *planner) group(env unlearn.Env, d Data) {
	p.common = keyCommon{Code: p.cfg.CodeVersion, Build: build(), Arch: env.Arch, Pool: dataHash(d.Train), Val: dataHash(d.Val)}
	if env.Backend != nil {
		p.common.Backend = env.Backend.Name()
	}
}

// sharded reports whether the run is one shard of many.
func (p *planner) sharded() bool { return p.cfg.Shard.Count > 0 }

// owns reports whether unit i is this process's to compute.
func (p *planner) owns(i int) bool {
	return !p.sharded() || i%p.cfg.Shard.Count == p.cfg.Shard.Index
}

// reserve numbers n units and returns the first number.
func (p *planner) reserve(n int) int {
	first := p.next
	p.next += n
	return first
}

// unit makes v, the value of unit i described by desc: from the store when
// it is there; else computed (compute fills v) and stored, when the unit is
// this process's; else, when needed, awaited from the store (another shard
// computes it). It reports whether v holds the value.
func (p *planner) unit(ctx context.Context, i, stage int, what string, desc any, v any, needed bool, compute func() error) (bool, error) {
	s := p.cfg.Store
	if s == nil {
		return true, compute()
	}
	otherStage := p.sharded() && p.cfg.Shard.Stage != 0 && p.cfg.Shard.Stage != stage
	mine := p.owns(i) && !otherStage
	if !mine && !needed {
		return false, nil
	}
	key, err := store.Key(struct {
		Common keyCommon `json:"common"`
		Unit   string    `json:"unit"`
		Desc   any       `json:"desc"`
	}{p.common, what, desc})
	if err != nil {
		return false, err
	}
	if ok, err := s.Get(key, v); ok || err != nil {
		if ok && p.cfg.Log != nil {
			p.cfg.Log("%s: from the store (%s…)", what, key[:12])
		}
		return ok, err
	}
	if otherStage {
		return false, fmt.Errorf("study: %s (key %s…) is not in the store %s: run stage %d of the shards first", what, key[:12], s.Dir, stage)
	}
	if !mine {
		wait := p.cfg.ShardWait
		if wait == 0 {
			wait = DefaultShardWait
		}
		if p.cfg.Log != nil {
			p.cfg.Log("%s: waiting for shard %d of %d to store it", what, i%p.cfg.Shard.Count, p.cfg.Shard.Count)
		}
		return true, s.Await(ctx.Done(), key, what, 2*time.Second, wait, v)
	}
	if err := compute(); err != nil {
		return false, err
	}
	return true, s.Put(key, v)
}

// build names the build: numbers differ in the last bits across Go
// versions, gomlx versions and GOEXPERIMENT settings.
func build() string {
	b := backend.CurrentBuild()
	return fmt.Sprintf("%s %s/%s gomlx@%s compute@%s GOEXPERIMENT=%s", runtime.Version(), runtime.GOOS, runtime.GOARCH, b.Gomlx, b.Compute, b.GOEXPERIMENT)
}

// dataHash is the hex SHA-256 of d's features (float32 bits), labels and
// width.
func dataHash(d train.Data) string {
	h := sha256.New()
	var buf []byte
	buf = binary.LittleEndian.AppendUint64(buf, uint64(d.Features))
	for _, x := range d.X {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
	}
	for _, y := range d.Y {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(y))
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// rowsHash is the hex SHA-256 of a list of row positions.
func rowsHash(rows []int) string {
	h := sha256.New()
	var buf []byte
	for _, r := range rows {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(r))
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// inclusionHash is the hex SHA-256 of an inclusion matrix.
func inclusionHash(in [][]bool) string {
	h := sha256.New()
	for _, row := range in {
		b := make([]byte, len(row)+1)
		for i, x := range row {
			if x {
				b[i] = 1
			}
		}
		b[len(row)] = '\n'
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// taskDesc describes one task of a method unit by content.
type taskDesc struct {
	Model  string `json:"model"`
	Retain string `json:"retain"`
	Forget string `json:"forget"`
	Seed   uint64 `json:"seed"`
}

// methodDesc describes a method run on tasks.
type methodDesc struct {
	Method   results.MethodID    `json:"method"`
	Name     string              `json:"name"`
	FineTune results.TrainConfig `json:"finetune"`
	Train    results.TrainConfig `json:"train"`
	Tasks    []taskDesc          `json:"tasks"`
}

func describeMethod(m unlearn.Method, env unlearn.Env, tasks []unlearn.Task) methodDesc {
	d := methodDesc{Method: m.ID(), Name: m.Name(), FineTune: env.FineTune.Recipe(), Train: env.Train.Recipe()}
	for _, t := range tasks {
		d.Tasks = append(d.Tasks, taskDesc{Model: modelcard.ParamsHash(t.Model), Retain: rowsHash(t.Retain), Forget: rowsHash(t.Forget), Seed: t.Seed})
	}
	return d
}

// unlearnUnit runs m on tasks as unit i, through the store.
func (p *planner) unlearnUnit(ctx context.Context, i int, env unlearn.Env, m unlearn.Method, tasks []unlearn.Task, what string) ([]unlearn.Outcome, bool, error) {
	var out []unlearn.Outcome
	if p.cfg.Store != nil && (!p.owns(i) || p.sharded() && p.cfg.Shard.Stage == StageModels) {
		return nil, false, nil
	}
	ok, err := p.unit(ctx, i, StageMethods, what, describeMethod(m, env, tasks), &out, false, func() error {
		var err error
		out, err = m.Unlearn(ctx, env, tasks)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("study: %s: %w", what, err)
	}
	return out, ok, nil
}
