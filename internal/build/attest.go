package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/sbom"
)

// Documents are the supply-chain documents of one architecture's image.
type Documents struct {
	Subject    attest.Subject // the image's name and manifest digest
	SPDX       []byte         // SPDX 2.3 JSON
	CycloneDX  []byte         // CycloneDX 1.6 JSON
	Provenance []byte         // in-toto statement with the SLSA Provenance v1 predicate
}

// Attestation is a ready-to-sign in-toto statement and its predicate type.
type Attestation struct {
	PredicateType string
	Statement     []byte
}

// Attestations wraps the documents as in-toto statements about the image: the provenance as
// it is, the SBOMs with the predicate types cosign uses for --type spdxjson and cyclonedx.
func (d *Documents) Attestations() ([]Attestation, error) {
	spdx, err := attest.Statement(attest.PredicateSPDX, d.SPDX, d.Subject)
	if err != nil {
		return nil, err
	}
	cdx, err := attest.Statement(attest.PredicateCycloneDX, d.CycloneDX, d.Subject)
	if err != nil {
		return nil, err
	}
	return []Attestation{
		{PredicateType: attest.PredicateSLSA, Statement: d.Provenance},
		{PredicateType: attest.PredicateSPDX, Statement: spdx},
		{PredicateType: attest.PredicateCycloneDX, Statement: cdx},
	}, nil
}

// ImageName is the name documents give the image: its first tag, else the spec's name.
func (o Options) ImageName() string {
	if len(o.Spec.Tags) > 0 {
		return o.Spec.Tags[0]
	}
	return o.Spec.Name
}

// Documents writes the SBOMs (read back from the built image, so they list exactly what
// scanners will see) and the provenance of img, built between started and finished.
func (o Options) Documents(img *Image, started, finished time.Time) (*Documents, error) {
	name := o.ImageName()
	if IsAlpine(o.Spec) && img.Plan.Alpine == nil {
		// The provenance would name no verified package or index: refuse rather than attest
		// less than was used.
		return nil, fmt.Errorf("%s (%s): provenance: the image has no Alpine plan to record", name, img.Plan.Arch)
	}
	subject, err := attest.NewSubject(name, img.Digest)
	if err != nil {
		return nil, err
	}
	so := sbom.Options{Name: name, Debs: map[string]sbom.Deb{}, ToolVersion: o.Version}
	if res := img.Plan.Result; res != nil {
		so.Cuts = res.Cuts
		for _, s := range res.Packages {
			so.Debs[s.Pkg.Name] = sbom.Deb{SHA256: strings.ToLower(s.Pkg.SHA256), URL: s.Pkg.URL()}
		}
	}
	if ap := img.Plan.Alpine; ap != nil {
		for _, p := range ap.Packages {
			so.Debs[p.Pin.Name] = sbom.Deb{SHA256: p.Pin.SHA256, URL: p.Pin.URL}
		}
	}
	inv, err := sbom.Read(img.Image)
	if err != nil {
		return nil, fmt.Errorf("SBOM of %s (%s): %w", name, img.Plan.Arch, err)
	}
	docs := &Documents{Subject: subject}
	if docs.SPDX, err = sbom.Write(inv, sbom.SPDX, so); err != nil {
		return nil, err
	}
	if docs.CycloneDX, err = sbom.Write(inv, sbom.CycloneDX, so); err != nil {
		return nil, err
	}

	b := attest.Build{
		Subject:        subject,
		SpecSHA256:     o.Spec.Digest(),
		Variant:        variantName(o.Spec),
		Arch:           img.Plan.Arch,
		SpartanVersion: o.Version,
		Profile:        string(o.Spec.Profile),
		Started:        started,
		Finished:       finished,
		SBOMs: []attest.ResourceDescriptor{
			{Name: "sbom.spdx.json", MediaType: sbom.MediaTypeSPDX, Digest: sha256Map(docs.SPDX)},
			{Name: "sbom.cdx.json", MediaType: sbom.MediaTypeCycloneDX, Digest: sha256Map(docs.CycloneDX)},
		},
	}
	if src, rel, ok := attest.GitSource(context.Background(), o.Spec.File); ok {
		b.Source, b.SpecPath = src, rel
	} else {
		b.SpecPath = displayPath(o.Spec.File)
	}
	for _, r := range img.Plan.Releases {
		b.Releases = append(b.Releases, attest.ResourceDescriptor{URI: r.URL, Digest: map[string]string{"sha256": strings.ToLower(r.SHA256)}})
	}
	if res := img.Plan.Result; res != nil {
		for _, s := range res.Packages {
			p := s.Pkg
			b.Packages = append(b.Packages, attest.ResourceDescriptor{
				Name:   fmt.Sprintf("%s_%s_%s.deb", p.Name, upstreamAndRevision(p.Version), p.Architecture),
				URI:    p.URL(),
				Digest: map[string]string{"sha256": strings.ToLower(p.SHA256)},
				Annotations: map[string]string{
					AnnotationPackage: p.Name, AnnotationVersion: p.Version, AnnotationArch: p.Architecture,
				},
			})
		}
	}
	if ap := img.Plan.Alpine; ap != nil {
		for _, ix := range ap.Indexes {
			b.Releases = append(b.Releases, attest.ResourceDescriptor{URI: ix.URL, Digest: map[string]string{"sha256": ix.SHA256}})
		}
		for _, p := range ap.Packages {
			a := map[string]string{AnnotationPackage: p.Pin.Name, AnnotationVersion: p.Pin.Version, AnnotationArch: p.Pin.Arch}
			if p.Pin.Checksum != "" {
				a[AnnotationAPKChecksum] = p.Pin.Checksum
			}
			b.Packages = append(b.Packages, attest.ResourceDescriptor{
				Name: path.Base(p.Pin.URL), URI: p.Pin.URL, Digest: map[string]string{"sha256": p.Pin.SHA256}, Annotations: a,
			})
		}
	}
	for _, c := range o.Spec.Certificates {
		data, err := os.ReadFile(c)
		if err != nil {
			return nil, fmt.Errorf("provenance: certificate file %s: %w", c, err)
		}
		b.Inputs = append(b.Inputs, attest.ResourceDescriptor{Name: "certificates/" + relTo(o.Spec.Dir, c), Digest: sha256Map(data)})
	}
	if docs.Provenance, err = b.Statement(); err != nil {
		return nil, fmt.Errorf("provenance of %s (%s): %w", name, img.Plan.Arch, err)
	}
	return docs, nil
}

func sha256Map(b []byte) map[string]string {
	sum := sha256.Sum256(b)
	return map[string]string{"sha256": hex.EncodeToString(sum[:])}
}

// upstreamAndRevision drops the epoch, as Debian's pool file names do.
func upstreamAndRevision(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		return rest
	}
	return v
}

// displayPath is the spec's path relative to the working directory when it is below it, so
// that provenance does not publish the builder's home directory; else "<dir>/<file>".
func displayPath(file string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
}

func relTo(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(file)
}
