// Package apkindex reads Alpine repository indexes (APKINDEX.tar.gz): it checks the index's
// RSA signature against trusted keys before decompressing anything that signature covers,
// then parses the package records.
package apkindex

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Package is one record of an APKINDEX.
type Package struct {
	Name             string   // P:
	Version          string   // V:
	Arch             string   // A:
	Checksum         Checksum // C: the control segment's hash, which the .apk must match
	Size             int64    // S: size of the .apk
	InstalledSize    int64    // I:
	Description      string   // T:
	URL              string   // U:
	License          string   // L:
	Origin           string   // o: the source package (aport)
	Maintainer       string   // m:
	BuildTime        time.Time
	Commit           string   // c: aports commit
	Depends          []string // D: names, so:/cmd:/pc: names, constraints and !conflicts
	Provides         []string // p:
	InstallIf        []string // i:
	Replaces         []string // r:
	ProviderPriority int      // k:
	HasPriority      bool

	// Repository is the repository URL the index came from; set by the caller that loads it.
	Repository string
}

// Filename is the package file's name in its repository.
func (p *Package) Filename() string { return p.Name + "-" + p.Version + ".apk" }

// URL of the .apk within Repository (which ends in the architecture directory).
func (p *Package) FileURL() string {
	return strings.TrimSuffix(p.Repository, "/") + "/" + p.Filename()
}

// ID names the package uniquely within an architecture.
func (p *Package) ID() string { return p.Name + "-" + p.Version + "." + p.Arch }

// Checksum is an apk identity hash: "Q1" + base64(SHA-1) in apk v2 indexes, "Q2" +
// base64(SHA-256) in v3 ones.
type Checksum struct {
	SHA256 bool
	Sum    []byte
}

// ParseChecksum reads the C: field.
func ParseChecksum(s string) (Checksum, error) {
	var c Checksum
	var want int
	switch {
	case strings.HasPrefix(s, "Q1"):
		want = 20
	case strings.HasPrefix(s, "Q2"):
		c.SHA256, want = true, 32
	default:
		return c, fmt.Errorf("checksum %q: want Q1 (SHA-1) or Q2 (SHA-256) followed by base64", clip(s))
	}
	sum, err := base64.StdEncoding.DecodeString(s[2:])
	if err != nil || len(sum) != want {
		return c, fmt.Errorf("checksum %q: not %d bytes of base64", clip(s), want)
	}
	c.Sum = sum
	return c, nil
}

// String writes the checksum back as apk does.
func (c Checksum) String() string {
	if c.Sum == nil {
		return ""
	}
	q := "Q1"
	if c.SHA256 {
		q = "Q2"
	}
	return q + base64.StdEncoding.EncodeToString(c.Sum)
}

// Hex is the hash in hex, for messages and SBOMs.
func (c Checksum) Hex() string { return hex.EncodeToString(c.Sum) }

// Matches compares against the control segment's hashes.
func (c Checksum) Matches(sha1Sum, sha256Sum []byte) bool {
	if c.SHA256 {
		return string(c.Sum) == string(sha256Sum)
	}
	return string(c.Sum) == string(sha1Sum)
}
