package build

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/atomicfile"

	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/spec"
)

// LockVersion is the lockfile format's version.
const LockVersion = 1

// Lock pins a spec's resolution: per architecture every package with its version, SHA-256,
// size and where it comes from, and every InRelease the resolution used. `build --locked`
// builds exactly this set without resolving again; the SHA-256s make any mirror serving the
// same files as good as the one that was used.
//
// An Alpine spec's lock (Distro "alpine") has the same shape: Releases are the APKINDEX.tar.gz
// files (Suite the repository, Codename the branch), packages are .apk files with the index's
// control-segment Checksum besides the file's SHA-256.
type Lock struct {
	LockVersion int        `json:"lockVersion"`
	Distro      string     `json:"distro,omitempty"` // "alpine"; empty for Debian
	Spec        LockSpec   `json:"spec"`
	Archs       []LockArch `json:"archs"`
}

// LockSpec identifies the spec the lock was made from.
type LockSpec struct {
	Name    string `json:"name"`
	File    string `json:"file"` // base name, for messages
	Variant string `json:"variant"`
	SHA256  string `json:"sha256"` // spec.Spec.Digest: the spec file's bytes (with its base's, for a custom image)
}

// LockArch is one architecture's resolution.
type LockArch struct {
	Arch     string        `json:"arch"`
	Releases []LockRelease `json:"releases"`
	Packages []LockPackage `json:"packages"`
	Cuts     []LockCut     `json:"cuts"`
}

// LockRelease is an InRelease file the resolution read.
type LockRelease struct {
	URI string `json:"uri"` // the InRelease URL
	// Archive is "main" or "security" when the repository is the configured mirror (so that
	// another machine's mirror serves it), "" for a repository with its own URL.
	Archive    string    `json:"archive,omitempty"`
	Mirror     string    `json:"mirror"` // repository root the URI and the packages' Filenames hang off
	Suite      string    `json:"suite"`
	Codename   string    `json:"codename,omitempty"`
	Version    string    `json:"version,omitempty"`
	Components []string  `json:"components,omitempty"`
	SHA256     string    `json:"sha256"`
	Date       time.Time `json:"date"`
}

// LockPackage is one pinned .deb.
type LockPackage struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Arch          string   `json:"arch"`
	Source        string   `json:"source,omitempty"`
	SourceVersion string   `json:"sourceVersion,omitempty"`
	SHA256        string   `json:"sha256"`
	Size          int64    `json:"size"`
	InstalledSize int64    `json:"installedSize,omitempty"` // KiB, as the index says
	Filename      string   `json:"filename"`                // relative to the repository's mirror
	Repository    string   `json:"repository"`              // the InRelease URI it was listed under
	URI           string   `json:"uri"`                     // where it was downloaded from
	Depends       string   `json:"depends,omitempty"`
	PreDepends    string   `json:"preDepends,omitempty"`
	MultiArch     string   `json:"multiArch,omitempty"`
	Checksum      string   `json:"checksum,omitempty"` // apk: the index's C: (Q1… SHA-1 of the control segment)
	Why           []string `json:"why,omitempty"`
}

// LockCut is a dependency edge the hardening profile cut.
type LockCut struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Relation string `json:"relation"`
	Reason   string `json:"reason"`
}

// LockPath is where a spec's lock lives: spartan.lock.json beside spartan.yaml (NAME.lock.json
// beside NAME.yaml); a variant other than the base gets its own file (spartan.dev.lock.json).
func LockPath(s *spec.Spec) string {
	dir, base := filepath.Split(s.File)
	stem := strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
	if v := variantName(s); v != "runtime" {
		stem += "." + v
	}
	return filepath.Join(dir, stem+".lock.json")
}

// NewLock records plans made by Resolve.
func NewLock(o Options, plans []*Plan) (*Lock, error) {
	l := &Lock{LockVersion: LockVersion, Spec: LockSpec{Name: o.Spec.Name, File: filepath.Base(o.Spec.File), Variant: variantName(o.Spec), SHA256: o.Spec.Digest()}}
	if IsAlpine(o.Spec) {
		l.Distro = spec.DistroAlpine
	}
	for _, p := range plans {
		if p.Alpine != nil {
			l.Archs = append(l.Archs, o.alpineLockArch(p))
			continue
		}
		la := LockArch{Arch: p.Arch, Releases: []LockRelease{}, Packages: []LockPackage{}, Cuts: []LockCut{}}
		for _, r := range p.Releases {
			la.Releases = append(la.Releases, LockRelease{
				URI: r.URL, Archive: o.archiveOf(r.Source.URL), Mirror: strings.TrimSuffix(r.Source.URL, "/"),
				Suite: r.Source.Suite, Codename: r.Codename, Version: r.Version, Components: r.Source.Components,
				SHA256: strings.ToLower(r.SHA256), Date: r.Date.UTC(),
			})
		}
		for _, s := range p.SortedPackages() {
			pk := s.Pkg
			if pk.Origin == nil {
				return nil, fmt.Errorf("lock %s: package %s has no repository", p.Arch, pk.ID())
			}
			la.Packages = append(la.Packages, LockPackage{
				Name: pk.Name, Version: pk.Version, Arch: pk.Architecture, Source: pk.Source, SourceVersion: pk.SourceVersion,
				SHA256: strings.ToLower(pk.SHA256), Size: pk.Size, InstalledSize: pk.InstalledSize,
				Filename: pk.Filename, Repository: pk.Origin.URL, URI: pk.URL(),
				Depends: pk.Depends, PreDepends: pk.PreDepends, MultiArch: pk.MultiArch, Why: s.Why,
			})
		}
		for _, c := range p.Result.Cuts {
			la.Cuts = append(la.Cuts, LockCut{From: c.From, To: c.To, Relation: c.Relation, Reason: c.Reason})
		}
		l.Archs = append(l.Archs, la)
	}
	return l, nil
}

func (o Options) archiveOf(url string) string {
	url = strings.TrimSuffix(url, "/")
	switch {
	case url == "":
		return ""
	case url == strings.TrimSuffix(o.Mirrors.Main, "/"):
		return "main"
	case url == strings.TrimSuffix(o.Mirrors.Security, "/"):
		return "security"
	}
	return ""
}

// WriteLock writes the lock atomically, indented, ending in a newline (it is meant to be
// committed and reviewed).
func WriteLock(path string, l *Lock) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := atomicfile.WriteBytes(path, 0o644, data); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	return nil
}

// ErrStaleLock says the spec changed since the lock was written.
var ErrStaleLock = errors.New("lock is stale")

// LockMode says how much of a lock's relation to the spec ReadLock insists on. Both modes
// check what makes a lock usable at all: JSON, the format version and every package's
// name, version, SHA-256 and filename.
type LockMode int

const (
	// LockStrict is for building from the lock (build --locked): it must exist and belong to
	// the spec as it is now (same variant, same spec digest).
	LockStrict LockMode = iota
	// LockTolerant is for comparing with the lock (update): a lock the spec has outgrown still
	// says what the image held, and a missing lock is (nil, nil) — every package is new.
	LockTolerant
)

// ReadLock reads the lock at path; s is the spec it should belong to (only LockStrict needs it).
func ReadLock(path string, s *spec.Spec, mode LockMode) (*Lock, error) {
	again := "run `spartan lock` again"
	if mode == LockTolerant {
		again = "delete it and run `spartan update` again"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist) && mode == LockTolerant:
			return nil, nil
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("no lock at %s: run `spartan lock` first", path)
		}
		return nil, fmt.Errorf("read lock: %w", err)
	}
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if l.LockVersion != LockVersion {
		return nil, fmt.Errorf("lock %s: format version %d, this spartan reads %d: %s", path, l.LockVersion, LockVersion, again)
	}
	for _, a := range l.Archs {
		for _, p := range a.Packages {
			if p.Name == "" || p.Version == "" || !isSHA256(p.SHA256) || p.Filename == "" {
				return nil, fmt.Errorf("lock %s: %s: package %q is missing its version, sha256 or filename: %s", path, a.Arch, p.Name, again)
			}
		}
	}
	if mode == LockTolerant {
		return &l, nil
	}
	if want := map[bool]string{true: spec.DistroAlpine}[IsAlpine(s)]; l.Distro != want {
		return nil, fmt.Errorf("lock %s is for distro %q, the spec builds %s: run `spartan lock` again", path, l.Distro, s.Distro)
	}
	if l.Spec.Variant != variantName(s) {
		return nil, fmt.Errorf("lock %s is for variant %s, not %s", path, l.Spec.Variant, variantName(s))
	}
	if d := s.Digest(); l.Spec.SHA256 != d {
		return nil, fmt.Errorf("%w: %s changed since %s was written (spec sha256 %.12s…, locked %.12s…): run `spartan lock` again", ErrStaleLock, s.File, path, d, l.Spec.SHA256)
	}
	return &l, nil
}

func isSHA256(s string) bool {
	_, err := hex.DecodeString(s)
	return len(s) == 64 && err == nil
}

// Plans turns the lock back into build plans, for the options' architectures (the spec's
// unless overridden). Packages come from the locked repositories, or from the configured
// mirror for those that were the main or security mirror when locked.
func (l *Lock) Plans(o Options) ([]*Plan, error) {
	if l.Distro == spec.DistroAlpine {
		return l.alpinePlans(o)
	}
	byArch := map[string]LockArch{}
	for _, a := range l.Archs {
		byArch[a.Arch] = a
	}
	var plans []*Plan
	for _, arch := range o.archs() {
		la, ok := byArch[arch]
		if !ok {
			have := make([]string, 0, len(byArch))
			for a := range byArch {
				have = append(have, a)
			}
			slices.Sort(have)
			return nil, fmt.Errorf("the lock has no %s resolution (it has %s): run `spartan lock --arch %s`", arch, strings.Join(have, ", "), arch)
		}
		rels := map[string]*archive.Release{}
		var releases []*archive.Release
		for _, r := range la.Releases {
			mirror := r.Mirror
			switch r.Archive {
			case "main":
				mirror = firstNonEmpty(o.Mirrors.Main, mirror)
			case "security":
				mirror = firstNonEmpty(o.Mirrors.Security, mirror)
			}
			rel := &archive.Release{
				Source: archive.Source{URL: strings.TrimSuffix(mirror, "/"), Suite: r.Suite, Components: r.Components},
				Suite:  r.Suite, Codename: r.Codename, Version: r.Version, Date: r.Date, SHA256: r.SHA256, URL: r.URI,
			}
			rels[r.URI] = rel
			releases = append(releases, rel)
		}
		res := &resolve.Result{}
		for _, p := range la.Packages {
			rel, ok := rels[p.Repository]
			if !ok {
				return nil, fmt.Errorf("lock: %s %s names repository %s, which the lock does not list", arch, p.Name, p.Repository)
			}
			pk := &archive.Package{
				Name: p.Name, Version: p.Version, Architecture: p.Arch,
				Source: firstNonEmpty(p.Source, p.Name), SourceVersion: firstNonEmpty(p.SourceVersion, p.Version),
				Filename: p.Filename, SHA256: p.SHA256, Size: p.Size, InstalledSize: p.InstalledSize,
				Depends: p.Depends, PreDepends: p.PreDepends, MultiArch: p.MultiArch, Origin: rel,
			}
			res.Packages = append(res.Packages, resolve.Selected{Pkg: pk, Why: p.Why})
		}
		for _, c := range la.Cuts {
			res.Cuts = append(res.Cuts, resolve.Cut{From: c.From, To: c.To, Relation: c.Relation, Reason: c.Reason})
		}
		plans = append(plans, &Plan{Arch: arch, Releases: releases, Result: res})
	}
	return plans, nil
}

// BuildLocked builds exactly what the lock pins, without reading any repository index.
func BuildLocked(ctx context.Context, o Options, l *Lock) (*Output, error) {
	plans, err := l.Plans(o)
	if err != nil {
		return nil, err
	}
	return BuildPlans(ctx, o, plans)
}
