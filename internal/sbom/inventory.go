package sbom

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// RootfsPackage is the status.d record Spartan writes for the files it synthesizes (accounts,
// os-release, CA bundle…). It is named here rather than imported from internal/assemble so
// that reading an image does not depend on how it was assembled.
const RootfsPackage = "spartan-rootfs"

const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// Package is one installed package, with its license read as SPDX.
type Package struct {
	inventory.Package
	// SPDX is the package's license declaration (its Debian copyright file) read as SPDX.
	SPDX License
}

// File is a file Spartan synthesized (not unpacked from a .deb), with digests of its bytes in
// the image.
type File struct {
	Path   string // absolute, e.g. /etc/passwd
	Owner  string // the package whose record accounts for it
	SHA256 string
	SHA1   string
}

// Inventory is what an image holds, read from the image alone.
type Inventory struct {
	Digest   string // manifest digest, "sha256:…"
	Created  time.Time
	Arch     string // OCI architecture of the config
	Title    string // org.opencontainers.image.title annotation, if any
	OS       inventory.OSRelease
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

// Read inventories img: its installed packages with their copyright files, os-release and
// the files Spartan synthesized.
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
	// Every file's digests: the synthesized files may be anywhere.
	fs, err := rootfs.Flatten(img, rootfs.Options{Keep: inventory.Full.Wants, Digests: true})
	if err != nil {
		return nil, fmt.Errorf("read image layers: %w", err)
	}
	installed, err := inventory.Read(fs)
	if err != nil {
		return nil, err
	}
	inv.OS, inv.Warnings = installed.OS, installed.Warnings
	for _, p := range installed.Packages {
		inv.Packages = append(inv.Packages, Package{Package: p, SPDX: licenseOf(p.License)})
	}
	inv.readFiles(fs)
	return inv, nil
}

// licenseOf reads a package's license declaration as SPDX.
func licenseOf(l inventory.License) License {
	switch l.Format {
	case inventory.DebianCopyright:
		return ParseCopyright(l.Text)
	case inventory.SPDXExpression:
		// Alpine's L: is an SPDX expression already; "custom" means the aport names none.
		if e := strings.TrimSpace(string(l.Text)); e != "" && e != "custom" {
			return License{Expression: e}
		}
	}
	return ParseCopyright(nil)
}

// readFiles lists the synthesized files: those the spartan-rootfs record's md5sums names, and
// the CA bundle, which Spartan writes in place of update-ca-certificates and attributes to
// ca-certificates when the bundle holds only that package's certificates.
func (inv *Inventory) readFiles(fs *rootfs.FS) {
	seen := map[string]bool{}
	add := func(p, owner string) {
		p = rootfs.Clean(p)
		f := fs.Lookup(p)
		if f == nil || !f.IsRegular() || seen[p] || p == "/" {
			return
		}
		seen[p] = true
		inv.Files = append(inv.Files, File{Path: p, Owner: owner, SHA256: f.SHA256, SHA1: f.SHA1})
	}
	if rootfsPkg := inv.Package(RootfsPackage); rootfsPkg != nil {
		for _, f := range rootfsPkg.Files {
			add(f.Path, RootfsPackage)
		}
		owner := RootfsPackage
		if !seen[caBundle] && inv.Package("ca-certificates") != nil {
			owner = "ca-certificates"
		}
		add(caBundle, owner)
	}
	sort.Slice(inv.Files, func(i, j int) bool { return inv.Files[i].Path < inv.Files[j].Path })
}
