package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/alpine/image"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/alpine/repo"
	aresolve "github.com/spartan-images/spartan/internal/alpine/resolve"
	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/oci"
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

// alpineRepositories binds the spec's repositories to the Alpine mirror and keys.
func (o Options) alpineRepositories() ([]repo.Repository, keyring.Keyring, error) {
	base, err := keyring.Default()
	if err != nil {
		return nil, nil, err
	}
	all := keyring.Keyring{}
	for k, v := range base {
		all[k] = v
	}
	var out []repo.Repository
	for _, r := range o.Spec.Repositories {
		mirror := firstNonEmpty(r.URL, o.Mirrors.Alpine, os.Getenv(EnvAlpineMirror))
		if mirror == "" {
			return nil, nil, fmt.Errorf("alpine repositories %s: no Alpine mirror configured: pass --alpine-mirror URL, set %s or give the repository a url:",
				strings.Join(r.Suites, ","), EnvAlpineMirror)
		}
		keys := keyring.Keyring{}
		for k, v := range base {
			keys[k] = v
		}
		if r.Keyring != "" {
			if err := keys.Load(r.Keyring); err != nil {
				return nil, nil, fmt.Errorf("repository %s: %w", mirror, err)
			}
			if err := all.Load(r.Keyring); err != nil {
				return nil, nil, err
			}
		}
		for _, name := range r.Suites {
			out = append(out, repo.Repository{Mirror: mirror, Release: o.Spec.Release, Name: name, Keys: keys})
		}
	}
	return out, all, nil
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
	case s.Base != nil:
		return fmt.Errorf("%s: base: %w", s.Name, errAlpineUnsupported)
	case len(s.Files) > 0:
		return fmt.Errorf("%s: files: %w", s.Name, errAlpineUnsupported)
	case s.Probe:
		return fmt.Errorf("%s: the health probe: %w", s.Name, errAlpineUnsupported)
	case len(s.Paths) > 0:
		return fmt.Errorf("%s: paths: %w", s.Name, errAlpineUnsupported)
	case len(s.Certificates) > 0:
		return fmt.Errorf("%s: certificates: %w (install ca-certificates-bundle)", s.Name, errAlpineUnsupported)
	case len(s.Trim.Paths) > 0 || len(s.Trim.JavaModules) > 0:
		return fmt.Errorf("%s: trim paths and java modules: %w (Alpine splits docs into -doc packages)", s.Name, errAlpineUnsupported)
	}
	return nil
}

// buildAlpine resolves, fetches and assembles an Alpine image per architecture. Each image
// is one layer; lockfiles, provenance of the resolution and layer caching are Debian-only so
// far.
func buildAlpine(ctx context.Context, o Options) (*Output, error) {
	if err := checkAlpineSpec(o.Spec); err != nil {
		return nil, err
	}
	repos, allKeys, err := o.alpineRepositories()
	if err != nil {
		return nil, err
	}
	client := &repo.Client{Downloader: o.Downloader, Log: o.log()}
	out := &Output{Tags: o.Spec.Tags}
	for _, arch := range o.archs() {
		apkArch, res, keys, err := o.resolveAlpineArch(ctx, client, repos, arch)
		if err != nil {
			return nil, err
		}
		for _, c := range res.Cuts {
			o.log().Info("cut", "arch", arch, "from", c.From, "to", c.To, "relation", c.Relation, "reason", c.Reason)
		}
		start := time.Now()
		inputs := make([]image.Input, 0, len(res.Packages))
		for _, s := range res.Packages {
			path, err := client.Fetch(ctx, s.Pkg, keys[s.Pkg.Repository])
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, image.Input{Pkg: s.Pkg, Path: path, Keys: keys[s.Pkg.Repository]})
		}
		o.log().Info("fetched packages", "arch", arch, "count", len(inputs), "elapsed", time.Since(start).Round(time.Millisecond))
		im, err := o.assembleAlpine(inputs, repos, allKeys, arch, apkArch)
		if err != nil {
			return nil, err
		}
		out.Images = append(out.Images, im)
	}
	if err := o.index(out); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveAlpineArch loads the verified indexes for one architecture and resolves the spec.
func (o Options) resolveAlpineArch(ctx context.Context, client *repo.Client, repos []repo.Repository, arch string) (string, *aresolve.Result, map[string]keyring.Keyring, error) {
	apkArch, ok := apkArchs[arch]
	if !ok {
		return "", nil, nil, fmt.Errorf("architecture %s has no Alpine port", arch)
	}
	pkgs, keys, err := client.Load(ctx, repos, apkArch)
	if err != nil {
		return "", nil, nil, fmt.Errorf("load repositories for %s: %w", arch, err)
	}
	res, err := aresolve.Resolve(pkgs, aresolve.Request{Packages: o.Spec.Packages, Exclude: o.Spec.Exclude,
		Allow: o.Spec.Allow, Policy: alpinePolicy(o.Spec.Profile), Arch: apkArch})
	if err != nil {
		return "", nil, nil, fmt.Errorf("resolve %s (%s): %w", o.Spec.Name, arch, err)
	}
	return apkArch, res, keys, nil
}

// ResolveAlpine reports what an Alpine spec resolves to, per architecture, in the format of
// spartan resolve (Suite is the repository, e.g. "main"; SHA256 is empty: apk indexes name a
// package by the SHA-1 of its control segment, which Why does not need).
func ResolveAlpine(ctx context.Context, o Options) ([]Resolution, error) {
	repos, _, err := o.alpineRepositories()
	if err != nil {
		return nil, err
	}
	client := &repo.Client{Downloader: o.Downloader, Log: o.log()}
	var out []Resolution
	for _, arch := range o.archs() {
		_, res, _, err := o.resolveAlpineArch(ctx, client, repos, arch)
		if err != nil {
			return nil, err
		}
		r := Resolution{Arch: arch, Packages: []ResolvedPackage{}}
		for _, s := range res.Packages {
			p := s.Pkg
			suite := p.Repository
			if parts := strings.Split(strings.TrimSuffix(p.Repository, "/"), "/"); len(parts) >= 2 {
				suite = parts[len(parts)-2]
			}
			r.Packages = append(r.Packages, ResolvedPackage{Name: p.Name, Version: p.Version, Architecture: p.Arch,
				Source: p.Origin, Size: p.Size, InstalledSize: p.InstalledSize, Suite: suite, Why: s.Why})
		}
		r.Cuts = resolvedCuts(res.Cuts)
		out = append(out, r)
	}
	return out, nil
}

func (o Options) assembleAlpine(inputs []image.Input, repos []repo.Repository, keys keyring.Keyring, arch, apkArch string) (*Image, error) {
	opts := image.Options{Arch: apkArch, Release: o.Spec.Release, Profile: string(o.Spec.Profile), World: o.Spec.Packages, Keys: keys}
	if o.Epoch != nil {
		opts.Epoch = *o.Epoch
	}
	for _, r := range repos {
		opts.Repositories = append(opts.Repositories, r.Base())
	}
	for _, u := range o.Spec.Accounts.Users {
		opts.Users = append(opts.Users, assemble.User{Name: u.Name, UID: u.UID, GID: u.GID, Home: u.Home, Shell: u.Shell})
	}
	for _, g := range o.Spec.Accounts.Groups {
		opts.Groups = append(opts.Groups, assemble.Group{Name: g.Name, GID: g.GID, Members: g.Members})
	}
	res, err := image.Assemble(inputs, opts)
	if err != nil {
		return nil, fmt.Errorf("assemble %s (%s): %w", o.Spec.Name, arch, err)
	}
	for _, n := range res.Notes {
		o.log().Debug("assemble", "arch", arch, "note", n)
	}
	asm := &assemble.Result{Notes: res.Notes, Files: res.Files, Epoch: res.Epoch,
		Layers: []assemble.Layer{{Name: "alpine", Packages: res.Packages}}}
	img, err := oci.Image([]oci.Layer{{Name: "alpine", Tar: res.Tar}}, oci.Config{
		Arch:        oci.Arch(arch),
		Variant:     oci.Variant(arch),
		User:        o.Spec.Accounts.User(),
		WorkingDir:  o.Spec.Workdir,
		Env:         o.env(),
		Entrypoint:  o.Spec.Entrypoint,
		Cmd:         o.Spec.Cmd,
		Labels:      o.labels(),
		Annotations: o.annotations(asm),
		Created:     res.Epoch,
		Healthcheck: healthConfig(o.Spec.Healthcheck),
		History:     []string{"spartan: alpine (" + strings.Join(res.Packages, " ") + ")"},
	})
	if err != nil {
		return nil, fmt.Errorf("image %s (%s): %w", o.Spec.Name, arch, err)
	}
	d, err := oci.Digest(img)
	if err != nil {
		return nil, err
	}
	// The Debian resolution is empty: Alpine images carry no Debian packages.
	return &Image{Plan: &Plan{Arch: arch, Result: &resolve.Result{}}, Image: img, Assembly: asm, Digest: d}, nil
}
