package sbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/spartan-images/spartan/internal/debian/control"
	"github.com/spartan-images/spartan/internal/debian/resolve"
)

// RootfsPackage is the status.d record Spartan writes for the files it synthesizes (accounts,
// os-release, CA bundle…). It is named here rather than imported from internal/assemble so
// that reading an image does not depend on how it was assembled.
const RootfsPackage = "spartan-rootfs"

const (
	statusDir  = "var/lib/dpkg/status.d/"
	statusFile = "var/lib/dpkg/status"
	caBundle   = "etc/ssl/certs/ca-certificates.crt"
)

// Package is one installed Debian package as its dpkg record in the image describes it.
type Package struct {
	Name          string
	Version       string
	Arch          string
	Source        string // source package; Name when the record has no Source field
	SourceVersion string // Version when the Source field names none
	Maintainer    string
	Homepage      string
	Summary       string   // the Description's first line
	Depends       []string // names of installed packages it Depends or Pre-Depends on, sorted
	License       License  // from /usr/share/doc/<name>/copyright
	// MD5Sums is the record's <name>.md5sums ("<md5>  <path>" lines), nil without one.
	MD5Sums []byte
}

// File is a file Spartan synthesized (not unpacked from a .deb), with digests of its bytes in
// the image.
type File struct {
	Path   string // absolute, e.g. /etc/passwd
	Owner  string // the package whose record accounts for it
	SHA256 string
	SHA1   string
}

// OSRelease holds the os-release fields the SBOMs use.
type OSRelease struct {
	ID, VersionID, Codename, PrettyName string
}

// Inventory is what an image holds, read from the image alone.
type Inventory struct {
	Digest   string // manifest digest, "sha256:…"
	Created  time.Time
	Arch     string // OCI architecture of the config
	Title    string // org.opencontainers.image.title annotation, if any
	OS       OSRelease
	Packages []Package // sorted by name
	Files    []File    // sorted by path
	// Warnings name records that could not be fully understood (an unparsable Depends…);
	// they do not stop the SBOM, since a partial graph is better than none.
	Warnings []string
}

// Package returns the named package or nil.
func (inv *Inventory) Package(name string) *Package {
	i := sort.Search(len(inv.Packages), func(i int) bool { return inv.Packages[i].Name >= name })
	if i < len(inv.Packages) && inv.Packages[i].Name == name {
		return &inv.Packages[i]
	}
	return nil
}

// entry is one path of the flattened file system.
type entry struct {
	link   string // symlink target; "" for regular files
	sha256 string
	sha1   string
	data   []byte // kept only for the files the SBOM reads
}

// fsView is the image's flattened file system: digests of every regular file, symlinks, and
// the contents of the few files the SBOM parses.
type fsView map[string]*entry

// keep says whether the content of p is needed: dpkg records, copyright files, os-release.
func keep(p string) bool {
	switch {
	case strings.HasPrefix(p, statusDir), p == statusFile,
		p == "etc/os-release", p == "usr/lib/os-release":
		return true
	case strings.HasPrefix(p, "usr/share/doc/") && strings.HasSuffix(p, "/copyright"):
		return strings.Count(p, "/") == 4
	}
	return false
}

// Read inventories img: its dpkg records (status.d, or a classic status file), their copyright
// files, os-release and the files Spartan synthesized.
func Read(img v1.Image) (*Inventory, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("image digest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	inv := &Inventory{Digest: d.String(), Created: cf.Created.UTC(), Arch: cf.Architecture}
	if m, err := img.Manifest(); err == nil && m != nil {
		inv.Title = m.Annotations["org.opencontainers.image.title"]
	}
	fs, err := flatten(img)
	if err != nil {
		return nil, err
	}
	inv.OS = parseOSRelease(fs.content("etc/os-release"))
	if inv.OS.ID == "" {
		inv.OS = parseOSRelease(fs.content("usr/lib/os-release"))
	}
	if err := inv.readPackages(fs); err != nil {
		return nil, err
	}
	inv.readFiles(fs)
	return inv, nil
}

// flatten reads the layers through mutate.Extract, which applies whiteouts, so later layers
// win as they would in a container.
func flatten(img v1.Image) (fsView, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	fs := fsView{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read image layers: %w", err)
		}
		p := cleanPath(h.Name)
		if p == "" {
			continue
		}
		switch h.Typeflag {
		case tar.TypeSymlink:
			fs[p] = &entry{link: h.Linkname}
		case tar.TypeLink:
			if e := fs[cleanPath(h.Linkname)]; e != nil {
				fs[p] = e
			}
		case tar.TypeReg:
			s256, s1 := sha256.New(), sha1.New()
			var buf bytes.Buffer
			w := io.MultiWriter(s256, s1)
			if keep(p) {
				w = io.MultiWriter(s256, s1, &buf)
			}
			if _, err := io.Copy(w, tr); err != nil {
				return nil, fmt.Errorf("read image file /%s: %w", p, err)
			}
			e := &entry{sha256: hex.EncodeToString(s256.Sum(nil)), sha1: hex.EncodeToString(s1.Sum(nil))}
			if keep(p) {
				e.data = buf.Bytes()
			}
			fs[p] = e
		default:
			delete(fs, p)
		}
	}
}

func cleanPath(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}

// resolve follows symlinks in every component of p (at most 40, as Linux does), so that
// /usr/share/doc/<pkg> links and a /etc/os-release link find their targets.
func (fs fsView) resolve(p string) string {
	hops := 0
	parts := strings.Split(cleanPath(p), "/")
	cur := ""
	for i := 0; i < len(parts); i++ {
		next := path.Join(cur, parts[i])
		e := fs[next]
		if e == nil || e.link == "" {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return ""
		}
		target := e.link
		if !strings.HasPrefix(target, "/") {
			target = path.Join("/", cur, target)
		}
		rest := append(strings.Split(cleanPath(target), "/"), parts[i+1:]...)
		parts, cur, i = rest, "", -1
	}
	return cur
}

// lookup returns the regular file at p, following symlinks.
func (fs fsView) lookup(p string) *entry {
	e := fs[fs.resolve(p)]
	if e == nil || e.link != "" {
		return nil
	}
	return e
}

func (fs fsView) content(p string) []byte {
	if e := fs.lookup(p); e != nil {
		return e.data
	}
	return nil
}

func parseOSRelease(data []byte) OSRelease {
	var o OSRelease
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "VERSION_ID":
			o.VersionID = v
		case "VERSION_CODENAME":
			o.Codename = v
		case "PRETTY_NAME":
			o.PrettyName = v
		}
	}
	return o
}

// readPackages collects the dpkg records: every status.d file (one record each, the
// distroless convention) or, for images built by dpkg, the status file's installed entries.
func (inv *Inventory) readPackages(fs fsView) error {
	var paras []control.Paragraph
	var names []string
	for p := range fs {
		if rest, ok := strings.CutPrefix(p, statusDir); ok && rest != "" && !strings.Contains(rest, "/") && !strings.HasSuffix(rest, ".md5sums") {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		e := fs.lookup(p)
		if e == nil {
			continue
		}
		ps, err := control.ParseAll(bytes.NewReader(e.data))
		if err != nil {
			return fmt.Errorf("dpkg record /%s: %w", p, err)
		}
		paras = append(paras, ps...)
	}
	if len(names) == 0 {
		if data := fs.content(statusFile); data != nil {
			ps, err := control.ParseAll(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("dpkg status /%s: %w", statusFile, err)
			}
			paras = ps
		}
	}
	seen := map[string]bool{}
	for _, para := range paras {
		name := para.Get("Package")
		if name == "" || seen[name] || !installed(para.Get("Status")) {
			continue
		}
		seen[name] = true
		pkg := Package{
			Name:       name,
			Version:    para.Get("Version"),
			Arch:       para.Get("Architecture"),
			Maintainer: para.Get("Maintainer"),
			Homepage:   para.Get("Homepage"),
		}
		pkg.Summary, _, _ = strings.Cut(para.Get("Description"), "\n")
		pkg.Source, pkg.SourceVersion = sourceOf(para.Get("Source"), name, pkg.Version)
		pkg.License = ParseCopyright(fs.content("usr/share/doc/" + name + "/copyright"))
		pkg.MD5Sums = fs.content(statusDir + name + ".md5sums")
		inv.Packages = append(inv.Packages, pkg)
	}
	sort.Slice(inv.Packages, func(i, j int) bool { return inv.Packages[i].Name < inv.Packages[j].Name })
	inv.linkDepends(paras)
	return nil
}

// installed accepts records without Status (some tools omit it) and those dpkg calls installed.
func installed(status string) bool {
	f := strings.Fields(status)
	return len(f) == 0 || f[len(f)-1] == "installed"
}

// sourceOf splits "src (1.2-3)" and fills in the defaults dpkg uses.
func sourceOf(field, name, version string) (string, string) {
	src, ver, ok := strings.Cut(strings.TrimSpace(field), " ")
	if src == "" {
		return name, version
	}
	if ok {
		if v := strings.Trim(strings.TrimSpace(ver), "()"); v != "" {
			return src, v
		}
	}
	return src, version
}

// linkDepends turns Depends and Pre-Depends into edges between installed packages. Every
// installed alternative of an OR group gets an edge, and virtual names lead to the installed
// packages that provide them.
func (inv *Inventory) linkDepends(paras []control.Paragraph) {
	providers := map[string][]string{}
	for _, para := range paras {
		name := para.Get("Package")
		if inv.Package(name) == nil {
			continue
		}
		for _, g := range inv.relations(name, "Provides", para.Get("Provides")) {
			for _, r := range g {
				providers[r.Name] = append(providers[r.Name], name)
			}
		}
	}
	for _, para := range paras {
		pkg := inv.Package(para.Get("Package"))
		if pkg == nil || pkg.Depends != nil {
			continue
		}
		deps := map[string]bool{}
		for _, field := range []string{"Pre-Depends", "Depends"} {
			for _, g := range inv.relations(pkg.Name, field, para.Get(field)) {
				for _, r := range g {
					if inv.Package(r.Name) != nil {
						deps[r.Name] = true
					}
					for _, p := range providers[r.Name] {
						deps[p] = true
					}
				}
			}
		}
		delete(deps, pkg.Name)
		pkg.Depends = make([]string, 0, len(deps))
		for d := range deps {
			pkg.Depends = append(pkg.Depends, d)
		}
		sort.Strings(pkg.Depends)
	}
}

// relations parses a relationship field; a malformed group is reported and skipped, the
// others still count.
func (inv *Inventory) relations(pkg, field, value string) [][]resolve.Relation {
	groups, err := resolve.ParseRelations(value)
	if err == nil {
		return groups
	}
	groups = nil
	for _, part := range strings.Split(value, ",") {
		g, err := resolve.ParseRelations(part)
		if err != nil {
			inv.Warnings = append(inv.Warnings, fmt.Sprintf("%s: %s: %v", pkg, field, err))
			continue
		}
		groups = append(groups, g...)
	}
	return groups
}

// readFiles lists the synthesized files: those the spartan-rootfs record's md5sums names, and
// the CA bundle, which Spartan writes in place of update-ca-certificates and attributes to
// ca-certificates when the bundle holds only that package's certificates.
func (inv *Inventory) readFiles(fs fsView) {
	seen := map[string]bool{}
	add := func(p, owner string) {
		p = cleanPath(p)
		e := fs.lookup(p)
		if e == nil || seen[p] || p == "" {
			return
		}
		seen[p] = true
		inv.Files = append(inv.Files, File{Path: "/" + p, Owner: owner, SHA256: e.sha256, SHA1: e.sha1})
	}
	if inv.Package(RootfsPackage) != nil {
		if e := fs.lookup(statusDir + RootfsPackage + ".md5sums"); e != nil {
			for _, line := range strings.Split(string(e.data), "\n") {
				if _, file, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
					add(strings.TrimLeft(file, " *"), RootfsPackage)
				}
			}
		}
		owner := RootfsPackage
		if !seen[caBundle] && inv.Package("ca-certificates") != nil {
			owner = "ca-certificates"
		}
		add(caBundle, owner)
	}
	sort.Slice(inv.Files, func(i, j int) bool { return inv.Files[i].Path < inv.Files[j].Path })
}
