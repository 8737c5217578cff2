package migrate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/editdist"
)

// Index is the package names of the Debian release Spartan's images are built from, to check
// the names an `apt-get install` asks for before they go into a spec.
type Index struct {
	Release  string
	names    map[string]bool
	provides map[string][]string // virtual name → real packages providing it
}

// NewIndex indexes the packages loaded from the release's Packages files.
func NewIndex(release string, pkgs []*archive.Package) *Index {
	ix := &Index{Release: release, names: map[string]bool{}, provides: map[string][]string{}}
	for _, p := range pkgs {
		ix.names[p.Name] = true
	}
	for _, p := range pkgs {
		// The resolver's parser: a malformed Provides only hides its virtual names, as there.
		groups, _ := resolve.ParseRelations(p.Provides)
		for _, g := range groups {
			for _, r := range g {
				if ix.names[r.Name] {
					continue
				}
				if l := ix.provides[r.Name]; len(l) == 0 || l[len(l)-1] != p.Name {
					ix.provides[r.Name] = append(ix.provides[r.Name], p.Name)
				}
			}
		}
	}
	return ix
}

// renamed are packages that left Debian under their old name with no Provides to find the
// new one by: the name a Dockerfile for an older release asks for → what trixie ships instead.
var renamed = map[string][]string{
	"libgl1-mesa-glx":    {"libgl1", "libglx-mesa0"},
	"libgdk-pixbuf2.0-0": {"libgdk-pixbuf-2.0-0"},
	"netcat":             {"netcat-openbsd"},
}

// translate returns the release's names for a requested package, and a note when they differ.
// ok is false when the release has no such package.
func (ix *Index) translate(name string) (names []string, note string, ok bool) {
	name, _, _ = strings.Cut(name, "=") // apt's pkg=version pins: the release has one version
	name = strings.TrimSuffix(name, ":"+"amd64")
	if ix.names[name] {
		return []string{name}, "", true
	}
	// The 64-bit time_t transition renamed libraries: libssl3 → libssl3t64.
	if t := name + "t64"; ix.names[t] {
		return []string{t}, fmt.Sprintf("%s is %s in %s (64-bit time_t transition)", name, t, ix.Release), true
	}
	if to, ok := renamed[name]; ok {
		all := true
		for _, n := range to {
			all = all && ix.names[n]
		}
		if all {
			return to, fmt.Sprintf("%s is %s in %s", name, strings.Join(to, " and "), ix.Release), true
		}
	}
	if p := ix.provides[name]; len(p) > 0 {
		sort.Strings(p)
		return p[:1], fmt.Sprintf("%s is provided by %s in %s", name, p[0], ix.Release), true
	}
	return nil, "", false
}

// suggest is a "did you mean" for a name the release lacks, or how to look for it.
func (ix *Index) suggest(name string) string {
	if best := editdist.Closest(name, slices.Collect(maps.Keys(ix.names)), 2); best != "" {
		return fmt.Sprintf(": did you mean %s?", best)
	}
	return ": check the name (apt-cache search in a Spartan -dev image) or drop it"
}
