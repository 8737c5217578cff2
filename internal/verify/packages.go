package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/purl"
)

// InstalledPackages returns "name version" → true for every package the image's package
// database lists (later layers override earlier ones, whiteouts delete).
func InstalledPackages(img v1.Image) (map[string]bool, error) {
	inv, err := inventory.FromImage(img, inventory.Records, nil)
	if err != nil {
		return nil, fmt.Errorf("installed packages: %w", err)
	}
	out := map[string]bool{}
	for _, p := range inv.Packages {
		out[p.Name+" "+p.Version] = true
	}
	return out, nil
}

// SBOMPackages returns "name version" → true for every distribution package (purl type deb or
// apk) an SPDX or CycloneDX JSON document lists. Package URLs are what scanners match on, so they are the
// identity compared here.
func SBOMPackages(predicateType string, doc json.RawMessage) (map[string]bool, error) {
	var purls []string
	switch predicateType {
	case PredicateSPDX:
		var d struct {
			Packages []struct {
				ExternalRefs []struct {
					ReferenceType    string `json:"referenceType"`
					ReferenceLocator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, fmt.Errorf("SPDX JSON: %w", err)
		}
		for _, p := range d.Packages {
			for _, r := range p.ExternalRefs {
				if r.ReferenceType == "purl" {
					purls = append(purls, r.ReferenceLocator)
				}
			}
		}
	case PredicateCycloneDX:
		var d struct {
			Components []cdxComponent `json:"components"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, fmt.Errorf("CycloneDX JSON: %w", err)
		}
		var walk func([]cdxComponent)
		walk = func(cs []cdxComponent) {
			for _, c := range cs {
				purls = append(purls, c.PURL)
				walk(c.Components)
			}
		}
		walk(d.Components)
	default:
		return nil, fmt.Errorf("predicate type %s is not an SBOM", predicateType)
	}
	out := map[string]bool{}
	for _, s := range purls {
		p, err := purl.Parse(s)
		if err == nil && (p.Type == purl.TypeDeb || p.Type == purl.TypeAPK) && p.Version != "" {
			out[p.Name+" "+p.Version] = true
		}
	}
	return out, nil
}

type cdxComponent struct {
	PURL       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

func samePackages(installed, listed map[string]bool) error {
	var missing, extra []string
	for p := range installed {
		if !listed[p] {
			missing = append(missing, p)
		}
	}
	for p := range listed {
		if !installed[p] {
			extra = append(extra, p)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(extra)
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("in the image but not the SBOM: %s", strings.Join(missing, ", ")))
	}
	if len(extra) > 0 {
		parts = append(parts, fmt.Sprintf("in the SBOM but not the image: %s", strings.Join(extra, ", ")))
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}
