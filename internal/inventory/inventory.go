// Package inventory tells what is installed in an image: its os-release and its packages, as
// one distribution-neutral list, read from the flattened file system (internal/rootfs) by the
// reader of whichever installed-package database the image has. dpkg (Debian's status file
// and the distroless status.d records) is one such Database, Alpine's /lib/apk/db/installed
// the other.
package inventory

import (
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/rootfs"
)

// Package is one installed package as the image's package database records it.
type Package struct {
	// Type is the purl type of the database that recorded the package ("deb"), Namespace the
	// purl namespace ("debian"): together they say which ecosystem the name and version
	// belong to.
	Type, Namespace string
	Name            string
	Version         string
	Arch            string
	Source          string // source package; Name when the record names none
	SourceVersion   string // the version the source's security data refers to
	Maintainer      string
	Homepage        string
	Summary         string   // the description's first line
	Depends         []string // installed packages it depends on (provides resolved), sorted
	License         License
	Files           []File // what the package installed, as its database lists it
	Record          string // the database file the record was read from, e.g. /var/lib/dpkg/status
}

// License is what the package database says about licensing, in the database's own form.
type License struct {
	Format LicenseFormat
	Text   []byte
}

// LicenseFormat names the form of a License's text.
type LicenseFormat string

// DebianCopyright is /usr/share/doc/<package>/copyright, machine-readable (DEP-5) or not.
const DebianCopyright LicenseFormat = "debian-copyright"

// File is a path a package installed, with the digest its database recorded.
type File struct {
	Path   string // absolute
	Digest string // "md5:<hex>" for dpkg, "sha1:<hex>" for apk; "" when the database records none
}

// PURL is the package's URL: its database's type and namespace, arch and the distro
// qualifier os gives.
func (p *Package) PURL(os OSRelease) purl.PURL {
	return purl.PURL{Type: p.Type, Namespace: p.Namespace, Name: p.Name, Version: p.Version,
		Qualifiers: map[string]string{"arch": p.Arch, "distro": os.Distro(p.Namespace)}}
}

// Inventory is what is installed in an image.
type Inventory struct {
	OS        OSRelease
	Databases []string  // names of the package databases found ("dpkg")
	Packages  []Package // sorted by name, then arch
	// Warnings name records that could not be fully understood (an unparsable Depends…);
	// they do not stop the inventory, since a partial dependency graph is better than none.
	Warnings []string
}

// Package returns the first package of that name, or nil.
func (inv *Inventory) Package(name string) *Package {
	i := sort.Search(len(inv.Packages), func(i int) bool { return inv.Packages[i].Name >= name })
	if i < len(inv.Packages) && inv.Packages[i].Name == name {
		return &inv.Packages[i]
	}
	return nil
}

// Detail says how much of each package an inventory reads.
type Detail int

const (
	// Records reads the package database's records: name, version, arch, source,
	// dependencies — what matching against security data and comparing package sets need.
	Records Detail = iota
	// Full adds what each package installed and its license: what an SBOM lists.
	Full
)

// Database reads one kind of installed-package database.
type Database interface {
	// Name is the package manager's name: "dpkg".
	Name() string
	// Wants says which paths the database reads at a detail, so that a flattening for the
	// inventory alone keeps only those (and the layer cache holds only those).
	Wants(path string, d Detail) bool
	// Present says whether the image has this database.
	Present(fs *rootfs.FS) bool
	// Read lists the installed packages, with files and licenses when the file system holds
	// them; warnings are records understood only in part. A record that cannot be parsed is
	// an error naming its file.
	Read(fs *rootfs.FS) (pkgs []Package, warnings []string, err error)
}

// databases are the readers Read tries, each on its own paths.
var databases = []Database{dpkg{}, apkDB{}}

// Wants says whether the inventory reads path at detail d: os-release or a package
// database's files.
func (d Detail) Wants(path string) bool {
	if isOSRelease(path) {
		return true
	}
	for _, db := range databases {
		if db.Wants(path, d) {
			return true
		}
	}
	return false
}

// IsRecord says whether path is a record of an installed-package database (dpkg's status
// or a status.d record, apk's installed): a layer that writes or deletes one installed or
// removed packages.
func IsRecord(path string) bool {
	for _, db := range databases {
		if db.Wants(path, Records) {
			return true
		}
	}
	return false
}

// Files are the rootfs options that read what the inventory needs at detail d and nothing
// else, cached through cache when it is not nil.
func (d Detail) Files(cache rootfs.DerivedCache) rootfs.Options {
	return rootfs.Options{Select: d.Wants, Keep: d.Wants, Cache: cache, CacheKey: fmt.Sprintf("%s/%d", cacheVersion, d)}
}

// cacheVersion names what the readers read, in layer cache keys; bump it when Wants or a
// reader changes.
const cacheVersion = "inventory/v2"

// FromImage flattens only the files the inventory reads at detail d (through cache when not
// nil) and reads them.
func FromImage(img v1.Image, d Detail, cache rootfs.DerivedCache) (*Inventory, error) {
	fs, err := rootfs.Flatten(img, d.Files(cache))
	if err != nil {
		return nil, err
	}
	return Read(fs)
}

// Read inventories a flattened file system. It needs the content of the paths a Detail's
// Wants names, and reads as much detail as the file system holds.
func Read(fs *rootfs.FS) (*Inventory, error) {
	inv := &Inventory{OS: ReadOSRelease(fs)}
	for _, db := range databases {
		if !db.Present(fs) {
			continue
		}
		pkgs, warnings, err := db.Read(fs)
		if err != nil {
			return nil, fmt.Errorf("%s database: %w", db.Name(), err)
		}
		inv.Databases = append(inv.Databases, db.Name())
		inv.Packages = append(inv.Packages, pkgs...)
		inv.Warnings = append(inv.Warnings, warnings...)
	}
	sort.SliceStable(inv.Packages, func(i, j int) bool {
		a, b := inv.Packages[i], inv.Packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Arch < b.Arch
	})
	return inv, nil
}
