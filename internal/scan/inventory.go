// Package scan matches the Debian packages of an image (or of an SBOM) against the
// vulnerability database: by source package and release, with Debian's version ordering, so
// that it works on any Debian-based image and agrees with Debian's own triage.
package scan

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/debian/control"
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

// binNMU matches a binary-only rebuild suffix ("+b1"): such a binary's source version is its
// version without it.
var codenameRE = regexp.MustCompile(`^[a-z]+$`)

var binNMU = regexp.MustCompile(`\+b[0-9]+$`)

// sourceOf splits a Source field ("openssl" or "openssl (3.5.1-1)") and falls back to the
// binary's name and version.
func sourceOf(field, name, ver string) (string, string) {
	src, sv := strings.TrimSpace(field), ""
	if i := strings.IndexByte(src, '('); i >= 0 {
		sv = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(src[i+1:]), ")"))
		src = strings.TrimSpace(src[:i])
	}
	if src == "" {
		src = name
	}
	if sv == "" {
		sv = binNMU.ReplaceAllString(ver, "")
	}
	return src, sv
}

func fromParagraph(p control.Paragraph, location string) (Package, bool) {
	name, ver := p.Get("Package"), p.Get("Version")
	if name == "" || ver == "" {
		return Package{}, false
	}
	// dpkg's status file keeps removed-but-not-purged packages ("deinstall ok config-files");
	// only installed ones count. status.d records (distroless) may lack the field.
	if st := p.Get("Status"); st != "" && !strings.HasSuffix(st, " installed") {
		return Package{}, false
	}
	src, sv := sourceOf(p.Get("Source"), name, ver)
	return Package{Name: name, Version: ver, Arch: p.Get("Architecture"), Source: src, SourceVersion: sv, Location: location}, true
}

// Limits on what is read from an image: the status database of a large image is a few MB.
const maxMetadataFile = 64 << 20

// FromImage reads the release and packages of an image: /etc/os-release (or
// /usr/lib/os-release), every record in /var/lib/dpkg/status.d/ and /var/lib/dpkg/status.
func FromImage(img v1.Image, target string, opts ...Option) (*Inventory, error) {
	fs, err := imageFiles(img, optionsOf(opts))
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", target, err)
	}
	inv, err := fromFiles(fs, target)
	if err != nil {
		return nil, err
	}
	if d, err := img.Digest(); err == nil {
		inv.Digest = d.String()
	}
	return inv, nil
}

// FromTar reads the release and packages from a flattened file system given as a tar stream
// (no whiteouts). audit hands over the few files it already flattened, so that an image's
// layers are not read (or pulled) twice.
func FromTar(r io.Reader, target string) (*Inventory, error) {
	return fromFS(tar.NewReader(r), target)
}

// fromFS reads a flattened file system (a tar with no whiteouts).
func fromFS(tr *tar.Reader, target string) (*Inventory, error) {
	fs := map[string]entry{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", target, err)
		}
		name := path.Clean("/" + strings.TrimPrefix(h.Name, "./"))
		if !interesting(name) {
			continue
		}
		e := entry{typ: h.Typeflag, link: h.Linkname}
		if h.Typeflag == tar.TypeReg {
			if e.body, err = io.ReadAll(io.LimitReader(tr, maxMetadataFile)); err != nil {
				return nil, fmt.Errorf("read %s in %s: %w", name, target, err)
			}
		}
		fs[name] = e
	}
	return fromFiles(fs, target)
}

func fromFiles(fs map[string]entry, target string) (*Inventory, error) {
	var pkgs []Package
	seen := map[string]bool{}
	for _, name := range sortedPaths(fs) {
		e := fs[name]
		if e.typ != tar.TypeReg || !isStatusFile(name) {
			continue
		}
		paras, err := control.ParseAll(bytes.NewReader(e.body))
		if err != nil {
			return nil, fmt.Errorf("%s in %s: %w", name, target, err)
		}
		for _, p := range paras {
			pkg, ok := fromParagraph(p, strings.TrimPrefix(name, "/"))
			key := pkg.Name + ":" + pkg.Arch
			if ok && !seen[key] {
				seen[key] = true
				pkgs = append(pkgs, pkg)
			}
		}
	}
	// /etc/os-release is usually a symlink to ../usr/lib/os-release.
	var osr []byte
	for _, name := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		e, ok := fs[name]
		for hops := 0; ok && e.typ == tar.TypeSymlink && hops < 4; hops++ {
			e, ok = fs[path.Clean(path.Join(path.Dir(name), e.link))]
		}
		if ok && e.typ == tar.TypeReg {
			osr = e.body
			break
		}
	}
	if osr == nil {
		return nil, fmt.Errorf("%s: no /etc/os-release or /usr/lib/os-release: cannot tell which Debian release the packages belong to", target)
	}
	inv := &Inventory{Target: target}
	if err := inv.setRelease(parseOSRelease(osr)); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s: no Debian packages found (neither /var/lib/dpkg/status.d/ nor /var/lib/dpkg/status)", target)
	}
	sortPackages(pkgs)
	inv.Packages = pkgs
	return inv, nil
}

// isStatusFile tells the dpkg status database and distroless status.d records apart from the
// rest; status.d holds <pkg> and <pkg>.md5sums, and package names may contain dots
// (libpython3.13-minimal), so anything but .md5sums is a record.
func isStatusFile(name string) bool {
	return name == "/var/lib/dpkg/status" ||
		strings.HasPrefix(name, "/var/lib/dpkg/status.d/") && !strings.HasSuffix(name, ".md5sums")
}

func sortPackages(pkgs []Package) {
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Arch < pkgs[j].Arch
	})
}

func parseOSRelease(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		m[k] = strings.Trim(v, `"'`)
	}
	return m
}

// setRelease takes the release from os-release: VERSION_CODENAME, else VERSION_ID, else the
// "trixie/sid" form testing and unstable images carry in PRETTY_NAME.
func (inv *Inventory) setRelease(osr map[string]string) error {
	inv.OSID, inv.VersionID = osr["ID"], osr["VERSION_ID"]
	if inv.OSID != "debian" {
		return fmt.Errorf("os-release ID=%q: only Debian images can be matched against Debian's security data", inv.OSID)
	}
	// A codename this version does not know yet is still the tracker's name for it.
	if c := osr["VERSION_CODENAME"]; codenameRE.MatchString(c) {
		inv.Release = c
		return nil
	}
	for _, cand := range []string{osr["VERSION_CODENAME"], osr["VERSION_ID"]} {
		if cand == "" {
			continue
		}
		c, err := vuln.Codename(cand)
		if err == nil {
			inv.Release = c
			return nil
		}
	}
	if _, after, ok := strings.Cut(osr["PRETTY_NAME"], "/"); ok && strings.HasPrefix(after, "sid") {
		inv.Release = "sid"
		return nil
	}
	return fmt.Errorf("os-release names no Debian release this version knows (VERSION_CODENAME=%q VERSION_ID=%q)", osr["VERSION_CODENAME"], osr["VERSION_ID"])
}
