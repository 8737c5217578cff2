// Package build runs Spartan's pipeline for one spec: resolve against signed indexes, fetch the
// verified .debs, assemble deterministic layers and turn them into OCI images. The CLI is a thin
// shell around it.
package build

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/spec"
)

// Options configure one build or resolve.
type Options struct {
	Spec       *spec.Spec // the variant to build, as returned by spec.Load(...).Variant(name)
	Archs      []string   // overrides Spec.Archs when set
	Mirrors    Mirrors
	Keyring    openpgp.EntityList // extra trusted keys, besides Debian's archive keys
	Downloader *cache.Downloader
	Log        *slog.Logger
	Now        func() time.Time // for Valid-Until checks; time.Now when nil
	// Epoch, when set (SOURCE_DATE_EPOCH), caps every file's mtime and is the image's created time.
	// When nil each package's files keep its newest file time and the image is created at the
	// newest of those: they depend only on the package versions, so the digest does too.
	Epoch   *time.Time
	Version string // Spartan's version, recorded in the image
	// NoLayerCache assembles and compresses even when an identical assembly is cached (the
	// reproducibility checks use it to rebuild from scratch on a warm download cache).
	NoLayerCache bool
}

// Plan is the resolution for one architecture.
type Plan struct {
	Arch     string
	Releases []*archive.Release
	Result   *resolve.Result
	// Epoch, when set, overrides Options.Epoch for this architecture: a rebuild from provenance
	// uses each recorded image's own creation time.
	Epoch *time.Time
	// Alpine is the plan of a distro: alpine spec; Releases and Result.Packages are then
	// empty and Result.Cuts holds the Alpine resolver's cuts.
	Alpine *AlpinePlan
}

// PackageCount is how many packages the plan installs.
func (p *Plan) PackageCount() int {
	if p.Alpine != nil {
		return len(p.Alpine.Packages)
	}
	return len(p.Result.Packages)
}

// Resolve loads the spec's repositories and resolves its packages for every architecture.
func Resolve(ctx context.Context, o Options) ([]*Plan, error) {
	if IsAlpine(o.Spec) {
		return resolveAlpine(ctx, o)
	}
	srcs, err := o.sources()
	if err != nil {
		return nil, err
	}
	client := &archive.Client{Downloader: o.Downloader, Now: o.Now, Log: o.log()}
	defer client.Wait() // the parsed indexes are stored while resolution runs
	var plans []*Plan
	for _, arch := range o.archs() {
		start := time.Now()
		pkgs, rels, err := client.Load(ctx, srcs, arch)
		if err != nil {
			return nil, fmt.Errorf("load repositories for %s: %w", arch, err)
		}
		res, err := resolve.Resolve(pkgs, resolve.Request{
			Packages: o.requestedPackages(pkgs, arch),
			Exclude:  o.Spec.Exclude,
			Allow:    o.Spec.Allow,
			Policy:   policy(o.Spec.Profile),
			Arch:     arch,
		})
		if err != nil {
			return nil, fmt.Errorf("resolve %s (%s): %w", o.Spec.Name, arch, err)
		}
		o.log().Debug("resolved", "arch", arch, "packages", len(res.Packages), "elapsed", time.Since(start).Round(time.Millisecond))
		if err := checkDevClosure(o.Spec, res); err != nil {
			return nil, err
		}
		plans = append(plans, &Plan{Arch: arch, Releases: rels, Result: res})
	}
	return plans, nil
}

// Image is one architecture's built image.
type Image struct {
	Plan     *Plan
	Image    v1.Image
	Assembly *assemble.Result
	Digest   string
}

// Output is what a build produced: one image per architecture and, when there are several,
// the index that ties them together.
type Output struct {
	Images []*Image
	Index  v1.ImageIndex
	Tags   []string
}

// Artifact is the thing to write or push: the index for multi-arch builds, else the image.
func (o *Output) Artifact() oci.Artifact {
	if o.Index != nil {
		return o.Index
	}
	return o.Images[0].Image
}

// Digest is the artifact's digest ("sha256:…").
func (o *Output) Digest() (string, error) { return oci.Digest(o.Artifact()) }

// Build resolves, fetches, assembles and creates the images.
func Build(ctx context.Context, o Options) (*Output, error) {
	// The layer cache's key includes this binary's digest (30 MB to hash): hashed while the
	// indexes download, a core is free then.
	go executableDigest()
	plans, err := Resolve(ctx, o)
	if err != nil {
		return nil, err
	}
	return BuildPlans(ctx, o, plans)
}

// BuildPlans builds from plans already resolved (by Resolve or from a lockfile).
func BuildPlans(ctx context.Context, o Options, plans []*Plan) (*Output, error) {
	out := &Output{Tags: o.Spec.Tags}
	for _, p := range plans {
		build := o.buildArch
		if p.Alpine != nil {
			build = o.buildAlpineArch
		}
		img, err := build(ctx, p)
		if err != nil {
			return nil, err
		}
		out.Images = append(out.Images, img)
	}
	if err := o.index(out); err != nil {
		return nil, err
	}
	return out, nil
}

// index makes the multi-arch index of a build of several architectures, whatever the
// distribution, so that both carry the same annotations.
func (o Options) index(out *Output) error {
	if len(out.Images) < 2 {
		return nil
	}
	imgs := make([]v1.Image, len(out.Images))
	for i, im := range out.Images {
		imgs[i] = im.Image
	}
	idx, err := oci.Index(imgs, o.annotations(out.Images[0].Assembly))
	if err != nil {
		return fmt.Errorf("image index: %w", err)
	}
	out.Index = idx
	return nil
}

func (o Options) buildArch(ctx context.Context, p *Plan) (*Image, error) {
	items := make([]cache.Item, 0, len(p.Result.Packages))
	for _, s := range p.Result.Packages {
		items = append(items, cache.Item{Name: s.Pkg.ID(), URL: s.Pkg.URL(), SHA256: s.Pkg.SHA256, Size: s.Pkg.Size})
	}
	// The .debs download while the assembly decodes those already here (AssembleWhileFetching):
	// a blob's path in the cache is known before it arrives.
	inputs := make([]assemble.Input, 0, len(p.Result.Packages))
	for _, s := range p.Result.Packages {
		inputs = append(inputs, assemble.Input{Pkg: s.Pkg, Deb: o.Downloader.Cache.Path(strings.ToLower(s.Pkg.SHA256))})
	}
	arrived := make(chan int, len(items))
	fetched := make(chan error, 1)
	start := time.Now()
	go func() {
		err := o.Downloader.FetchEach(ctx, items, func(i int, _ string) { arrived <- i })
		close(arrived)
		if err == nil {
			o.log().Info("fetched packages", "arch", p.Arch, "count", len(items), "elapsed", time.Since(start).Round(time.Millisecond))
		}
		fetched <- err
	}()
	img, err := o.assembleArch(p, inputs, arrived)
	// Wait for the downloads whatever happened, so that none is left running, and report a
	// failed one as such rather than as the missing .deb it left.
	if ferr := <-fetched; ferr != nil {
		return nil, fmt.Errorf("fetch packages for %s: %w", p.Arch, ferr)
	}
	return img, err
}

// assembleArch makes the image of the inputs of plan p, whose .debs arrive on arrived.
func (o Options) assembleArch(p *Plan, inputs []assemble.Input, arrived <-chan int) (*Image, error) {
	certs, err := readCertificates(o.Spec.Certificates)
	if err != nil {
		return nil, err
	}
	opts := o.assembleOptions(p.Arch, certs)
	if o.Spec.Profile == spec.Dev {
		// A build stage runs apt-get and dpkg: they need the classic database and sources.
		opts.DpkgDatabase = true
		opts.Users = withAptUser(opts.Users)
		if opts.AptSources, err = o.aptSources(); err != nil {
			return nil, err
		}
	}
	if p.Epoch != nil {
		opts.Epoch = *p.Epoch
	}
	if opts.BasePackages = o.basePackages(p); opts.BasePackages != nil {
		opts.BaseLayerBudget = o.Spec.Base.Layers
	}
	key, err := assemblyKey(inputs, opts)
	if err != nil {
		return nil, err
	}
	return o.finishImage(p, key, opts.Epoch, func() (*assemble.Result, error) {
		return assemble.AssembleWhileFetching(inputs, arrived, opts)
	})
}

// finishImage makes the image of a plan whose assembly inputs hash to key, on either
// distribution: the package layers from the layer cache, or from assembleFn (then cached with
// the image), under the probe and application layers, with the config every image gets.
func (o Options) finishImage(p *Plan, key string, epoch time.Time, assembleFn func() (*assemble.Result, error)) (*Image, error) {
	start := time.Now()
	var asm *assemble.Result
	var layers []oci.Layer
	hit := false
	if !o.NoLayerCache {
		asm, layers, hit = loadAssembly(o.Downloader.Cache, key)
	}
	if hit {
		o.log().Info("reused cached layers", "arch", p.Arch, "layers", len(layers), "elapsed", time.Since(start).Round(time.Millisecond))
	} else {
		var err error
		if asm, err = assembleFn(); err != nil {
			return nil, fmt.Errorf("assemble %s (%s): %w", o.Spec.Name, p.Arch, err)
		}
		o.log().Info("assembled layers", "arch", p.Arch, "layers", len(asm.Layers), "files", asm.Files, "trimmed", asm.Trimmed, "elapsed", time.Since(start).Round(time.Millisecond))
		layers = make([]oci.Layer, len(asm.Layers))
		for i, l := range asm.Layers {
			layers[i] = oci.Layer{Name: l.Name, Tar: l.Tar}
		}
	}
	for _, n := range asm.Notes {
		o.log().Debug("assemble", "arch", p.Arch, "note", n)
	}
	history := make([]string, len(asm.Layers))
	for i, l := range asm.Layers {
		history[i] = "spartan: " + l.Name
		if len(l.Packages) > 0 {
			history[i] += " (" + strings.Join(l.Packages, " ") + ")"
		}
	}
	// The health probe (static Go) and the spec's files: above the packages.
	top, topHistory, err := o.topLayers(p.Arch, epoch)
	if err != nil {
		return nil, err
	}
	layers = append(slices.Clip(layers), top...)
	history = append(history, topHistory...)
	img, err := oci.Image(layers, oci.Config{
		Arch:        oci.Arch(p.Arch),
		Variant:     oci.Variant(p.Arch),
		User:        o.Spec.Accounts.User(),
		WorkingDir:  o.Spec.Workdir,
		Env:         o.env(),
		Entrypoint:  o.Spec.Entrypoint,
		Cmd:         o.Spec.Cmd,
		Labels:      o.labels(),
		Annotations: o.annotations(asm),
		Created:     asm.Epoch,
		History:     history,
		Healthcheck: healthConfig(o.Spec.Healthcheck),
	})
	if err != nil {
		return nil, fmt.Errorf("image %s (%s): %w", o.Spec.Name, p.Arch, err)
	}
	if !hit {
		if err := storeAssembly(o.Downloader.Cache, key, asm, img); err != nil {
			o.log().Warn("could not cache the layers; the next build assembles again", "err", err)
		}
	}
	d, err := oci.Digest(img)
	if err != nil {
		return nil, err
	}
	return &Image{Plan: p, Image: img, Assembly: asm, Digest: d}, nil
}

// DefaultPath is the PATH of every image; the classic Debian order.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// CABundle is where the synthesized CA bundle lives; SSL_CERT_FILE points there so that
// runtimes that do not look in Debian's default place (Go, some JVMs) still find it.
const CABundle = "/etc/ssl/certs/ca-certificates.crt"

func (o Options) env() []string {
	env := map[string]string{"PATH": DefaultPath, "SSL_CERT_FILE": CABundle}
	maps.Copy(env, o.Spec.Env)
	if o.Spec.Profile == spec.Debug {
		// Last, so the runtime's own programs still win; the tools are there when asked for.
		env["PATH"] += ":" + assemble.BusyboxDir
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

func (o Options) labels() map[string]string {
	l := map[string]string{
		"io.spartan.distro":  o.Spec.Distro,
		"io.spartan.release": o.Spec.Release,
		"io.spartan.profile": string(o.Spec.Profile),
	}
	maps.Copy(l, o.Spec.Labels)
	return l
}

func (o Options) annotations(asm *assemble.Result) map[string]string {
	a := map[string]string{
		"org.opencontainers.image.title": o.Spec.Name,
		"io.spartan.distro":              o.Spec.Distro,
		"io.spartan.release":             o.Spec.Release,
		"io.spartan.variant":             variantName(o.Spec),
	}
	if o.Spec.Description != "" {
		a["org.opencontainers.image.description"] = o.Spec.Description
	}
	if asm != nil && !asm.Epoch.IsZero() {
		a[oci.AnnotationCreated] = asm.Epoch.UTC().Format(time.RFC3339)
	}
	maps.Copy(a, o.Spec.Annotations)
	return a
}

func variantName(s *spec.Spec) string {
	if s.VariantName == "" {
		return "runtime"
	}
	return s.VariantName
}

func (o Options) assembleOptions(arch string, certs [][]byte) assemble.Options {
	opts := assemble.Options{
		Arch:           arch,
		Codename:       o.Spec.Release,
		VersionID:      o.Spec.ReleaseVersion,
		Certificates:   certs,
		StripSetuid:    o.Spec.Profile != spec.Dev,
		BusyboxLinks:   o.Spec.Profile == spec.Debug,
		LayerBudget:    o.Spec.Layers,
		SpartanVersion: o.Version,
	}
	if o.Epoch != nil {
		opts.Epoch = *o.Epoch
	}
	opts.Trim.Docs = o.Spec.Trim.Docs
	opts.Trim.Man = o.Spec.Trim.Man
	opts.Trim.Info = o.Spec.Trim.Man
	opts.Trim.Locales = o.Spec.Trim.Locales
	opts.Trim.KeepLocales = o.Spec.Trim.KeepLocales
	opts.Trim.Paths = o.Spec.Trim.Paths
	opts.Trim.JavaModules = o.Spec.Trim.JavaModules
	for _, u := range o.Spec.Accounts.Users {
		opts.Users = append(opts.Users, assemble.User{Name: u.Name, UID: u.UID, GID: u.GID, Home: u.Home, Shell: u.Shell})
	}
	for _, g := range o.Spec.Accounts.Groups {
		opts.Groups = append(opts.Groups, assemble.Group{Name: g.Name, GID: g.GID, Members: g.Members})
	}
	for _, p := range o.Spec.Paths {
		opts.Paths = append(opts.Paths, assemble.Path{Path: p.Path, Type: string(p.Type), Content: p.Content, Target: p.Target, Mode: fileMode(p.Mode), UID: p.UID, GID: p.GID})
	}
	return opts
}

func policy(p spec.Profile) resolve.Policy {
	switch p {
	case spec.Dev:
		return resolve.DevPolicy()
	case spec.Debug:
		return resolve.DebugPolicy()
	}
	return resolve.RuntimePolicy()
}

func (o Options) archs() []string {
	if len(o.Archs) > 0 {
		return o.Archs
	}
	return o.Spec.Archs
}

func (o Options) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}

// sources turns the spec's repositories into archive sources bound to the configured mirrors
// and keyrings.
func (o Options) sources() ([]archive.Source, error) {
	base, err := archive.DefaultKeyring()
	if err != nil {
		return nil, fmt.Errorf("load Debian archive keys: %w", err)
	}
	base = append(base, o.Keyring...)
	var srcs []archive.Source
	for _, r := range o.Spec.Repositories {
		url := r.URL
		switch {
		case url != "":
		case r.Archive == spec.ArchiveSecurity:
			url = o.Mirrors.Security
		default:
			url = o.Mirrors.Main
		}
		if url == "" {
			return nil, fmt.Errorf("repository %s: no mirror configured: pass --mirror URL or set %s", strings.Join(r.Suites, ","), EnvMirror)
		}
		keys := base
		if r.Keyring != "" {
			extra, err := archive.LoadKeyring(r.Keyring)
			if err != nil {
				return nil, fmt.Errorf("repository %s: %w", url, err)
			}
			keys = append(slices.Clone(base), extra...)
		}
		for _, suite := range r.Suites {
			srcs = append(srcs, archive.Source{URL: url, Suite: suite, Components: r.Components, Keyring: keys})
		}
	}
	return srcs, nil
}

// SortedPackages lists a plan's packages by name, for reports.
func (p *Plan) SortedPackages() []resolve.Selected {
	s := slices.Clone(p.Result.Packages)
	sort.Slice(s, func(i, j int) bool { return s[i].Pkg.Name < s[j].Pkg.Name })
	return s
}

// Packages loads the spec's repositories for one architecture without resolving anything:
// every package the release offers, for checking names (spartan migrate).
func Packages(ctx context.Context, o Options, arch string) ([]*archive.Package, error) {
	srcs, err := o.sources()
	if err != nil {
		return nil, err
	}
	client := &archive.Client{Downloader: o.Downloader, Now: o.Now, Log: o.log()}
	defer client.Wait()
	pkgs, _, err := client.Load(ctx, srcs, arch)
	if err != nil {
		return nil, fmt.Errorf("load repositories for %s: %w", arch, err)
	}
	return pkgs, nil
}
