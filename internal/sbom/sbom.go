// Package sbom writes software bills of materials (SPDX 2.3 and CycloneDX 1.6 JSON) for a
// container image. The package set is read from the image itself — its dpkg records in
// /var/lib/dpkg/status.d, their copyright files and /etc/os-release — so the SBOM lists
// exactly what scanners see in the image, whoever built it. What only the builder knows
// (the .debs' digests and URLs, the dependency edges the hardening profile cut, the image's
// name) comes in through Options. docs/sbom.md describes both documents.
package sbom

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/purl"
)

// Format names an SBOM format.
type Format string

const (
	SPDX      Format = "spdx"
	CycloneDX Format = "cyclonedx"
)

// Media types of the documents, for OCI descriptors and attestation byproducts.
const (
	MediaTypeSPDX      = "application/spdx+json"
	MediaTypeCycloneDX = "application/vnd.cyclonedx+json"
)

// MediaType returns f's media type.
func (f Format) MediaType() string {
	if f == CycloneDX {
		return MediaTypeCycloneDX
	}
	return MediaTypeSPDX
}

// ParseFormat accepts "spdx" / "spdx-json" and "cyclonedx" / "cdx".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "spdx", "spdx-json", "spdxjson":
		return SPDX, nil
	case "cyclonedx", "cyclonedx-json", "cdx":
		return CycloneDX, nil
	}
	return "", fmt.Errorf("SBOM format %q: use spdx or cyclonedx", s)
}

// Deb is what the resolution knows about a package's .deb.
type Deb struct {
	SHA256 string // hex
	URL    string // where it was fetched from; "" if unknown
}

// Options carry what the image alone does not say. All are optional.
type Options struct {
	// Name is the image reference ("spartan/python:3.13"); default: the image's
	// org.opencontainers.image.title annotation, else "image".
	Name string
	// Debs by package name.
	Debs map[string]Deb
	// Cuts are the dependency edges the hardening profile removed.
	Cuts []resolve.Cut
	// ToolVersion is Spartan's version, for the creator/tool fields.
	ToolVersion string
}

// Generate reads img and writes its SBOM in format f.
func Generate(img v1.Image, f Format, o Options) ([]byte, error) {
	inv, err := Read(img)
	if err != nil {
		return nil, err
	}
	return Write(inv, f, o)
}

// Write renders an inventory in format f.
func Write(inv *Inventory, f Format, o Options) ([]byte, error) {
	switch f {
	case SPDX:
		return writeSPDX(inv, o)
	case CycloneDX:
		return writeCycloneDX(inv, o)
	}
	return nil, fmt.Errorf("SBOM format %q: use spdx or cyclonedx", f)
}

func (o Options) name(inv *Inventory) string {
	switch {
	case o.Name != "":
		return o.Name
	case inv.Title != "":
		return inv.Title
	}
	return "image"
}

func (o Options) tool() string {
	if o.ToolVersion == "" {
		return "spartan"
	}
	return "spartan-" + o.ToolVersion
}

// imagePURL is the image's pkg:oci purl, or "" when ref is not a reference. Only a name the
// caller gave is used: a bare title would read as an image on Docker Hub.
func imagePURL(ref, digest, arch string) string {
	if ref == "" {
		return ""
	}
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ""
	}
	repo := r.Context()
	last := repo.RepositoryStr()
	if i := strings.LastIndex(last, "/"); i >= 0 {
		last = last[i+1:]
	}
	p := purl.PURL{Type: purl.TypeOCI, Name: strings.ToLower(last), Version: digest,
		Qualifiers: map[string]string{"arch": arch, "repository_url": repo.Name()}}
	if t, ok := r.(name.Tag); ok {
		p.Qualifiers["tag"] = t.TagStr()
	}
	return p.String()
}

// deterministicUUID derives an RFC 4122 version 5-shaped UUID from s, so that the same image
// always gets the same serial number.
func deterministicUUID(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// maintainer splits "Name <mail>" into its parts.
func maintainer(s string) (name, email string) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "<"); i >= 0 {
		if j := strings.Index(s[i:], ">"); j > 0 {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1 : i+j])
		}
	}
	return s, ""
}

// cutsByPackage groups cut edges by the package that declared them.
func cutsByPackage(cuts []resolve.Cut) map[string][]resolve.Cut {
	m := map[string][]resolve.Cut{}
	for _, c := range cuts {
		m[c.From] = append(m[c.From], c)
	}
	return m
}

// sortedCutTexts describes cut edges, sorted so that output does not depend on their order.
func sortedCutTexts(cuts []resolve.Cut) []string {
	out := make([]string, 0, len(cuts))
	for _, c := range cuts {
		out = append(out, fmt.Sprintf("dependency %s cut (%s): %s", c.To, c.Relation, c.Reason))
	}
	sort.Strings(out)
	return out
}
