package resolve

import (
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/version"
)

// universe is every installable candidate for one architecture: one package per name, and the
// virtual names their Provides fields offer.
type universe struct {
	arch string
	// best is the package each name resolves to: the highest version for the architecture
	// across all suites, or the pinned one.
	best map[string]*archive.Package
	// older keeps the versions that lost, so pins can pick them and errors can list them.
	older map[string][]*archive.Package
	// provides maps a virtual name to the candidates providing it, sorted by name.
	provides map[string][]provider
	// provided maps a candidate to what it provides, to index selected providers.
	provided map[*archive.Package][]Relation
	// otherArch remembers names that exist only for other architectures, for error messages.
	otherArch map[string][]string
	suites    []string
}

type provider struct {
	pkg     *archive.Package
	version string // "" for an unversioned Provides
}

func newUniverse(pkgs []*archive.Package, arch string) *universe {
	u := &universe{
		arch:      arch,
		best:      make(map[string]*archive.Package, len(pkgs)),
		older:     map[string][]*archive.Package{},
		otherArch: map[string][]string{},
	}
	seenSuite := map[string]bool{}
	for _, p := range pkgs {
		if p == nil || p.Name == "" {
			continue
		}
		if p.Origin != nil {
			s := p.Origin.Suite
			if s == "" {
				s = p.Origin.Codename
			}
			if s != "" && !seenSuite[s] {
				seenSuite[s] = true
				u.suites = append(u.suites, s)
			}
		}
		if p.Architecture != arch && p.Architecture != "all" {
			if !contains(u.otherArch[p.Name], p.Architecture) {
				u.otherArch[p.Name] = append(u.otherArch[p.Name], p.Architecture)
			}
			continue
		}
		cur, ok := u.best[p.Name]
		switch {
		case !ok:
			u.best[p.Name] = p
		case version.Compare(p.Version, cur.Version) > 0:
			u.best[p.Name] = p
			u.older[p.Name] = append(u.older[p.Name], cur)
		default:
			// Equal versions in two suites are the same package; the first one listed wins.
			u.older[p.Name] = append(u.older[p.Name], p)
		}
	}
	return u
}

// pin makes name resolve to exactly ver; it reports false when no suite has that version.
func (u *universe) pin(name, ver string) bool {
	if b := u.best[name]; b != nil && version.Compare(b.Version, ver) == 0 {
		return true
	}
	for i, p := range u.older[name] {
		if version.Compare(p.Version, ver) == 0 {
			u.older[name][i] = u.best[name]
			u.best[name] = p
			return true
		}
	}
	return false
}

// indexProvides builds the virtual-package map from the chosen candidates; it runs after
// pinning so that a pinned version's Provides are the ones that count.
func (u *universe) indexProvides() {
	u.provides = map[string][]provider{}
	u.provided = map[*archive.Package][]Relation{}
	for _, p := range u.best {
		if p.Provides == "" {
			continue
		}
		groups, err := ParseRelations(p.Provides)
		if err != nil {
			// A malformed Provides only makes its virtual names unavailable; failing every
			// build that merely shares an index with it would be worse.
			continue
		}
		var rels []Relation
		for _, g := range groups {
			for _, r := range g {
				if r.Name == p.Name {
					continue
				}
				rels = append(rels, r)
				u.provides[r.Name] = append(u.provides[r.Name], provider{pkg: p, version: r.Version})
			}
		}
		u.provided[p] = rels
	}
	for _, ps := range u.provides {
		sort.Slice(ps, func(i, j int) bool { return ps[i].pkg.Name < ps[j].pkg.Name })
	}
}

// versions lists every version of name for the architecture, newest first, without repeats.
func (u *universe) versions(name string) []string {
	var vs []string
	if b := u.best[name]; b != nil {
		vs = append(vs, b.Version)
	}
	for _, p := range u.older[name] {
		vs = append(vs, p.Version)
	}
	sort.SliceStable(vs, func(i, j int) bool { return version.Compare(vs[i], vs[j]) > 0 })
	out := vs[:0]
	for i, v := range vs {
		if i == 0 || v != vs[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// where describes the search space for messages: "in trixie,trixie-security (amd64)".
func (u *universe) where() string {
	if len(u.suites) == 0 {
		return "(" + u.arch + ")"
	}
	return "in " + strings.Join(u.suites, ",") + " (" + u.arch + ")"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
