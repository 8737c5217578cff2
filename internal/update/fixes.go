package update

import (
	"context"
	"fmt"
	"slices"
	"strings"

	alpineversion "github.com/spartan-images/spartan/internal/alpine/version"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/debian/version"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/vuln"
)

// Evidence says where a fix is known from.
const (
	FromDatabase  = "database"
	FromChangelog = "changelog"
)

// Fix is a CVE a bump fixes.
type Fix struct {
	CVE string
	// FixedIn is the source version that fixed it: the database's fixed_version, else the
	// version of the oldest changelog entry since the old version that names it.
	FixedIn   string
	Evidence  []string // FromDatabase, FromChangelog
	Severity  string   // from the database, when it knows the CVE
	Published string   // RFC 3339, when a source gives it (OSV does, the tracker does not)
}

// Finder looks up the CVEs bumps fix.
type Finder struct {
	DB      *vuln.DB // nil: changelogs only
	Release string   // codename the database is asked about ("trixie")
	// Fetch downloads the new .debs (cache.Downloader.FetchAll): their changelogs name the CVEs
	// the upload fixed. Nil: database only.
	Fetch func(context.Context, []cache.Item) (map[string]string, error)
}

// Fixes fills in each version change's Fixes. Additions and removals fix nothing: the image did
// not carry the old version.
func (f *Finder) Fixes(ctx context.Context, cur *build.Lock, bumps []Bump) error {
	pkgs := map[string]build.LockPackage{}
	for _, a := range cur.Archs {
		for _, p := range a.Packages {
			pkgs[a.Arch+"/"+p.Name] = p
		}
	}
	// Alpine packages carry no changelog, their records use the secdb's release key and apk's
	// version order.
	alpine := cur.Distro == spec.DistroAlpine
	release, compare := f.Release, version.Compare
	if alpine {
		release, compare = vuln.AlpineRelease(f.Release), alpineversion.CompareStrings
	}
	var items []cache.Item
	for _, b := range bumps {
		if alpine || b.Added() || b.Removed() {
			continue
		}
		p := pkgs[b.Arch+"/"+b.Name]
		items = append(items, cache.Item{Name: p.Name + "_" + p.Version + "_" + p.Arch, URL: p.URI, SHA256: p.SHA256, Size: p.Size})
	}
	var paths map[string]string
	if f.Fetch != nil && len(items) > 0 {
		var err error
		if paths, err = f.Fetch(ctx, items); err != nil {
			return fmt.Errorf("fetch the new packages to read their changelogs: %w", err)
		}
	}
	for i := range bumps {
		b := &bumps[i]
		if b.Added() || b.Removed() {
			continue
		}
		found := map[string]*Fix{}
		if f.DB != nil {
			recs, err := f.DB.Lookup(release, b.Source)
			if err != nil {
				return fmt.Errorf("vulnerability database: %s %s: %w", release, b.Source, err)
			}
			for _, r := range recs {
				if r.Status != vuln.StatusResolved || r.FixedVersion == "" || r.NeverAffected() {
					continue
				}
				if compare(r.FixedVersion, b.OldSourceVersion) > 0 && compare(r.FixedVersion, b.NewSourceVersion) <= 0 {
					found[r.CVE] = &Fix{CVE: r.CVE, FixedIn: r.FixedVersion, Evidence: []string{FromDatabase}, Severity: r.Severity(), Published: r.Published}
				}
			}
		}
		if path, ok := paths[strings.ToLower(pkgs[b.Arch+"/"+b.Name].SHA256)]; ok {
			entries, has, err := DebChangelog(path, b.Name)
			if err != nil {
				return err
			}
			b.Changelog = has
			since := CVEsSince(entries, b.OldSourceVersion)
			for _, id := range sortedKeys(since) {
				if x, ok := found[id]; ok {
					x.Evidence = append(x.Evidence, FromChangelog)
					continue
				}
				fx := &Fix{CVE: id, FixedIn: since[id], Evidence: []string{FromChangelog}}
				if f.DB != nil {
					// The database may know the CVE (severity, date) without a fixed version for
					// this release yet: the changelog is ahead of the tracker.
					if r, ok, err := lookupCVE(f.DB, f.Release, b.Source, id); err != nil {
						return err
					} else if ok {
						fx.Severity, fx.Published = r.Severity(), r.Published
					}
				}
				found[id] = fx
			}
		}
		b.Fixes = b.Fixes[:0]
		for _, id := range sortedFixKeys(found) {
			b.Fixes = append(b.Fixes, *found[id])
		}
	}
	return nil
}

func lookupCVE(db *vuln.DB, release, pkg, cve string) (vuln.Record, bool, error) {
	recs, err := db.Lookup(release, pkg)
	if err != nil {
		return vuln.Record{}, false, err
	}
	i, ok := slices.BinarySearchFunc(recs, cve, func(r vuln.Record, id string) int { return strings.Compare(r.CVE, id) })
	if !ok {
		return vuln.Record{}, false, nil
	}
	return recs[i], true, nil
}

func sortedFixKeys(m map[string]*Fix) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
