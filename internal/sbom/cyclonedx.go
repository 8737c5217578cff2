package sbom

import (
	"bytes"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Property names Spartan adds to CycloneDX components.
const (
	PropCut           = "spartan:cut"
	PropSource        = "spartan:source"
	PropSourceVersion = "spartan:sourceVersion"
	PropArch          = "spartan:arch"
	PropDebFilename   = "spartan:debFilename"
)

const imageRef = "image"

func writeCycloneDX(inv *Inventory, o Options) ([]byte, error) {
	imgName := o.name(inv)
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + deterministicUUID("cyclonedx "+imgName+" "+inv.Digest)
	bom.Version = 1
	image := cdx.Component{
		BOMRef:  imageRef,
		Type:    cdx.ComponentTypeContainer,
		Name:    imgName,
		Version: inv.Digest,
		Hashes:  &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: strings.TrimPrefix(inv.Digest, "sha256:")}},
	}
	if p := imagePURL(o.Name, inv.Digest, inv.Arch); p != "" {
		image.PackageURL = p
	}
	if inv.Arch != "" {
		image.Properties = &[]cdx.Property{{Name: PropArch, Value: inv.Arch}}
	}
	version := o.ToolVersion
	bom.Metadata = &cdx.Metadata{
		Timestamp: spdxTime(inv.Created),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "spartan", Version: version,
		}}},
		Component: &image,
	}

	var comps []cdx.Component
	var deps []cdx.Dependency
	if inv.OS.ID != "" {
		comps = append(comps, cdx.Component{
			BOMRef:      "os:" + inv.OS.ID + "@" + firstNonEmpty(inv.OS.VersionID, inv.OS.Codename),
			Type:        cdx.ComponentTypeOS,
			Name:        inv.OS.ID,
			Version:     firstNonEmpty(inv.OS.VersionID, inv.OS.Codename),
			Description: inv.OS.PrettyName,
		})
	}
	filesOf := map[string][]File{}
	for _, f := range inv.Files {
		filesOf[f.Owner] = append(filesOf[f.Owner], f)
	}
	refOf := map[string]string{}
	for _, p := range inv.Packages {
		refOf[p.Name] = p.PURL(inv.OS).String()
	}
	cuts := cutsByPackage(o.Cuts)
	for _, p := range inv.Packages {
		c := cdx.Component{
			BOMRef:      refOf[p.Name],
			Type:        cdx.ComponentTypeLibrary,
			Name:        p.Name,
			Version:     p.Version,
			Description: p.Summary,
			PackageURL:  refOf[p.Name],
		}
		if n, mail := maintainer(p.Maintainer); n != "" {
			c.Supplier = &cdx.OrganizationalEntity{Name: n}
			if validEmail(mail) {
				c.Supplier.Contact = &[]cdx.OrganizationalContact{{Name: n, Email: mail}}
			}
		}
		if l := cdxLicenses(p.SPDX); l != nil {
			c.Licenses = l
		}
		props := []cdx.Property{
			{Name: PropSource, Value: p.Source},
			{Name: PropSourceVersion, Value: p.SourceVersion},
			{Name: PropArch, Value: p.Arch},
		}
		var refs []cdx.ExternalReference
		if d, ok := o.Debs[p.Name]; ok {
			if d.SHA256 != "" {
				c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: strings.ToLower(d.SHA256)}}
			}
			if validURL(d.URL) {
				refs = append(refs, cdx.ExternalReference{Type: cdx.ERTypeDistribution, URL: d.URL})
			}
			props = append(props, cdx.Property{Name: PropDebFilename, Value: fmt.Sprintf("%s_%s_%s.deb", p.Name, stripEpoch(p.Version), p.Arch)})
		}
		if validURL(p.Homepage) {
			refs = append(refs, cdx.ExternalReference{Type: cdx.ERTypeWebsite, URL: p.Homepage})
		}
		if len(refs) > 0 {
			c.ExternalReferences = &refs
		}
		for _, text := range sortedCutTexts(cuts[p.Name]) {
			props = append(props, cdx.Property{Name: PropCut, Value: text})
		}
		c.Properties = &props
		if files := filesOf[p.Name]; len(files) > 0 {
			sub := make([]cdx.Component, 0, len(files))
			for _, f := range files {
				sub = append(sub, cdxFile(f))
			}
			c.Components = &sub
		}
		comps = append(comps, c)
		dependsOn := make([]string, 0, len(p.Depends))
		for _, d := range p.Depends {
			dependsOn = append(dependsOn, refOf[d])
		}
		deps = append(deps, cdx.Dependency{Ref: refOf[p.Name], Dependencies: &dependsOn})
	}
	// Files whose owner has no record (not in a Spartan image) still get listed.
	for _, f := range inv.Files {
		if _, ok := refOf[f.Owner]; !ok {
			comps = append(comps, cdxFile(f))
		}
	}
	bom.Components = &comps
	bom.Dependencies = &deps

	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("write CycloneDX JSON: %w", err)
	}
	return buf.Bytes(), nil
}

func cdxFile(f File) cdx.Component {
	return cdx.Component{
		BOMRef: "file:" + f.Path,
		Type:   cdx.ComponentTypeFile,
		Name:   f.Path,
		Hashes: &[]cdx.Hash{
			{Algorithm: cdx.HashAlgoSHA1, Value: f.SHA1},
			{Algorithm: cdx.HashAlgoSHA256, Value: f.SHA256},
		},
		Properties: &[]cdx.Property{{Name: "spartan:synthesized", Value: "true"}},
	}
}

// cdxLicenses uses a license id when the expression is one listed license, else the
// expression; NOASSERTION is left out (CycloneDX has no such value).
func cdxLicenses(l License) *cdx.Licenses {
	e := l.Expression
	switch {
	case e == "" || e == NoAssertion:
		return nil
	case !strings.ContainsAny(e, " ()") && !strings.HasPrefix(e, "LicenseRef-"):
		return &cdx.Licenses{{License: &cdx.License{ID: e}}}
	}
	return &cdx.Licenses{{Expression: e}}
}

// validURL and validEmail keep hand-written record fields that would break the schema's
// iri-reference and idn-email formats out of the document.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != "" && !strings.ContainsAny(s, " \t\"<>\\^`{|}")
}

func validEmail(s string) bool {
	if s == "" {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}
