package adult

import (
	"slices"
)

// encode one-hot encodes rows as pandas get_dummies(drop_first=True) does on
// the notebook's concatenated frame: numeric columns first in file order,
// then for each categorical column (file order) one dummy per level except
// the first, levels sorted in byte order (pandas sorts object levels by code
// point, which is the same order for UTF-8). Levels come from all rows given,
// so a level seen only in adult.test still gets a column.
func encode(rows []rawRow) *Dataset {
	levels := make([][]string, len(categoricalCols))
	index := make([]map[string]int, len(categoricalCols)) // level → feature offset, -1 if dropped
	for k := range categoricalCols {
		seen := make(map[string]bool)
		for i := range rows {
			seen[rows[i].cat[k]] = true
		}
		for l := range seen {
			levels[k] = append(levels[k], l)
		}
		slices.Sort(levels[k])
	}

	features := make([]string, 0, NumFeatures)
	for _, c := range numericCols {
		features = append(features, columns[c])
	}
	for k, c := range categoricalCols {
		index[k] = map[string]int{levels[k][0]: -1} // the dropped first level encodes as all zeros
		for _, l := range levels[k][1:] {
			index[k][l] = len(features)
			features = append(features, columns[c]+"="+l)
		}
	}

	f := len(features)
	d := &Dataset{
		Features: features,
		X:        make([]float32, len(rows)*f),
		Y:        make([]int32, len(rows)),
		Origin:   make([]RowID, len(rows)),
	}
	for i := range rows {
		x := d.X[i*f : (i+1)*f]
		for k, v := range rows[i].num {
			x[k] = float32(v)
		}
		for k, l := range rows[i].cat {
			if j := index[k][l]; j >= 0 {
				x[j] = 1
			}
		}
		d.Y[i] = rows[i].label
		d.Origin[i] = rows[i].origin
	}
	return d
}
