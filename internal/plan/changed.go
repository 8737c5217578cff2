package plan

import "slices"

// Affected is the reverse index for a mirror update: the part of the plan whose locks hold
// one of these source packages (a binary package's name matches too when it has no separate
// source), with the indexes those units belong to.
func (p *Plan) Affected(sources []string) *Plan {
	out := *p
	out.Units, out.Indexes = []*Unit{}, []*Index{}
	hit := map[string]bool{}
	for _, u := range p.Units {
		for _, s := range sources {
			if _, ok := slices.BinarySearch(u.Sources, s); ok {
				out.Units = append(out.Units, u)
				hit[u.ID] = true
				break
			}
		}
	}
	for _, ix := range p.Indexes {
		if slices.ContainsFunc(ix.Units, func(id string) bool { return hit[id] }) {
			out.Indexes = append(out.Indexes, ix)
		}
	}
	return &out
}
