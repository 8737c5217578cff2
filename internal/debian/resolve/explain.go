package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/editdist"
)

// unknown explains a name that nothing in the universe answers to, with close names as
// suggestions: typos and missing soname suffixes ("libfoo" for "libfoo1") are the usual causes.
func (r *resolver) unknown(name string) string {
	msg := "no such package " + r.u.where()
	if arches := r.u.otherArch[name]; len(arches) > 0 {
		msg += "; it exists only for " + strings.Join(arches, ", ")
	}
	if s := r.suggest(name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return msg
}

// unsatisfiable explains why rel cannot be met although its name exists.
func (r *resolver) unsatisfiable(rel Relation) string {
	p := r.u.best[rel.Name]
	provs := r.u.provides[rel.Name]
	switch {
	case !r.archQualOK(rel):
		return fmt.Sprintf("%s: qualified for architecture %s, resolving %s", rel.Name, rel.Arch, r.u.arch)
	case p == nil && len(provs) == 0:
		return rel.Name + ": " + r.unknown(rel.Name)
	case p == nil:
		var offers []string
		for _, pr := range provs {
			if pr.version == "" {
				offers = append(offers, pr.pkg.Name+" (unversioned)")
			} else {
				offers = append(offers, pr.pkg.Name+" (= "+pr.version+")")
			}
		}
		return fmt.Sprintf("%s is virtual and no provider satisfies (%s %s): provided by %s",
			rel.Name, rel.Op, rel.Version, strings.Join(offers, ", "))
	}
	vs := r.u.versions(rel.Name)
	msg := fmt.Sprintf("%s %s does not satisfy (%s %s); available %s: %s",
		rel.Name, p.Version, rel.Op, rel.Version, r.u.where(), strings.Join(vs, ", "))
	for _, v := range vs {
		if rel.satisfiedBy(v) {
			msg += fmt.Sprintf("; pin %s=%s in packages to use it", rel.Name, v)
			break
		}
	}
	return msg
}

func ambiguous(name string, provs []provider) string {
	names := make([]string, len(provs))
	for i, p := range provs {
		names[i] = p.pkg.Name
	}
	return fmt.Sprintf("virtual package %s is provided by: %s; add one to packages",
		name, strings.Join(names, ", "))
}

// suggest returns up to three known names close to name: within a small edit distance, or
// extending it (libfoo → libfoo1, libfoo-dev). Closest first, then by name.
func (r *resolver) suggest(name string) []string {
	type cand struct {
		name string
		dist int
	}
	limit := 2
	if len(name) >= 12 {
		limit = 3
	}
	var cs []cand
	consider := func(n string) {
		if n == name {
			return
		}
		if strings.HasPrefix(n, name) && len(n)-len(name) <= 4 {
			cs = append(cs, cand{n, len(n) - len(name)})
			return
		}
		if abs(len(n)-len(name)) > limit {
			return
		}
		if d := editdist.Distance(name, n, limit); d <= limit {
			cs = append(cs, cand{n, d})
		}
	}
	for n := range r.u.best {
		consider(n)
	}
	for n := range r.u.provides {
		if r.u.best[n] == nil {
			consider(n)
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].dist != cs[j].dist {
			return cs[i].dist < cs[j].dist
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
