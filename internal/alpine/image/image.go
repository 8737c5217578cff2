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
	// Epoch is every entry's mtime; zero means the newest package build time.
	Epoch time.Time
	// For dev images: /etc/apk/repositories lines, the keys to place in /etc/apk/keys, and
	// the requested names for /etc/apk/world.
	Repositories []string
	Keys         keyring.Keyring
	World        []string
}

// Result is the assembled file system as one deterministic layer.
type Result struct {
	Tar      []byte
	Epoch    time.Time
	Files    int
	Packages []string
	Notes    []string // what was synthesized or changed, for logs and docs
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
}

// Assemble lays out the packages in the order given and synthesizes the rest.
func Assemble(inputs []Input, opts Options) (*Result, error) {
	a := &assembler{opts: opts, files: map[string]*entry{}}
	var newest time.Time
	var names []string
	for _, in := range inputs {
		info, err := a.install(in)
		if err != nil {
			return nil, fmt.Errorf("install %s %s: %w", in.Pkg.Name, in.Pkg.Version, err)
		}
		if info.BuildTime.After(newest) {
			newest = info.BuildTime
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
	data, err := a.writeTar(epoch)
	if err != nil {
		return nil, err
	}
	return &Result{Tar: data, Epoch: epoch.UTC(), Files: len(a.files), Packages: names, Notes: a.notes}, nil
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
	busybox := a.opts.Profile == Debug && in.Pkg.Name == "busybox"
	info, err := apk.Read(f, apk.Options{Keys: in.Keys, Expect: in.Pkg, What: in.Path}, func(hdr *tar.Header, body io.Reader) error {
		p := "/" + strings.TrimSuffix(hdr.Name, "/")
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
		a.synth(assemble.BusyboxDir+"/"+ap, tar.Header{Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
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

// writeTar writes every entry sorted by path, parents first, with fixed times and owners.
func (a *assembler) writeTar(epoch time.Time) ([]byte, error) {
	for p := range a.files {
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			if _, ok := a.files[d]; !ok {
				a.files[d] = &entry{hdr: tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, owner: "spartan"}
			}
		}
	}
	paths := make([]string, 0, len(a.files))
	for p := range a.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		e := a.files[p]
		h := e.hdr
		h.Name = strings.TrimPrefix(p, "/")
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.ModTime, h.AccessTime, h.ChangeTime = epoch, time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if h.Typeflag == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", p, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
