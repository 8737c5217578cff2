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
	// providing lists the packages with a Provides field, in index order, any version.
	providing []*archive.Package
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
		if p.Provides != "" {
			u.providing = append(u.providing, p)
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
// pins, which change the candidates. It is on the critical path of every cold build (trixie
// has 13,000 packages with Provides, 69,000 names in all), so it walks only the packages that
// provide something, in index order, with maps sized up front.
func (u *universe) indexProvides() {
	n := 0
	for _, p := range u.providing {
		n += strings.Count(p.Provides, ",") + 1
	}
	u.provides = make(map[string][]provider, n)
	slots := make([]provider, n)
	var rels []Relation
	for _, p := range u.providing {
		if u.best[p.Name] != p {
			continue // a version that lost, or a pin moved away from
		}
		var err error
		if rels, err = appendRelations(rels[:0], p.Provides); err != nil {
			continue // malformed: no virtual names, as in providedBy
		}
		for _, r := range rels {
			if r.Name != p.Name {
				u.addProvider(r.Name, provider{pkg: p, version: r.Version}, &slots)
			}
		}
	}
	for _, ps := range u.provides {
		if len(ps) > 1 {
			sort.Slice(ps, func(i, j int) bool { return ps[i].pkg.Name < ps[j].pkg.Name })
		}
	}
}

// addProvider appends pr to name's providers. Most names have one: it takes the next of
// slots (capacity 1, so a second provider moves the list out) instead of an allocation.
func (u *universe) addProvider(name string, pr provider, slots *[]provider) {
	if ps, ok := u.provides[name]; ok || len(*slots) == 0 {
		u.provides[name] = append(ps, pr)
		return
	}
	(*slots)[0] = pr
	u.provides[name] = (*slots)[:1:1]
	*slots = (*slots)[1:]
}

// providedBy lists the virtual names p provides, without its own name.
func providedBy(p *archive.Package) []Relation {
	groups, err := ParseRelations(p.Provides)
	if err != nil {
		// A malformed Provides only makes its virtual names unavailable; failing every
		// build that merely shares an index with it would be worse.
		return nil
	}
	var rels []Relation
	for _, g := range groups {
		for _, r := range g {
			if r.Name != p.Name {
				rels = append(rels, r)
			}
		}
	}
	return rels
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
