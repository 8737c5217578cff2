// Package image assembles an Alpine root file system from verified packages without running
// apk or any install script: package files are laid out as apk would, and what the scripts
// and apk itself would have written is synthesized instead (accounts, the installed-package
// database, os-release when no package ships one, /etc/apk for dev images, busybox under
// /busybox for debug images).
package image

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/alpine/apk"
	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/installed"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/assemble"
)

// Profiles, as in specs.
const (
	Runtime = "runtime"
	Debug   = "debug"
	Dev     = "dev"
)

// Input is one resolved package and its verified file in the cache.
type Input struct {
	Pkg  *apkindex.Package
	Path string
	Keys keyring.Keyring // the keys of the package's repository
}

// Options describe the image.
type Options struct {
	Arch    string // apk architecture, "x86_64"
	Release string // Alpine branch, "v3.22"
	Profile string // Runtime, Debug or Dev
	Users   []assemble.User
	Groups  []assemble.Group
	// Epoch caps every entry's mtime (SOURCE_DATE_EPOCH) and is the synthesized entries'
	// time; zero: no cap, and the synthesized entries get the newest package build time.
	Epoch time.Time
	// LayerBudget is the most layers the image may have (docs/layers.md; 0: the default, 10).
	LayerBudget int
	// BasePackages, for a custom image (spec base:), are the packages its base installs: they
	// are installed first and laid out with BaseLayerBudget exactly as in the base image, the
	// others above them with LayerBudget (their shared layer is "added").
	BasePackages    []string
	BaseLayerBudget int
	// Paths are the spec's own entries; they replace package files at the same path.
	Paths []assemble.Path
	// Certificates (PEM) are appended to the CA bundle (created when no package ships one).
	Certificates [][]byte
	// TrimPaths are the spec's trim patterns (assemble.TrimMatch); matching package files,
	// not directories, are left out and out of the installed database.
	TrimPaths []string
	// For dev images: /etc/apk/repositories lines, the keys to place in /etc/apk/keys, and
	// the requested names for /etc/apk/world.
	Repositories []string
	Keys         keyring.Keyring
	World        []string
}

// Result is the assembled file system as deterministic layers: packages grouped by origin
// (their source package) as docs/layers.md lays out Debian's, then the synthesized files.
type Result struct {
	Layers   []Layer
	Epoch    time.Time // the image's creation time: the synthesized entries' mtime
	Files    int
	Packages []string
	Notes    []string // what was synthesized or changed, for logs and docs
}

// Layer is one layer tar and the packages whose files it holds.
type Layer struct {
	Name     string
	Packages []string
	Tar      []byte
}

type entry struct {
	hdr   tar.Header
	data  []byte
	owner string
}

type assembler struct {
	opts    Options
	files   map[string]*entry
	records []installed.Package
	notes   []string
	units   []assemble.Unit      // per package: origin and bytes, for grouping
	times   map[string]time.Time // per package: its build time, capped by Epoch
}

// Assemble lays out the packages in the order given and synthesizes the rest.
func Assemble(inputs []Input, opts Options) (*Result, error) {
	a := &assembler{opts: opts, files: map[string]*entry{}, times: map[string]time.Time{}}
	if len(opts.BasePackages) > 0 {
		// The base's packages enter the tree first, so shared directories keep the base
		// image's attributes and its layers stay byte-identical.
		isBase := a.isBase()
		inputs = slices.Clone(inputs)
		slices.SortStableFunc(inputs, func(x, y Input) int {
			switch bx, by := isBase[x.Pkg.Name], isBase[y.Pkg.Name]; {
			case bx && !by:
				return -1
			case by && !bx:
				return 1
			}
			return 0
		})
	}
	var newest time.Time
	var names []string
	for _, in := range inputs {
		info, err := a.install(in)
		if err != nil {
			return nil, fmt.Errorf("install %s %s: %w", in.Pkg.Name, in.Pkg.Version, err)
		}
		pt := info.BuildTime.UTC().Truncate(time.Second)
		if !opts.Epoch.IsZero() && pt.After(opts.Epoch) {
			pt = opts.Epoch.UTC().Truncate(time.Second)
		}
		if pt.Before(time.Unix(0, 0)) {
			pt = time.Unix(0, 0).UTC()
		}
		a.times[in.Pkg.Name] = pt
		if pt.After(newest) {
			newest = pt
		}
		names = append(names, in.Pkg.Name)
	}
	if err := a.synthesize(); err != nil {
		return nil, err
	}
	epoch := opts.Epoch
	if epoch.IsZero() {
		epoch = newest
	}
	if epoch.IsZero() {
		epoch = time.Unix(0, 0)
	}
	epoch = epoch.UTC().Truncate(time.Second)
	layers, err := a.writeLayers(epoch)
	if err != nil {
		return nil, err
	}
	return &Result{Layers: layers, Epoch: epoch, Files: len(a.files), Packages: names, Notes: a.notes}, nil
}

func (a *assembler) install(in Input) (*apk.Info, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var files []installed.File
	var size int64
	busybox := a.opts.Profile == Debug && in.Pkg.Name == "busybox"
	info, err := apk.Read(f, apk.Options{Keys: in.Keys, Expect: in.Pkg, What: in.Path}, func(hdr *tar.Header, body io.Reader) error {
		p := "/" + strings.TrimSuffix(hdr.Name, "/")
		if hdr.Typeflag != tar.TypeDir && a.trimmed(p) {
			return nil
		}
		if busybox {
			// The debug image's tools live apart: only the binary, as /busybox/busybox.
			if p != "/bin/busybox" {
				return nil
			}
			p = assemble.BusyboxDir + "/busybox"
		}
		h := *hdr
		h.Name, h.PAXRecords, h.Format = p, nil, tar.FormatUnknown
		h.Uname, h.Gname = "", ""
		if a.opts.Profile != Dev {
			h.Mode &^= 0o6000 // no setuid/setgid outside build stages
		}
		e := &entry{hdr: h, owner: in.Pkg.Name}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(body)
			if err != nil {
				return err
			}
			e.data = b
			size += int64(len(b))
		}
		if old, ok := a.files[p]; ok {
			if old.hdr.Typeflag == tar.TypeDir && h.Typeflag == tar.TypeDir {
				return nil // shared directories: the first package's metadata stays, as apk does
			}
			if !replaces(in.Pkg, old.owner) {
				return fmt.Errorf("%s is also in %s; apk refuses such a conflict unless the package declares replaces", p, old.owner)
			}
		}
		a.files[p] = e
		f := installed.File{Path: p, Dir: h.Typeflag == tar.TypeDir, Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid,
			Symlink: h.Typeflag == tar.TypeSymlink, HasOwnerOK: true}
		if s, ok := hdr.PAXRecords["APK-TOOLS.checksum.SHA1"]; ok {
			f.SHA1, _ = hex.DecodeString(s)
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if busybox {
		if _, ok := a.files[assemble.BusyboxDir+"/busybox"]; !ok {
			return nil, fmt.Errorf("busybox package has no /bin/busybox")
		}
		if err := a.busyboxLinks(); err != nil {
			return nil, err
		}
	}
	a.units = append(a.units, assemble.Unit{Name: info.Name, Source: info.Origin, Bytes: size})
	// The record comes from the verified file, not the index: an image built from a lock or
	// a provenance, which pin files and read no index, is then the same image.
	a.records = append(a.records, installed.Package{
		Name: info.Name, Version: info.Version, Arch: info.Arch, Checksum: info.Checksum.String(),
		Size: fi.Size(), InstalledSize: info.InstalledSize, Description: info.Description,
		URL: info.URL, License: info.License, Origin: info.Origin, Maintainer: info.Maintainer,
		Commit: info.Commit, BuildTime: info.BuildTime, Depends: info.Depends, Provides: info.Provides,
		Replaces: info.Replaces, ProviderPriority: info.ProviderPriority, HasPriority: info.HasPriority,
		Files: files,
	})
	return info, nil
}

func (a *assembler) isBase() map[string]bool {
	m := map[string]bool{}
	for _, p := range a.opts.BasePackages {
		m[p] = true
	}
	return m
}

func (a *assembler) trimmed(p string) bool {
	for _, pat := range a.opts.TrimPaths {
		if assemble.TrimMatch(pat, p) {
			return true
		}
	}
	return false
}

func replaces(p *apkindex.Package, owner string) bool {
	for _, r := range p.Replaces {
		name := r
		if i := strings.IndexAny(r, "<>=~"); i >= 0 {
			name = r[:i]
		}
		if name == owner {
			return true
		}
	}
	return false
}

func (a *assembler) busyboxLinks() error {
	applets, err := assemble.BusyboxApplets()
	if err != nil {
		return err
	}
	for _, ap := range applets {
		// Derived from busybox, so in its layer.
		p := assemble.BusyboxDir + "/" + ap
		a.files[p] = &entry{hdr: tar.Header{Name: p, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, owner: "busybox"}
	}
	a.note("debug: busybox applets linked under %s (no /bin/sh)", assemble.BusyboxDir)
	return nil
}

func (a *assembler) note(format string, args ...any) {
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
}

// synth adds a file Spartan writes itself, replacing whatever a package put there.
func (a *assembler) synth(p string, h tar.Header, data []byte) {
	h.Name = p
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(data))
	}
	a.files[p] = &entry{hdr: h, data: data, owner: "spartan"}
}

func (a *assembler) synthesize() error {
	passwd, group, err := assemble.Accounts(a.opts.Users, a.opts.Groups)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	a.synth("/etc/passwd", tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}, passwd)
	a.synth("/etc/group", tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}, group)
	a.note("accounts: /etc/passwd and /etc/group written by Spartan (root, nobody, nonroot 65532 and the spec's)")
	a.synth("/home/nonroot", tar.Header{Typeflag: tar.TypeDir, Mode: 0o700, Uid: 65532, Gid: 65532}, nil)
	a.synth("/root", tar.Header{Typeflag: tar.TypeDir, Mode: 0o700}, nil)
	a.synth("/tmp", tar.Header{Typeflag: tar.TypeDir, Mode: 0o1777}, nil)
	if a.files["/etc/os-release"] == nil && a.files["/usr/lib/os-release"] == nil {
		a.synth("/etc/os-release", tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}, osRelease(a.opts.Release))
		a.note("os-release: no package ships it (alpine-release does); written from the release %s", a.opts.Release)
	}
	if err := a.specPaths(); err != nil {
		return err
	}
	if len(a.opts.Certificates) > 0 {
		a.caBundle()
	}
	// A package file Spartan replaced is no longer the package's: its record must not claim
	// it (nor its checksum), as dpkg records lose replaced files on Debian.
	for i := range a.records {
		r := &a.records[i]
		kept := r.Files[:0]
		for _, f := range r.Files {
			if e := a.files[f.Path]; f.Dir || e != nil && e.owner == r.Name {
				kept = append(kept, f)
			}
		}
		r.Files = kept
	}
	var db bytes.Buffer
	if err := installed.Write(&db, a.records); err != nil {
		return err
	}
	a.synth(installed.Path, tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}, db.Bytes())
	if a.opts.Profile == Dev {
		if err := a.apkConfig(); err != nil {
			return err
		}
	}
	return nil
}

// specPaths adds the spec's own entries.
func (a *assembler) specPaths() error {
	for _, sp := range a.opts.Paths {
		p := path.Clean("/" + sp.Path)
		if p == "/" {
			return fmt.Errorf("paths: %q is the root", sp.Path)
		}
		mode := int64(sp.Mode.Perm())
		if sp.Mode&os.ModeSetuid != 0 {
			mode |= 0o4000
		}
		if sp.Mode&os.ModeSetgid != 0 {
			mode |= 0o2000
		}
		if sp.Mode&os.ModeSticky != 0 {
			mode |= 0o1000
		}
		h := tar.Header{Mode: mode, Uid: sp.UID, Gid: sp.GID}
		var data []byte
		switch sp.Type {
		case assemble.TypeDirectory:
			h.Typeflag = tar.TypeDir
			if mode == 0 {
				h.Mode = 0o755
			}
		case assemble.TypeFile:
			h.Typeflag, data = tar.TypeReg, []byte(sp.Content)
			if mode == 0 {
				h.Mode = 0o644
			}
		case assemble.TypeSymlink:
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, sp.Target, 0o777
		default:
			return fmt.Errorf("paths: %s: type %q is not directory, file or symlink", sp.Path, sp.Type)
		}
		if old, ok := a.files[p]; ok && old.owner != "spartan" {
			a.note("paths: %s replaces the file of %s", p, old.owner)
		}
		a.synth(p, h, data)
	}
	return nil
}

// caBundle appends the spec's certificates to the bundle ca-certificates-bundle ships (apk
// would have run update-ca-certificates; Spartan runs nothing), or writes one with them alone.
func (a *assembler) caBundle() {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	var data []byte
	if e, ok := a.files[bundle]; ok && e.hdr.Typeflag == tar.TypeReg {
		data = append(data, e.data...)
	}
	for _, c := range a.opts.Certificates {
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		data = append(data, c...)
	}
	a.synth(bundle, tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}, data)
	a.note("certificates: %d appended to %s", len(a.opts.Certificates), bundle)
}

// osRelease is what alpine-release would ship for the branch.
func osRelease(release string) []byte {
	v := strings.TrimPrefix(release, "v")
	return []byte(fmt.Sprintf("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=%s\nPRETTY_NAME=\"Alpine Linux %s\"\nHOME_URL=\"https://alpinelinux.org/\"\n", v, release))
}

// apkConfig writes what apk needs to keep working in a build stage.
func (a *assembler) apkConfig() error {
	reg := tar.Header{Typeflag: tar.TypeReg, Mode: 0o644}
	a.synth("/etc/apk/arch", reg, []byte(a.opts.Arch+"\n"))
	a.synth("/etc/apk/repositories", reg, []byte(strings.Join(a.opts.Repositories, "\n")+"\n"))
	world := append([]string(nil), a.opts.World...)
	sort.Strings(world)
	a.synth("/etc/apk/world", reg, []byte(strings.Join(world, "\n")+"\n"))
	for _, name := range a.opts.Keys.Names() {
		der, err := x509.MarshalPKIXPublicKey(a.opts.Keys[name])
		if err != nil {
			return fmt.Errorf("apk key %s: %w", name, err)
		}
		a.synth("/etc/apk/keys/"+name, reg, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	a.note("dev: /etc/apk/{arch,repositories,world,keys} written so apk works in the build stage")
	return nil
}

// writeLayers groups the packages by origin under the layer budget (assemble.GroupLayers,
// the rules of docs/layers.md), then writes each layer: its packages' entries with every
// directory above them, each entry at its package's time, so a layer's bytes depend on its
// packages alone. Spartan's own files, the installed database among them, come last at the
// image's creation time.
func (a *assembler) writeLayers(created time.Time) ([]Layer, error) {
	budget := a.opts.LayerBudget
	if budget <= 0 {
		budget = 10
	}
	var groups []assemble.LayerGroup
	switch {
	case len(a.opts.BasePackages) > 0:
		isBase := a.isBase()
		var base, added []assemble.Unit
		for _, u := range a.units {
			if isBase[u.Name] {
				base = append(base, u)
			} else {
				added = append(added, u)
			}
		}
		bb := a.opts.BaseLayerBudget
		if bb <= 0 {
			bb = 10
		}
		groups = append(assemble.GroupLayers(base, bb, "shared"), assemble.GroupLayers(added, budget, "added")...)
	case budget > 1:
		groups = assemble.GroupLayers(a.units, budget, "shared")
	}
	layerOf := map[string]int{}
	for i, g := range groups {
		for _, p := range g.Packages {
			layerOf[p] = i
		}
	}
	rootfs := len(groups)
	all := make([]string, 0, len(a.units)+1)
	for _, u := range a.units {
		all = append(all, u.Name)
	}
	last := LayerGroupRootfs(budget, all)
	if len(a.opts.BasePackages) > 0 {
		last = LayerGroupRootfs(2, all)
	}
	groups = append(groups, last)
	members := make([]map[string]bool, len(groups))
	for i := range members {
		members[i] = map[string]bool{}
	}
	for p, e := range a.files {
		i, ok := layerOf[e.owner]
		if !ok {
			i = rootfs
		}
		members[i][p] = true
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			members[i][d] = true
		}
	}
	layers := make([]Layer, len(groups))
	for i, g := range groups {
		var layerTime time.Time
		for _, p := range g.Packages {
			if t, ok := a.times[p]; ok && t.After(layerTime) {
				layerTime = t
			}
		}
		if i == rootfs {
			layerTime = created
		}
		paths := make([]string, 0, len(members[i]))
		for p := range members[i] {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		data, err := a.writeTar(paths, func(p string) time.Time {
			e := a.files[p]
			if e == nil {
				return layerTime
			}
			owner, ok := layerOf[e.owner]
			if !ok {
				owner = rootfs
			}
			if owner != i {
				return layerTime // here only as the parent of this layer's entries
			}
			if t, ok := a.times[e.owner]; ok {
				return t
			}
			return created
		})
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", g.Name, err)
		}
		layers[i] = Layer{Name: g.Name, Packages: g.Packages, Tar: data}
	}
	return layers, nil
}

// LayerGroupRootfs is the synthesized layer: with a budget of 1 it holds every package too.
func LayerGroupRootfs(budget int, pkgs []string) assemble.LayerGroup {
	g := assemble.LayerGroup{Name: assemble.RootfsPackage, Packages: []string{assemble.RootfsPackage}}
	if budget == 1 {
		g.Packages = append(append([]string(nil), pkgs...), assemble.RootfsPackage)
	}
	return g
}

// writeTar writes the given entries (sorted, parents first) with fixed owners and the times
// mtime gives; a directory no entry describes is 0755 root.
func (a *assembler) writeTar(paths []string, mtime func(string) time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		var h tar.Header
		var data []byte
		if e := a.files[p]; e != nil {
			h, data = e.hdr, e.data
		} else {
			h = tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}
		}
		h.Name = strings.TrimPrefix(p, "/")
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.ModTime, h.AccessTime, h.ChangeTime = mtime(p).UTC(), time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if h.Typeflag == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", p, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
