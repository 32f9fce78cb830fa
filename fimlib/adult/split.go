package adult

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Split fractions from the seed notebook: 20 % of all rows for test, then
// 20 % of the rest for validation.
const (
	TestFraction = 0.2
	ValFraction  = 0.2
)

// Second PCG seed words, so that Split and DeletionSpec.Select draw
// independent streams from the same user seed.
const (
	splitStream    = 0x73706c6974 // "split"
	deletionStream = 0x64656c6574 // "delet"
)

// Splits holds row ids of the three disjoint sets. Each slice is in a
// seeded random order, like sklearn's train_test_split output, so a prefix
// such as "the first 100 training rows" is a seeded random sample.
type Splits struct {
	Train, Val, Test []int
}

// Split divides d into stratified train, validation and test sets,
// reproducibly for a given seed. It does what the notebook's two
// train_test_split(stratify=y) calls do: test gets ceil(0.2·n) rows, then
// validation gets ceil(0.2·m) of the remaining m, giving 28,941 / 7,236 /
// 9,045 on the real data. Within each split every class has its
// proportional share, rounded by largest remainder (ties to the smaller
// label), so it is within one row of exact. The random draws differ from
// numpy's, so the row ids are not the notebook's.
func Split(d *Dataset, seed int64) (Splits, error) {
	if d.Rows() == 0 {
		return Splits{}, fmt.Errorf("adult: split: dataset has no rows")
	}
	r := rand.New(rand.NewPCG(uint64(seed), splitStream))
	all := make([]int, d.Rows())
	for i := range all {
		all[i] = i
	}
	pool, test, err := stratifiedSplit(all, d.Y, TestFraction, r)
	if err != nil {
		return Splits{}, fmt.Errorf("adult: split test: %w", err)
	}
	train, val, err := stratifiedSplit(pool, d.Y, ValFraction, r)
	if err != nil {
		return Splits{}, fmt.Errorf("adult: split validation: %w", err)
	}
	return Splits{Train: train, Val: val, Test: test}, nil
}

// stratifiedSplit follows sklearn's StratifiedShuffleSplit with one split:
// allocate the kept rows per class, shuffle each class, take the kept share
// from the front and the held-out share from the back, then shuffle both
// outputs so neither is grouped by class.
func stratifiedSplit(ids []int, y []int32, frac float64, r *rand.Rand) (kept, held []int, err error) {
	n := len(ids)
	// Float arithmetic on purpose: sklearn computes ceil(test_size * n).
	nHeld := int(math.Ceil(frac * float64(n)))
	nKept := n - nHeld

	byClass := make(map[int32][]int)
	for _, id := range ids {
		byClass[y[id]] = append(byClass[y[id]], id) // members stay in ids order
	}
	labels := make([]int32, 0, len(byClass))
	for l := range byClass {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	counts := make([]int, len(labels))
	for i, l := range labels {
		counts[i] = len(byClass[l])
		if counts[i] < 2 {
			return nil, nil, fmt.Errorf("class %d has %d row(s), need at least 2 to stratify", l, counts[i])
		}
	}
	if nKept < len(labels) || nHeld < len(labels) {
		return nil, nil, fmt.Errorf("%d rows cannot be split %g/%g over %d classes", n, 1-frac, frac, len(labels))
	}

	keptPer := allocate(counts, nKept)
	kept = make([]int, 0, nKept)
	held = make([]int, 0, nHeld)
	for i, l := range labels {
		members := slices.Clone(byClass[l])
		r.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
		kept = append(kept, members[:keptPer[i]]...)
		held = append(held, members[keptPer[i]:]...)
	}
	r.Shuffle(len(kept), func(a, b int) { kept[a], kept[b] = kept[b], kept[a] })
	r.Shuffle(len(held), func(a, b int) { held[a], held[b] = held[b], held[a] })
	return kept, held, nil
}

// allocate splits total draws over classes in proportion to counts by the
// largest-remainder method, as sklearn's _approximate_mode does, but
// breaking ties by class order instead of at random so that the sizes do
// not depend on the seed.
func allocate(counts []int, total int) []int {
	sum := 0
	for _, c := range counts {
		sum += c
	}
	out := make([]int, len(counts))
	rem := make([]float64, len(counts))
	left := total
	for i, c := range counts {
		exact := float64(total) * float64(c) / float64(sum)
		out[i] = int(math.Floor(exact))
		rem[i] = exact - float64(out[i])
		left -= out[i]
	}
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, i := range order {
		if left == 0 {
			break
		}
		if out[i] < counts[i] {
			out[i]++
			left--
		}
	}
	return out
}
