// Package update compares a spec's fresh resolution with its lock: which packages moved to
// which version, and which CVEs each move fixes — by the vulnerability database (records whose
// fixed version lies in (old, new]) and by the new package's own changelog (CVE ids in the
// entries since the old version). Updater runs the whole of `spartan update` on top: it
// rebuilds and publishes what changed, rewrites the lock and records it all in the timeline.
package update

import (
	"slices"

	"github.com/spartan-images/spartan/internal/build"
)

// Bump is one package that differs between the lock and the new resolution of one
// architecture. Old is empty for a package that was not in the image, New for one that left.
type Bump struct {
	Arch, Name       string
	Old, New         string // binary versions
	Source           string // source package (the new one's, else the old one's)
	OldSourceVersion string
	NewSourceVersion string
	Fixes            []Fix
	Repository       string // InRelease URI the new version came from
	// Changelog says whether the new .deb's changelog was read (a package whose doc directory
	// is another package's symlink ships none).
	Changelog bool
}

// Added and Removed tell a package that joined or left the image from a version change.
func (b Bump) Added() bool   { return b.Old == "" }
func (b Bump) Removed() bool { return b.New == "" }

// Diff lists the packages that differ between two locks, per architecture of the new one,
// sorted by architecture and name. A nil old lock makes every package an addition.
func Diff(old, cur *build.Lock) []Bump {
	before := map[string]map[string]build.LockPackage{}
	if old != nil {
		for _, a := range old.Archs {
			m := map[string]build.LockPackage{}
			for _, p := range a.Packages {
				m[p.Name] = p
			}
			before[a.Arch] = m
		}
	}
	var out []Bump
	for _, a := range cur.Archs {
		prev := before[a.Arch]
		now := map[string]bool{}
		for _, p := range a.Packages {
			now[p.Name] = true
			o, had := prev[p.Name]
			if had && o.Version == p.Version && o.SHA256 == p.SHA256 {
				continue
			}
			b := Bump{Arch: a.Arch, Name: p.Name, New: p.Version, Source: srcName(p), NewSourceVersion: srcVersion(p), Repository: p.Repository}
			if had {
				b.Old, b.OldSourceVersion = o.Version, srcVersion(o)
			}
			out = append(out, b)
		}
		for name, o := range prev {
			if !now[name] {
				out = append(out, Bump{Arch: a.Arch, Name: name, Old: o.Version, Source: srcName(o), OldSourceVersion: srcVersion(o)})
			}
		}
	}
	slices.SortFunc(out, func(x, y Bump) int {
		if x.Arch != y.Arch {
			if x.Arch < y.Arch {
				return -1
			}
			return 1
		}
		switch {
		case x.Name < y.Name:
			return -1
		case x.Name > y.Name:
			return 1
		}
		return 0
	})
	return out
}

// Changed tells whether the image must be rebuilt: packages moved, the spec changed since the
// lock, or the lock lacks an architecture.
func Changed(old, cur *build.Lock, bumps []Bump) bool {
	if old == nil || len(bumps) > 0 || old.Spec.SHA256 != cur.Spec.SHA256 || len(old.Archs) != len(cur.Archs) {
		return true
	}
	for i := range old.Archs {
		if old.Archs[i].Arch != cur.Archs[i].Arch {
			return true
		}
	}
	return false
}

func srcName(p build.LockPackage) string {
	if p.Source != "" {
		return p.Source
	}
	return p.Name
}

func srcVersion(p build.LockPackage) string {
	if p.SourceVersion != "" {
		return p.SourceVersion
	}
	return p.Version
}
