package inventory

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/control"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// dpkg reads Debian's database: the distroless convention of one record per package in
// /var/lib/dpkg/status.d/ (with <name>.md5sums beside it), and the status file dpkg itself
// keeps (with /var/lib/dpkg/info/<name>[:<arch>].md5sums).
type dpkg struct{}

const (
	dpkgStatus   = "/var/lib/dpkg/status"
	dpkgStatusD  = "/var/lib/dpkg/status.d"
	dpkgInfo     = "/var/lib/dpkg/info"
	debianDocDir = "/usr/share/doc"
)

func (dpkg) Name() string { return "dpkg" }

func (dpkg) Wants(p string, d Detail) bool {
	switch dir := path.Dir(p); {
	case p == dpkgStatus:
		return true
	case dir == dpkgStatusD:
		return d == Full || !strings.HasSuffix(p, ".md5sums")
	case d == Records:
		return false
	case dir == dpkgInfo:
		return strings.HasSuffix(p, ".md5sums")
	case dir == debianDocDir:
		return true // /usr/share/doc/<pkg>, often a symlink to another package's directory
	case path.Dir(dir) == debianDocDir:
		return path.Base(p) == "copyright"
	}
	return false
}

func (dpkg) Present(fs *rootfs.FS) bool {
	return fs.Lookup(dpkgStatus) != nil || len(statusDRecords(fs)) > 0
}

// statusDRecords lists the status.d records: everything but the .md5sums files (package names
// may contain dots: libpython3.13-minimal).
func statusDRecords(fs *rootfs.FS) []string {
	var out []string
	for _, f := range fs.List(dpkgStatusD) {
		if !strings.HasSuffix(f.Path, ".md5sums") && !f.IsDir() {
			out = append(out, f.Path)
		}
	}
	return out
}

type dpkgRecord struct {
	para control.Paragraph
	file string
}

// Read takes the status.d records, then the status file's; a package recorded twice counts
// once (the first record).
func (d dpkg) Read(fs *rootfs.FS) ([]Package, []string, error) {
	var recs []dpkgRecord
	parse := func(file string) error {
		b, ok := fs.Content(file)
		if !ok {
			return nil
		}
		paras, err := control.ParseAll(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w (a damaged dpkg record: restore or remove it)", file, err)
		}
		for _, p := range paras {
			if p.Get("Package") == "" || p.Get("Version") == "" {
				return fmt.Errorf("%s: a record without Package or Version field (a damaged dpkg record: restore or remove it)", file)
			}
			recs = append(recs, dpkgRecord{para: p, file: file})
		}
		return nil
	}
	for _, f := range statusDRecords(fs) {
		if err := parse(f); err != nil {
			return nil, nil, err
		}
	}
	if err := parse(dpkgStatus); err != nil {
		return nil, nil, err
	}

	var pkgs []Package
	seen := map[string]bool{}
	var kept []dpkgRecord
	for _, r := range recs {
		name, arch := r.para.Get("Package"), r.para.Get("Architecture")
		if seen[name+":"+arch] || !installed(r.para.Get("Status")) {
			continue
		}
		seen[name+":"+arch] = true
		p := Package{
			Type: purl.TypeDeb, Namespace: "debian",
			Name: name, Version: r.para.Get("Version"), Arch: arch,
			Maintainer: r.para.Get("Maintainer"),
			Homepage:   r.para.Get("Homepage"),
			Record:     r.file,
		}
		p.Summary, _, _ = strings.Cut(r.para.Get("Description"), "\n")
		p.Source, p.SourceVersion = SourceOf(r.para.Get("Source"), name, p.Version)
		if b, ok := fs.Content(debianDocDir + "/" + name + "/copyright"); ok {
			p.License = License{Format: DebianCopyright, Text: b}
		}
		p.Files = md5sums(fs, r.file, name, arch)
		pkgs = append(pkgs, p)
		kept = append(kept, r)
	}
	warnings := linkDepends(pkgs, kept)
	return pkgs, warnings, nil
}

// installed accepts records without Status (status.d records may omit it) and those dpkg
// calls installed; the status file keeps removed-but-not-purged packages ("deinstall ok
// config-files"), which are not.
func installed(status string) bool {
	f := strings.Fields(status)
	return len(f) == 0 || f[len(f)-1] == "installed"
}

// binNMU matches a binary-only rebuild's version suffix ("+b1").
var binNMU = regexp.MustCompile(`\+b[0-9]+$`)

// SourceOf reads a Source field ("openssl" or "openssl (3.5.1-1)") with dpkg's defaults: no
// field means the source is named like the binary; no version in it means the source's
// version is the binary's — less a binNMU suffix, since a binary-only rebuild "1.2-3+b1" is
// built from source "1.2-3" (dpkg-gencontrol writes the version into Source: explicitly for
// binNMUs; hand-made records often do not).
func SourceOf(field, name, version string) (string, string) {
	src, sv := strings.TrimSpace(field), ""
	if i := strings.IndexByte(src, '('); i >= 0 {
		sv = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(src[i+1:]), ")"))
		src = strings.TrimSpace(src[:i])
	}
	if src == "" {
		src = name
	}
	if sv == "" {
		sv = binNMU.ReplaceAllString(version, "")
	}
	return src, sv
}

// md5sums reads the files a package installed: status.d/<name>.md5sums beside a status.d
// record, info/<name>.md5sums (or <name>:<arch> for multi-arch packages) for the status file.
func md5sums(fs *rootfs.FS, record, name, arch string) []File {
	candidates := []string{dpkgInfo + "/" + name + ":" + arch + ".md5sums", dpkgInfo + "/" + name + ".md5sums"}
	if path.Dir(record) == dpkgStatusD {
		candidates = []string{dpkgStatusD + "/" + name + ".md5sums"}
	}
	for _, c := range candidates {
		b, ok := fs.Content(c)
		if !ok {
			continue
		}
		var files []File
		for _, line := range strings.Split(string(b), "\n") {
			sum, file, ok := strings.Cut(strings.TrimSpace(line), " ")
			if !ok {
				continue
			}
			files = append(files, File{Path: rootfs.Clean(strings.TrimLeft(file, " *")), Digest: "md5:" + sum})
		}
		return files
	}
	return nil
}

// linkDepends turns Depends and Pre-Depends into edges between installed packages. Every
// installed alternative of an OR group gets an edge, and virtual names lead to the installed
// packages that provide them.
func linkDepends(pkgs []Package, recs []dpkgRecord) []string {
	var warnings []string
	relations := func(pkg, field, value string) [][]resolve.Relation {
		groups, err := resolve.ParseRelations(value)
		if err == nil {
			return groups
		}
		// A malformed group is reported and skipped; the others still count.
		groups = nil
		for _, part := range strings.Split(value, ",") {
			g, err := resolve.ParseRelations(part)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: %s: %v", pkg, field, err))
				continue
			}
			groups = append(groups, g...)
		}
		return groups
	}
	installedNames := map[string]bool{}
	for _, p := range pkgs {
		installedNames[p.Name] = true
	}
	providers := map[string][]string{}
	for _, r := range recs {
		name := r.para.Get("Package")
		for _, g := range relations(name, "Provides", r.para.Get("Provides")) {
			for _, rel := range g {
				providers[rel.Name] = append(providers[rel.Name], name)
			}
		}
	}
	for i, r := range recs {
		p := &pkgs[i]
		deps := map[string]bool{}
		for _, field := range []string{"Pre-Depends", "Depends"} {
			for _, g := range relations(p.Name, field, r.para.Get(field)) {
				for _, rel := range g {
					if installedNames[rel.Name] {
						deps[rel.Name] = true
					}
					for _, prov := range providers[rel.Name] {
						deps[prov] = true
					}
				}
			}
		}
		delete(deps, p.Name)
		p.Depends = make([]string, 0, len(deps))
		for d := range deps {
			p.Depends = append(p.Depends, d)
		}
		sort.Strings(p.Depends)
	}
	return warnings
}
