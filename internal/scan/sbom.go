package scan

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/vuln"
)

// debPURL parses a purl, ok only for a Debian package's (pkg:deb/debian/…); other purls —
// the image itself, files, other ecosystems — are not scanned.
func debPURL(s string) (purl.PURL, bool) {
	p, err := purl.Parse(s)
	if err != nil || p.Type != purl.TypeDeb || !strings.EqualFold(p.Namespace, "debian") {
		return purl.PURL{}, false
	}
	return p, true
}

// upstream reads syft's upstream qualifier: "openssl" or "openssl@3.5.1-1".
func upstream(p purl.PURL) (string, string) {
	u := p.Qualifier("upstream")
	name, ver, _ := strings.Cut(u, "@")
	return name, ver
}

// distroRelease reads the distro qualifier: debian-13, debian-13.1 or debian-trixie.
func distroRelease(p purl.PURL) string {
	d, ok := strings.CutPrefix(p.Qualifier("distro"), "debian-")
	if !ok {
		return ""
	}
	c, err := vuln.Codename(d)
	if err != nil {
		return ""
	}
	return c
}

// sourceInfoRE reads SPDX sourceInfo as Spartan and syft write it: "built package from: openssl
// 3.5.1-1" (the version is optional).
var sourceInfoRE = regexp.MustCompile(`built package from:\s*(\S+)(?:\s+(\S+))?`)

// cutRE reads the cut edges Spartan records in its SBOMs: "dependency bash cut (Depends): …".
var cutRE = regexp.MustCompile(`dependency (\S+) cut \(`)

type spdxDoc struct {
	SPDXVersion string `json:"spdxVersion"`
	Packages    []struct {
		Name         string `json:"name"`
		VersionInfo  string `json:"versionInfo"`
		SourceInfo   string `json:"sourceInfo"`
		ExternalRefs []struct {
			Type     string `json:"referenceType"`
			Locator  string `json:"referenceLocator"`
			Category string `json:"referenceCategory"`
		} `json:"externalRefs"`
		Annotations []spdxAnnotation `json:"annotations"`
	} `json:"packages"`
	Annotations []spdxAnnotation `json:"annotations"`
}

type spdxAnnotation struct {
	Comment string `json:"comment"`
}

type cdxDoc struct {
	BOMFormat  string         `json:"bomFormat"`
	Components []cdxComponent `json:"components"`
	Metadata   struct {
		Component *cdxComponent `json:"component"`
	} `json:"metadata"`
}

type cdxComponent struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Version    string `json:"version"`
	PURL       string `json:"purl"`
	Properties []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"properties"`
	Components []cdxComponent `json:"components"`
}

func (c cdxComponent) prop(name string) string {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// IsSBOM tells whether data looks like an SPDX or CycloneDX JSON document.
func IsSBOM(data []byte) bool {
	var probe struct {
		SPDXVersion string `json:"spdxVersion"`
		BOMFormat   string `json:"bomFormat"`
	}
	return json.Unmarshal(data, &probe) == nil && (probe.SPDXVersion != "" || probe.BOMFormat == "CycloneDX")
}

// FromSBOM reads the Debian packages an SPDX or CycloneDX JSON SBOM lists, by their purls. The
// release comes from the purls' distro qualifier; the source package from Spartan's properties,
// SPDX sourceInfo or syft's upstream qualifier, else the binary name.
func FromSBOM(data []byte, target string) (*Inventory, error) {
	var probe struct {
		SPDXVersion string `json:"spdxVersion"`
		BOMFormat   string `json:"bomFormat"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("SBOM %s: %w", target, err)
	}
	inv := &Inventory{Target: target, OSID: "debian"}
	releases := map[string]bool{}
	cut := map[string]bool{}
	add := func(p purl.PURL, src, srcVer, location string) {
		if r := distroRelease(p); r != "" {
			releases[r] = true
		}
		usrc, uver := upstream(p)
		if src == "" {
			src = usrc
		}
		if srcVer == "" {
			srcVer = uver
		}
		field := src
		if srcVer != "" {
			field += " (" + srcVer + ")"
		}
		s, sv := inventory.SourceOf(field, p.Name, p.Version)
		inv.Packages = append(inv.Packages, Package{Name: p.Name, Version: p.Version, Arch: p.Qualifier("arch"), Source: s, SourceVersion: sv, Location: location})
	}
	noteCuts := func(text string) {
		for _, m := range cutRE.FindAllStringSubmatch(text, -1) {
			cut[m[1]] = true
		}
	}
	switch {
	case probe.SPDXVersion != "":
		var doc spdxDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("SPDX SBOM %s: %w", target, err)
		}
		for _, a := range doc.Annotations {
			noteCuts(a.Comment)
		}
		for _, pk := range doc.Packages {
			for _, a := range pk.Annotations {
				noteCuts(a.Comment)
			}
			for _, ref := range pk.ExternalRefs {
				if ref.Type != "purl" {
					continue
				}
				p, ok := debPURL(ref.Locator)
				if !ok || p.Version == "" {
					continue
				}
				src, sv := "", ""
				if m := sourceInfoRE.FindStringSubmatch(pk.SourceInfo); m != nil {
					src, sv = m[1], m[2]
				}
				add(p, src, sv, ref.Locator)
				break
			}
		}
	case probe.BOMFormat == "CycloneDX":
		var doc cdxDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("CycloneDX SBOM %s: %w", target, err)
		}
		var walk func([]cdxComponent)
		walk = func(cs []cdxComponent) {
			for _, c := range cs {
				for _, pr := range c.Properties {
					if pr.Name == "spartan:cut" {
						noteCuts(pr.Value)
					}
				}
				if p, ok := debPURL(c.PURL); ok && p.Version != "" {
					add(p, c.prop("spartan:source"), c.prop("spartan:sourceVersion"), c.PURL)
				}
				walk(c.Components)
			}
		}
		walk(doc.Components)
	default:
		return nil, fmt.Errorf("%s: not an SPDX or CycloneDX JSON document", target)
	}
	if len(inv.Packages) == 0 {
		return nil, fmt.Errorf("SBOM %s lists no Debian packages (pkg:deb purls)", target)
	}
	switch len(releases) {
	case 0:
		return nil, fmt.Errorf("SBOM %s: no purl names its Debian release (distro=debian-N qualifier)", target)
	case 1:
		for r := range releases {
			inv.Release = r
		}
	default:
		return nil, fmt.Errorf("SBOM %s mixes Debian releases %v", target, keys(releases))
	}
	inv.VersionID = vuln.ReleaseNumber(inv.Release)
	sortPackages(inv.Packages)
	for c := range cut {
		inv.Cut = append(inv.Cut, c)
	}
	sort.Strings(inv.Cut)
	return inv, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
