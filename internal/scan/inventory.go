// Package scan matches the Debian packages of an image (or of an SBOM) against the
// vulnerability database: by source package and release, with Debian's version ordering, so
// that it works on any Debian-based image and agrees with Debian's own triage.
package scan

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/rootfs"
	"github.com/spartan-images/spartan/internal/vuln"
)

// Package is one installed binary package.
type Package struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	Arch          string `json:"arch,omitempty"`
	Source        string `json:"source"`         // source package; the binary name when not given
	SourceVersion string `json:"source_version"` // what the tracker's fixed versions refer to
	Location      string `json:"location,omitempty"`
}

// Inventory is what a target holds: the Debian release and its packages.
type Inventory struct {
	Target    string    `json:"target"`
	OSID      string    `json:"os_id"`
	VersionID string    `json:"version_id,omitempty"`
	Release   string    `json:"release"` // codename
	Packages  []Package `json:"packages"`
	// Cut lists packages a hardening profile left out although something depended on them
	// (from a Spartan SBOM), for VEX component_not_present statements.
	Cut []string `json:"cut,omitempty"`
	// Digest of the image, when the target is one.
	Digest string `json:"digest,omitempty"`
}

var codenameRE = regexp.MustCompile(`^[a-z]+$`)

// FromImage reads the release and packages of an image, flattening only the files the
// inventory reads (os-release, the package database).
func FromImage(img v1.Image, target string, opts ...Option) (*Inventory, error) {
	var c rootfs.DerivedCache // a nil *cache.Cache is not a nil interface
	if o := optionsOf(opts); o.cache != nil {
		c = o.cache
	}
	installed, err := inventory.FromImage(img, inventory.Records, c)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", target, err)
	}
	inv, err := FromInstalled(installed, target)
	if err != nil {
		return nil, err
	}
	if d, err := img.Digest(); err == nil {
		inv.Digest = d.String()
	}
	return inv, nil
}

// FromInstalled takes the Debian release and packages from what an image has installed.
func FromInstalled(installed *inventory.Inventory, target string) (*Inventory, error) {
	if installed.OS.ID == "" {
		return nil, fmt.Errorf("%s: no /etc/os-release or /usr/lib/os-release: cannot tell which Debian release the packages belong to", target)
	}
	inv := &Inventory{Target: target}
	if err := inv.setRelease(installed.OS); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	want := purl.TypeDeb
	if vuln.IsAlpineRelease(inv.Release) {
		want = purl.TypeAPK
	}
	for _, p := range installed.Packages {
		if p.Type != want {
			continue
		}
		inv.Packages = append(inv.Packages, Package{Name: p.Name, Version: p.Version, Arch: p.Arch,
			Source: p.Source, SourceVersion: p.SourceVersion, Location: strings.TrimPrefix(p.Record, "/")})
	}
	if len(inv.Packages) == 0 && want == purl.TypeAPK {
		return nil, fmt.Errorf("%s: os-release says alpine but no Alpine packages were found (no /lib/apk/db/installed)", target)
	}
	if len(inv.Packages) == 0 {
		return nil, fmt.Errorf("%s: no Debian packages found (neither /var/lib/dpkg/status.d/ nor /var/lib/dpkg/status)", target)
	}
	sortPackages(inv.Packages)
	return inv, nil
}

func sortPackages(pkgs []Package) {
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Arch < pkgs[j].Arch
	})
}

// setRelease takes the release from os-release: VERSION_CODENAME, else VERSION_ID, else the
// "trixie/sid" form testing and unstable images carry in PRETTY_NAME.
func (inv *Inventory) setRelease(osr inventory.OSRelease) error {
	inv.OSID, inv.VersionID = osr.ID, osr.VersionID
	if inv.OSID == "alpine" {
		// secdb is per branch: VERSION_ID 3.22.1 is v3.22; edge images say 3.23.0_alpha….
		parts := strings.SplitN(osr.VersionID, ".", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return fmt.Errorf("os-release VERSION_ID=%q names no Alpine branch", osr.VersionID)
		}
		inv.Release = vuln.AlpineRelease("v" + parts[0] + "." + strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
		return nil
	}
	if inv.OSID != "debian" {
		return fmt.Errorf("os-release ID=%q: only Debian and Alpine images can be matched against security data", inv.OSID)
	}
	// A codename this version does not know yet is still the tracker's name for it.
	if c := osr.Codename; codenameRE.MatchString(c) {
		inv.Release = c
		return nil
	}
	for _, cand := range []string{osr.Codename, osr.VersionID} {
		if cand == "" {
			continue
		}
		c, err := vuln.Codename(cand)
		if err == nil {
			inv.Release = c
			return nil
		}
	}
	if _, after, ok := strings.Cut(osr.PrettyName, "/"); ok && strings.HasPrefix(after, "sid") {
		inv.Release = "sid"
		return nil
	}
	return fmt.Errorf("os-release names no Debian release this version knows (VERSION_CODENAME=%q VERSION_ID=%q)", osr.Codename, osr.VersionID)
}
