package plan

import (
	"fmt"
	"slices"
)

// order fills each unit's Needs (the unit of its direct base with the same variant, else the
// base's runtime, and the same architecture, when the base is planned too) and everyone's
// Level: a CI engine runs level 0, then level 1, and so on. Building a custom image after
// its base is not needed for correctness (the custom image is built from its own lock), but
// then the base's layers are already in the registry and the custom image's push skips them.
func (p *Plan) order() error {
	byFile := map[string][]*Unit{}
	for _, u := range p.Units {
		byFile[u.file] = append(byFile[u.file], u)
		// A catalog base (base: python) is the planned image of that name.
		byFile[catalogPrefix+u.Image] = append(byFile[catalogPrefix+u.Image], u)
	}
	byID := map[string]*Unit{}
	for _, u := range p.Units {
		byID[u.ID] = u
		u.Needs = nil
		if u.base == "" {
			continue
		}
		var same, runtime *Unit
		for _, b := range byFile[u.base] {
			if b.Arch != u.Arch {
				continue
			}
			switch b.Variant {
			case u.Variant:
				same = b
			case "runtime":
				runtime = b
			}
		}
		if same == nil {
			same = runtime
		}
		if same != nil {
			u.Needs = []string{same.ID}
		}
	}
	level := map[string]int{}
	var depth func(u *Unit, path []string) (int, error)
	depth = func(u *Unit, path []string) (int, error) {
		if l, ok := level[u.ID]; ok {
			return l, nil
		}
		if slices.Contains(path, u.ID) {
			return 0, fmt.Errorf("plan: units need each other in a cycle: %v", append(path, u.ID))
		}
		l := 0
		for _, n := range u.Needs {
			d, err := depth(byID[n], append(path, u.ID))
			if err != nil {
				return 0, err
			}
			l = max(l, d+1)
		}
		level[u.ID] = l
		return l, nil
	}
	for _, u := range p.Units {
		l, err := depth(u, nil)
		if err != nil {
			return err
		}
		u.Level = l
	}
	for _, ix := range p.Indexes {
		ix.Level = 0
		for _, id := range ix.Units {
			ix.Level = max(ix.Level, byID[id].Level)
		}
	}
	return nil
}

// Levels is how many levels the plan has (1 + the highest Level; 0 for an empty plan).
func (p *Plan) Levels() int {
	n := 0
	for _, u := range p.Units {
		n = max(n, u.Level+1)
	}
	return n
}
