package build

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/image"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/alpine/repo"
	aresolve "github.com/spartan-images/spartan/internal/alpine/resolve"
	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/spec"
)

// EnvAlpineMirror sets the Alpine mirror (the directory holding v3.22/, edge/ …) when no flag
// or spec repository URL does. There is no host default: the host's apt sources name Debian.
const EnvAlpineMirror = "SPARTAN_ALPINE_MIRROR"

// apkArchs maps Spartan's (Debian) architecture names to apk's.
var apkArchs = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "armhf": "armv7", "ppc64el": "ppc64le",
	"riscv64": "riscv64", "s390x": "s390x",
}

// IsAlpine tells whether the spec builds from Alpine packages.
func IsAlpine(s *spec.Spec) bool { return s.Distro == spec.DistroAlpine }

var errAlpineUnsupported = errors.New("not supported for distro alpine yet")

// alpineKeys are the keys Alpine packages may be signed with: Alpine's release keys and every
// repository's keyring:. Pinned packages (from a lock or a provenance) need no mirror to
// check, so this does not ask for one.
func (o Options) alpineKeys() (keyring.Keyring, error) {
	all, err := keyring.Default()
	if err != nil {
		return nil, err
	}
	for _, r := range o.Spec.Repositories {
		if r.Keyring != "" {
			if err := all.Load(r.Keyring); err != nil {
				return nil, fmt.Errorf("repository %s: %w", strings.Join(r.Suites, ","), err)
			}
		}
	}
	return all, nil
}

// alpineMirror is the configured Alpine mirror: flag, then environment ("" when neither).
func (o Options) alpineMirror() string {
	return firstNonEmpty(o.Mirrors.Alpine, os.Getenv(EnvAlpineMirror))
}

// alpineRepositories binds the spec's repositories to the Alpine mirror and keys.
func (o Options) alpineRepositories() ([]repo.Repository, error) {
	base, err := keyring.Default()
	if err != nil {
		return nil, err
	}
	var out []repo.Repository
	for _, r := range o.Spec.Repositories {
		mirror := firstNonEmpty(r.URL, o.alpineMirror())
		if mirror == "" {
			return nil, fmt.Errorf("alpine repositories %s: no Alpine mirror configured: pass --alpine-mirror URL, set %s or give the repository a url:",
				strings.Join(r.Suites, ","), EnvAlpineMirror)
		}
		keys := keyring.Keyring{}
		for k, v := range base {
			keys[k] = v
		}
		if r.Keyring != "" {
			if err := keys.Load(r.Keyring); err != nil {
				return nil, fmt.Errorf("repository %s: %w", mirror, err)
			}
		}
		for _, name := range r.Suites {
			out = append(out, repo.Repository{Mirror: mirror, Release: o.Spec.Release, Name: name, Keys: keys})
		}
	}
	return out, nil
}

func alpinePolicy(p spec.Profile) aresolve.Policy {
	switch p {
	case spec.Dev:
		return aresolve.DevPolicy()
	case spec.Debug:
		return aresolve.DebugPolicy()
	}
	return aresolve.RuntimePolicy()
}

// checkAlpineSpec refuses what the Alpine path does not implement rather than ignoring it.
func checkAlpineSpec(s *spec.Spec) error {
	switch {
	case s.Base != nil && !IsAlpine(s.Base):
		return fmt.Errorf("%s: base: %s builds from %s packages; an Alpine image can only extend an Alpine spec", s.Name, s.Base.Name, s.Base.Distro)
	case len(s.Trim.JavaModules) > 0:
		return fmt.Errorf("%s: trim java-modules: %w", s.Name, errAlpineUnsupported)
	}
	return nil
}

// AlpinePlan is one architecture's Alpine resolution: the verified index files it read and
// the packages, each pinned by its file's SHA-256 (apk indexes carry only the SHA-1 of a
// package's control segment, so the files are fetched while planning).
type AlpinePlan struct {
	Indexes  []AlpineIndex
	Packages []AlpinePackage
}

// AlpineIndex is one APKINDEX.tar.gz as read.
type AlpineIndex struct {
	URL    string // …/<release>/<repository>/<arch>/APKINDEX.tar.gz
	SHA256 string
	// Mirror, Release and Repository are what the URL was made of ("" for one from a
	// provenance, which records only the URL).
	Mirror, Release, Repository string
}

// base is the repository's line in /etc/apk/repositories: the URL without /<arch>/APKINDEX.tar.gz.
func (ix AlpineIndex) base() string {
	u := strings.TrimSuffix(ix.URL, "/APKINDEX.tar.gz")
	return u[:max(strings.LastIndex(u, "/"), 0)]
}

// AlpinePackage is one package of a plan.
type AlpinePackage struct {
	Pin           repo.Pin
	Origin        string // o:, the source package
	InstalledSize int64
	Depends       []string
	Index         string // URL of the index that listed it ("" from a provenance)
	Why           []string

	pkg  *apkindex.Package // the verified index record, when resolved in this process
	path string            // the verified file in the cache, when fetched in this process
	keys keyring.Keyring   // the keys of its repository, when resolved in this process
}

// resolveAlpine loads the verified indexes, resolves the spec and fetches (verifying) every
// package for each architecture.
func resolveAlpine(ctx context.Context, o Options) ([]*Plan, error) {
	if err := checkAlpineSpec(o.Spec); err != nil {
		return nil, err
	}
	repos, err := o.alpineRepositories()
	if err != nil {
		return nil, err
	}
	client := &repo.Client{Downloader: o.Downloader, Log: o.log()}
	var plans []*Plan
	for _, arch := range o.archs() {
		_, set, res, err := o.resolveAlpineArch(ctx, client, repos, arch)
		if err != nil {
			return nil, err
		}
		for _, c := range res.Cuts {
			o.log().Info("cut", "arch", arch, "from", c.From, "to", c.To, "relation", c.Relation, "reason", c.Reason)
		}
		ap := &AlpinePlan{}
		for _, ix := range set.Indexes {
			ap.Indexes = append(ap.Indexes, AlpineIndex{URL: ix.URL, SHA256: ix.SHA256, Mirror: strings.TrimRight(ix.Repository.Mirror, "/"),
				Release: ix.Repository.Release, Repository: ix.Repository.Name})
		}
		start := time.Now()
		for _, s := range res.Packages {
			p := s.Pkg
			keys := set.Keys[p.Repository]
			path, sum, err := client.FetchSum(ctx, p, keys)
			if err != nil {
				return nil, err
			}
			ap.Packages = append(ap.Packages, AlpinePackage{
				Pin: repo.Pin{URL: p.FileURL(), SHA256: sum, Size: p.Size, Name: p.Name, Version: p.Version, Arch: p.Arch,
					Checksum: p.Checksum.String()},
				Origin: p.Origin, InstalledSize: p.InstalledSize, Depends: p.Depends,
				Index: strings.TrimSuffix(p.Repository, "/") + "/APKINDEX.tar.gz", Why: s.Why,
				pkg: p, path: path, keys: keys,
			})
		}
		o.log().Info("fetched packages", "arch", arch, "count", len(ap.Packages), "elapsed", time.Since(start).Round(time.Millisecond))
		plans = append(plans, &Plan{Arch: arch, Result: &resolve.Result{Cuts: res.Cuts}, Alpine: ap})
	}
	return plans, nil
}

// buildAlpineArch assembles one architecture's image from its plan. Packages the plan
// does not hold verified files for (a lock's, a provenance's) are fetched by their pinned
// SHA-256 and checked against the trusted keys; no index is read.
func (o Options) buildAlpineArch(ctx context.Context, p *Plan) (*Image, error) {
	if err := checkAlpineSpec(o.Spec); err != nil {
		return nil, err
	}
	apkArch, ok := apkArchs[p.Arch]
	if !ok {
		return nil, fmt.Errorf("architecture %s has no Alpine port", p.Arch)
	}
	allKeys, err := o.alpineKeys()
	if err != nil {
		return nil, err
	}
	client := &repo.Client{Downloader: o.Downloader, Log: o.log()}
	start := time.Now()
	inputs := make([]image.Input, 0, len(p.Alpine.Packages))
	fetched := 0
	for _, ap := range p.Alpine.Packages {
		in := image.Input{Pkg: ap.pkg, Path: ap.path, Keys: ap.keys}
		if in.Path == "" {
			in.Keys = allKeys
			if in.Path, in.Pkg, err = client.FetchPinned(ctx, ap.Pin, allKeys); err != nil {
				return nil, err
			}
			fetched++
		}
		inputs = append(inputs, in)
	}
	if fetched > 0 {
		o.log().Info("fetched pinned packages", "arch", p.Arch, "count", fetched, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	// Installation order is part of the image (shared directories keep the first package's
	// metadata); by name, whatever order the plan was recorded in.
	slices.SortFunc(inputs, func(a, b image.Input) int { return strings.Compare(a.Pkg.Name, b.Pkg.Name) })
	var lines []string
	for _, ix := range p.Alpine.Indexes {
		lines = append(lines, ix.base())
	}
	epoch := o.Epoch
	if p.Epoch != nil {
		epoch = p.Epoch
	}
	return o.assembleAlpine(p, inputs, lines, allKeys, apkArch, epoch)
}

// resolveAlpineArch loads the verified indexes for one architecture and resolves the spec.
func (o Options) resolveAlpineArch(ctx context.Context, client *repo.Client, repos []repo.Repository, arch string) (string, *repo.Set, *aresolve.Result, error) {
	apkArch, ok := apkArchs[arch]
	if !ok {
		return "", nil, nil, fmt.Errorf("architecture %s has no Alpine port", arch)
	}
	set, err := client.LoadSet(ctx, repos, apkArch)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load repositories for %s: %w", arch, err)
	}
	res, err := aresolve.Resolve(set.Packages, aresolve.Request{Packages: o.Spec.Packages, Exclude: o.Spec.Exclude,
		Allow: o.Spec.Allow, Policy: alpinePolicy(o.Spec.Profile), Arch: apkArch})
	if err != nil {
		return "", nil, nil, fmt.Errorf("resolve %s (%s): %w", o.Spec.Name, arch, err)
	}
	return apkArch, set, res, nil
}

// ResolveAlpine reports what an Alpine spec resolves to, per architecture, in the format of
// spartan resolve (Suite is the repository, e.g. "main"; SHA256 is empty: apk indexes name a
// package by the SHA-1 of its control segment, which Why does not need).
func ResolveAlpine(ctx context.Context, o Options) ([]Resolution, error) {
	repos, err := o.alpineRepositories()
	if err != nil {
		return nil, err
	}
	client := &repo.Client{Downloader: o.Downloader, Log: o.log()}
	var out []Resolution
	for _, arch := range o.archs() {
		_, _, res, err := o.resolveAlpineArch(ctx, client, repos, arch)
		if err != nil {
			return nil, err
		}
		r := Resolution{Arch: arch, Packages: []ResolvedPackage{}, Cuts: resolvedCuts(res.Cuts)}
		for _, s := range res.Packages {
			p := s.Pkg
			suite := p.Repository
			if parts := strings.Split(strings.TrimSuffix(p.Repository, "/"), "/"); len(parts) >= 2 {
				suite = parts[len(parts)-2]
			}
			r.Packages = append(r.Packages, ResolvedPackage{Name: p.Name, Version: p.Version, Architecture: p.Arch,
				Source: p.Origin, Size: p.Size, InstalledSize: p.InstalledSize, Suite: suite, Why: s.Why})
		}
		out = append(out, r)
	}
	return out, nil
}

func (o Options) assembleAlpine(p *Plan, inputs []image.Input, repositories []string, keys keyring.Keyring, apkArch string, epoch *time.Time) (*Image, error) {
	opts := image.Options{Arch: apkArch, Release: o.Spec.Release, Profile: string(o.Spec.Profile), World: o.Spec.Packages, Keys: keys,
		Repositories: repositories, LayerBudget: o.Spec.Layers, TrimPaths: o.Spec.Trim.Paths}
	var err error
	if opts.Certificates, err = readCertificates(o.Spec.Certificates); err != nil {
		return nil, err
	}
	for _, sp := range o.Spec.Paths {
		opts.Paths = append(opts.Paths, assemble.Path{Path: sp.Path, Type: string(sp.Type), Content: sp.Content, Target: sp.Target,
			Mode: fileMode(sp.Mode), UID: sp.UID, GID: sp.GID})
	}
	if epoch != nil {
		opts.Epoch = *epoch
	}
	if opts.BasePackages = o.alpineBasePackages(inputs); opts.BasePackages != nil {
		opts.BaseLayerBudget = o.Spec.Base.Layers
	}
	for _, u := range o.Spec.Accounts.Users {
		opts.Users = append(opts.Users, assemble.User{Name: u.Name, UID: u.UID, GID: u.GID, Home: u.Home, Shell: u.Shell})
	}
	for _, g := range o.Spec.Accounts.Groups {
		opts.Groups = append(opts.Groups, assemble.Group{Name: g.Name, GID: g.GID, Members: g.Members})
	}
	key, err := alpineAssemblyKey(p.Alpine.Packages, opts)
	if err != nil {
		return nil, err
	}
	return o.finishImage(p, key, opts.Epoch, func() (*assemble.Result, error) {
		res, err := image.Assemble(inputs, opts)
		if err != nil {
			return nil, err
		}
		asm := &assemble.Result{Notes: res.Notes, Files: res.Files, Epoch: res.Epoch}
		for _, l := range res.Layers {
			asm.Layers = append(asm.Layers, assemble.Layer{Name: l.Name, Packages: l.Packages, Tar: l.Tar})
		}
		return asm, nil
	})
}

// alpineAssemblyKey hashes what decides an Alpine assembly's bytes, as assemblyKey does for
// Debian: the executable, the options and each package's file digest.
func alpineAssemblyKey(pkgs []AlpinePackage, opts image.Options) (string, error) {
	self, err := executableDigest()
	if err != nil {
		return "", err
	}
	type in struct{ Name, Version, Arch, SHA256 string }
	ins := make([]in, 0, len(pkgs))
	for _, p := range pkgs {
		ins = append(ins, in{p.Pin.Name, p.Pin.Version, p.Pin.Arch, p.Pin.SHA256})
	}
	slices.SortFunc(ins, func(a, b in) int { return strings.Compare(a.Name, b.Name) })
	keys := map[string]string{}
	for _, name := range opts.Keys.Names() {
		der, err := x509.MarshalPKIXPublicKey(opts.Keys[name])
		if err != nil {
			return "", fmt.Errorf("layer cache key: %s: %w", name, err)
		}
		keys[name] = hex.EncodeToString(der)
	}
	o := opts
	o.Keys = nil
	b, err := json.Marshal(struct {
		Self    string
		Distro  string
		Options image.Options
		Keys    map[string]string
		Inputs  []in
	}{self, spec.DistroAlpine, o, keys, ins})
	if err != nil {
		return "", fmt.Errorf("layer cache key: %w", err)
	}
	sum := sha256.Sum256(b)
	return "assembly/" + hex.EncodeToString(sum[:]), nil
}

// alpineBasePackages is the part of the image the spec's base would install: the closure of
// the base's requested packages over the dependencies the packages themselves declare (names,
// so:, cmd:, paths… matched against what the image's packages provide), so a build from a lock
// or a provenance finds the same set. nil when the spec extends nothing.
func (o Options) alpineBasePackages(inputs []image.Input) []string {
	b := o.Spec.Base
	if b == nil {
		return nil
	}
	atom := func(s string) string {
		if i := strings.IndexAny(s, "<>=~"); i >= 0 {
			return s[:i]
		}
		return s
	}
	byProvide := map[string][]string{}
	deps := map[string][]string{}
	for _, in := range inputs {
		p := in.Pkg
		byProvide[p.Name] = append(byProvide[p.Name], p.Name)
		for _, pr := range p.Provides {
			byProvide[atom(pr)] = append(byProvide[atom(pr)], p.Name)
		}
		deps[p.Name] = p.Depends
	}
	in := map[string]bool{}
	var queue []string
	for _, name := range b.Packages {
		for _, p := range byProvide[atom(name)] {
			if !in[p] {
				in[p] = true
				queue = append(queue, p)
			}
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, d := range deps[name] {
			if strings.HasPrefix(d, "!") {
				continue
			}
			for _, p := range byProvide[atom(d)] {
				if !in[p] {
					in[p] = true
					queue = append(queue, p)
				}
			}
		}
	}
	var names []string
	for _, in2 := range inputs {
		if in[in2.Pkg.Name] {
			names = append(names, in2.Pkg.Name)
		}
	}
	if len(names) == 0 {
		o.log().Warn("none of the base's packages is in this image: its layers cannot be shared", "base", b.Name)
		return nil
	}
	return names
}
