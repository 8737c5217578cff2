package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/editdist"
)

// universe indexes the packages of one architecture by name and by what they provide.
type universe struct {
	byName    map[string][]*apkindex.Package // highest version first
	providers map[string][]*apkindex.Package
}

func newUniverse(pkgs []*apkindex.Package, arch string) *universe {
	u := &universe{byName: map[string][]*apkindex.Package{}, providers: map[string][]*apkindex.Package{}}
	for _, p := range pkgs {
		if p.Arch != arch && p.Arch != "noarch" {
			continue
		}
		u.byName[p.Name] = append(u.byName[p.Name], p)
		for _, s := range p.Provides {
			pv := parseProvide(s)
			u.providers[pv.name] = append(u.providers[pv.name], p)
		}
	}
	for _, ps := range u.byName {
		sort.SliceStable(ps, func(i, j int) bool { return versionOrder(ps[i].Version, ps[j].Version) })
	}
	return u
}

// candidates lists the packages that could satisfy d, best first: packages of that name by
// version, then providers by provider_priority, provided version and name.
func (u *universe) candidates(d Dep) []*apkindex.Package {
	var out []*apkindex.Package
	for _, p := range u.byName[d.Name] {
		if d.matches(p.Version) {
			out = append(out, p)
		}
	}
	if len(out) > 0 {
		return out
	}
	type cand struct {
		p   *apkindex.Package
		ver string
	}
	var cs []cand
	for _, p := range u.providers[d.Name] {
		for _, s := range p.Provides {
			if pv := parseProvide(s); pv.name == d.Name && d.matches(pv.version) {
				cs = append(cs, cand{p, pv.version})
				break
			}
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.p.ProviderPriority != b.p.ProviderPriority {
			return a.p.ProviderPriority > b.p.ProviderPriority
		}
		if a.ver != b.ver {
			return versionOrder(a.ver, b.ver)
		}
		if a.p.Name != b.p.Name {
			return a.p.Name < b.p.Name
		}
		return versionOrder(a.p.Version, b.p.Version)
	})
	for _, c := range cs {
		out = append(out, c.p)
	}
	return out
}

func (u *universe) installIf() []*apkindex.Package {
	var out []*apkindex.Package
	for _, ps := range u.byName {
		if len(ps) > 0 && len(ps[0].InstallIf) > 0 {
			out = append(out, ps[0])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// explain says why nothing satisfies d: no such name (with suggestions), or no version that
// fits (listing those that exist).
func (u *universe) explain(d Dep) string {
	var have []string
	for _, p := range u.byName[d.Name] {
		have = append(have, p.Version)
	}
	for _, p := range u.providers[d.Name] {
		have = append(have, p.Name+" "+p.Version)
	}
	if len(have) > 0 {
		return fmt.Sprintf("nothing satisfies %s (available: %s)", d.Raw, strings.Join(have, ", "))
	}
	msg := fmt.Sprintf("no package named or providing %q in the repositories", d.Name)
	if s := u.suggest(d.Name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, ", ") + "?"
	}
	return msg
}

func (u *universe) suggest(name string) []string {
	var out []string
	for n := range u.byName {
		if editdist.Distance(n, name, 3) <= 2 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}
