package build

import (
	"fmt"
	"path"
	"strings"

	"github.com/spartan-images/spartan/internal/alpine/repo"
	"github.com/spartan-images/spartan/internal/debian/resolve"
)

// archiveAlpine marks a locked index that came from the configured Alpine mirror, so that
// another machine's mirror serves it (as "main" and "security" do for Debian).
const archiveAlpine = "alpine"

// alpineLockArch records an Alpine plan in the lock's format.
func (o Options) alpineLockArch(p *Plan) LockArch {
	la := LockArch{Arch: p.Arch, Releases: []LockRelease{}, Packages: []LockPackage{}, Cuts: []LockCut{}}
	mirror := strings.TrimRight(o.alpineMirror(), "/")
	for _, ix := range p.Alpine.Indexes {
		r := LockRelease{URI: ix.URL, Mirror: ix.Mirror, Suite: ix.Repository, Codename: ix.Release, SHA256: ix.SHA256}
		if mirror != "" && ix.Mirror == mirror {
			r.Archive = archiveAlpine
		}
		la.Releases = append(la.Releases, r)
	}
	for _, ap := range p.Alpine.Packages {
		la.Packages = append(la.Packages, LockPackage{
			Name: ap.Pin.Name, Version: ap.Pin.Version, Arch: ap.Pin.Arch, Source: ap.Origin,
			SHA256: ap.Pin.SHA256, Size: ap.Pin.Size, InstalledSize: ap.InstalledSize,
			Filename: path.Base(ap.Pin.URL), Repository: ap.Index, URI: ap.Pin.URL,
			Depends: strings.Join(ap.Depends, " "), Checksum: ap.Pin.Checksum, Why: ap.Why,
		})
	}
	for _, c := range p.Result.Cuts {
		la.Cuts = append(la.Cuts, LockCut{From: c.From, To: c.To, Relation: c.Relation, Reason: c.Reason})
	}
	return la
}

// alpinePlans turns an Alpine lock back into plans. Each package is fetched from its locked
// URI — moved onto the configured mirror when its index was the configured mirror's — and
// must have the locked SHA-256 and control-segment checksum; no index is read.
func (l *Lock) alpinePlans(o Options) ([]*Plan, error) {
	byArch := map[string]LockArch{}
	var have []string
	for _, a := range l.Archs {
		byArch[a.Arch] = a
		have = append(have, a.Arch)
	}
	mirror := strings.TrimRight(o.alpineMirror(), "/")
	var plans []*Plan
	for _, arch := range o.archs() {
		la, ok := byArch[arch]
		if !ok {
			return nil, fmt.Errorf("the lock has no %s resolution (it has %s): run `spartan lock --arch %s`", arch, strings.Join(have, ", "), arch)
		}
		moved := map[string]func(string) string{} // by index URI: rewrites a URL onto the configured mirror
		ap := &AlpinePlan{}
		for _, r := range la.Releases {
			move := func(u string) string { return u }
			if r.Archive == archiveAlpine && mirror != "" && r.Mirror != "" {
				from := strings.TrimRight(r.Mirror, "/")
				move = func(u string) string {
					if rest, ok := strings.CutPrefix(u, from+"/"); ok {
						return mirror + "/" + rest
					}
					return u
				}
			}
			moved[r.URI] = move
			ap.Indexes = append(ap.Indexes, AlpineIndex{URL: move(r.URI), SHA256: r.SHA256,
				Mirror: strings.TrimRight(move(r.Mirror+"/"), "/"), Release: r.Codename, Repository: r.Suite})
		}
		for _, p := range la.Packages {
			move, ok := moved[p.Repository]
			if !ok {
				return nil, fmt.Errorf("lock: %s %s names repository %s, which the lock does not list", arch, p.Name, p.Repository)
			}
			if p.URI == "" {
				return nil, fmt.Errorf("lock: %s %s has no uri: run `spartan lock` again", arch, p.Name)
			}
			ap.Packages = append(ap.Packages, AlpinePackage{
				Pin: repo.Pin{URL: move(p.URI), SHA256: p.SHA256, Size: p.Size, Name: p.Name, Version: p.Version,
					Arch: p.Arch, Checksum: p.Checksum},
				Origin: p.Source, InstalledSize: p.InstalledSize, Depends: strings.Fields(p.Depends),
				Index: move(p.Repository), Why: p.Why,
			})
		}
		res := &resolve.Result{}
		for _, c := range la.Cuts {
			res.Cuts = append(res.Cuts, resolve.Cut{From: c.From, To: c.To, Relation: c.Relation, Reason: c.Reason})
		}
		plans = append(plans, &Plan{Arch: arch, Result: res, Alpine: ap})
	}
	return plans, nil
}
