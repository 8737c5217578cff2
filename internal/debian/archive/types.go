// Package archive is the Debian repository client: it fetches InRelease files, verifies their
// OpenPGP signatures against a keyring, and fetches the Packages indexes they vouch for by hash.
package archive

import (
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Source is one repository line: a mirror URL, a suite and its components, and the keys that
// may sign it.
type Source struct {
	URL        string
	Suite      string
	Components []string
	Keyring    openpgp.EntityList
}

// FileHash is a Release file's promise about one index file.
type FileHash struct {
	SHA256 string
	Size   int64
}

// Release is a verified InRelease file.
type Release struct {
	Source        Source
	Origin        string
	Label         string
	Suite         string
	Codename      string
	Version       string
	Date          time.Time
	ValidUntil    time.Time
	Architectures []string
	Components    []string
	AcquireByHash bool
	Files         map[string]FileHash
	SHA256        string // of the InRelease bytes as fetched, for provenance
	URL           string // where the InRelease came from
}

// Package is one binary package stanza of a Packages index.
type Package struct {
	Name          string
	Version       string
	Architecture  string
	Source        string // source package name; defaults to Name
	SourceVersion string // defaults to Version
	Filename      string
	SHA256        string
	Size          int64
	InstalledSize int64 // KiB, as the index says
	Depends       string
	PreDepends    string
	Provides      string
	Essential     bool
	Priority      string
	Section       string
	MultiArch     string
	Origin        *Release
}

// URL is where the .deb can be downloaded.
func (p *Package) URL() string {
	base := ""
	if p.Origin != nil {
		base = strings.TrimSuffix(p.Origin.Source.URL, "/")
	}
	return base + "/" + strings.TrimPrefix(p.Filename, "/")
}

// ID names the package unambiguously in messages and maps: name_version_arch.
func (p *Package) ID() string { return p.Name + "_" + p.Version + "_" + p.Architecture }
