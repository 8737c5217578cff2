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
	"github.com/spartan-images/spartan/internal/sign"
)

// Documents are the supply-chain documents of one architecture's image.
type Documents struct {
	Subject    attest.Subject // the image's name and manifest digest
	SPDX       []byte         // SPDX 2.3 JSON
	CycloneDX  []byte         // CycloneDX 1.6 JSON
	Provenance []byte         // in-toto statement with the SLSA Provenance v1 predicate
}

// Attestations wraps the documents as in-toto statements about the image: the provenance as
// it is, the SBOMs with the predicate types cosign uses for --type spdxjson and cyclonedx.
func (d *Documents) Attestations() ([]sign.Attestation, error) {
	spdx, err := attest.Statement(attest.PredicateSPDX, d.SPDX, d.Subject)
	if err != nil {
		return nil, err
	}
	cdx, err := attest.Statement(attest.PredicateCycloneDX, d.CycloneDX, d.Subject)
	if err != nil {
		return nil, err
	}
	return []sign.Attestation{
		{PredicateType: attest.PredicateSLSA, Statement: d.Provenance},
		{PredicateType: attest.PredicateSPDX, Statement: spdx},
		{PredicateType: attest.PredicateCycloneDX, Statement: cdx},
	}, nil
}

// SBOMDescriptors name the two SBOMs by digest, as a provenance lists its byproducts.
func (d *Documents) SBOMDescriptors() []attest.ResourceDescriptor {
	return []attest.ResourceDescriptor{
		{Name: "sbom.spdx.json", MediaType: sbom.MediaTypeSPDX, Digest: sha256Map(d.SPDX)},
		{Name: "sbom.cdx.json", MediaType: sbom.MediaTypeCycloneDX, Digest: sha256Map(d.CycloneDX)},
	}
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

	b, err := o.provenance(subject, started, finished)
	if err != nil {
		return nil, err
	}
	b.Arch = img.Plan.Arch
	b.SBOMs = docs.SBOMDescriptors()
	b.Releases, b.Packages = planDependencies(img.Plan)
	if docs.Provenance, err = b.Statement(); err != nil {
		return nil, fmt.Errorf("provenance of %s (%s): %w", name, img.Plan.Arch, err)
	}
	return docs, nil
}

// IndexProvenance is the SLSA provenance of a multi-arch build's index, so that the tag users
// pull carries one too (`cosign verify-attestation --type slsaprovenance1 REPO:TAG`): the same
// spec and builder as the platform images', the platform images as its first resolved
// dependencies, then every architecture's InRelease files and .debs (each once).
func (o Options) IndexProvenance(out *Output, started, finished time.Time) (sign.Attestation, error) {
	if out.Index == nil {
		return sign.Attestation{}, fmt.Errorf("provenance of an index: the build made a single image")
	}
	digest, err := out.Digest()
	if err != nil {
		return sign.Attestation{}, err
	}
	subject, err := attest.NewSubject(o.ImageName(), digest)
	if err != nil {
		return sign.Attestation{}, err
	}
	b, err := o.provenance(subject, started, finished)
	if err != nil {
		return sign.Attestation{}, err
	}
	seen := map[string]bool{}
	once := func(in []attest.ResourceDescriptor) (out []attest.ResourceDescriptor) {
		for _, d := range in {
			if k := d.Name + " " + d.URI; !seen[k] {
				seen[k] = true
				out = append(out, d)
			}
		}
		return out
	}
	for _, im := range out.Images {
		mt, err := im.Image.MediaType()
		if err != nil {
			return sign.Attestation{}, fmt.Errorf("provenance of the %s index: %w", o.ImageName(), err)
		}
		b.Archs = append(b.Archs, im.Plan.Arch)
		b.Images = append(b.Images, attest.ResourceDescriptor{
			Name:      "linux/" + im.Plan.Arch,
			MediaType: string(mt),
			Digest:    digestMap(im.Digest),
		})
		rels, pkgs := planDependencies(im.Plan)
		b.Releases = append(b.Releases, once(rels)...)
		b.Packages = append(b.Packages, once(pkgs)...)
	}
	stmt, err := b.Statement()
	if err != nil {
		return sign.Attestation{}, fmt.Errorf("provenance of the %s index: %w", o.ImageName(), err)
	}
	return sign.Attestation{PredicateType: attest.PredicateSLSA, Statement: stmt}, nil
}

// provenance fills in what every provenance of this build records: the spec, its source, the
// builder, the run's times and the extra certificates.
func (o Options) provenance(subject attest.Subject, started, finished time.Time) (attest.Build, error) {
	b := attest.Build{
		Subject:        subject,
		SpecSHA256:     o.Spec.Digest(),
		Variant:        variantName(o.Spec),
		SpartanVersion: o.Version,
		Profile:        string(o.Spec.Profile),
		Started:        started,
		Finished:       finished,
	}
	if src, rel, ok := attest.GitSource(context.Background(), o.Spec.File); ok {
		b.Source, b.SpecPath = src, rel
	} else {
		b.SpecPath = displayPath(o.Spec.File)
	}
	for _, c := range o.Spec.Certificates {
		data, err := os.ReadFile(c)
		if err != nil {
			return b, fmt.Errorf("provenance: certificate file %s: %w", c, err)
		}
		b.Inputs = append(b.Inputs, attest.ResourceDescriptor{Name: "certificates/" + relTo(o.Spec.Dir, c), Digest: sha256Map(data)})
	}
	return b, nil
}

// planDependencies are one architecture's signed indexes (InRelease, APKINDEX) and packages
// (.deb, .apk) as provenance records them.
func planDependencies(p *Plan) (releases, packages []attest.ResourceDescriptor) {
	for _, r := range p.Releases {
		releases = append(releases, attest.ResourceDescriptor{URI: r.URL, Digest: map[string]string{"sha256": strings.ToLower(r.SHA256)}})
	}
	if res := p.Result; res != nil {
		for _, s := range res.Packages {
			p := s.Pkg
			packages = append(packages, attest.ResourceDescriptor{
				Name:   fmt.Sprintf("%s_%s_%s.deb", p.Name, upstreamAndRevision(p.Version), p.Architecture),
				URI:    p.URL(),
				Digest: map[string]string{"sha256": strings.ToLower(p.SHA256)},
				Annotations: map[string]string{
					AnnotationPackage: p.Name, AnnotationVersion: p.Version, AnnotationArch: p.Architecture,
				},
			})
		}
	}
	if ap := p.Alpine; ap != nil {
		for _, ix := range ap.Indexes {
			releases = append(releases, attest.ResourceDescriptor{URI: ix.URL, Digest: map[string]string{"sha256": ix.SHA256}})
		}
		for _, pkg := range ap.Packages {
			a := map[string]string{AnnotationPackage: pkg.Pin.Name, AnnotationVersion: pkg.Pin.Version, AnnotationArch: pkg.Pin.Arch}
			if pkg.Pin.Checksum != "" {
				a[AnnotationAPKChecksum] = pkg.Pin.Checksum
			}
			packages = append(packages, attest.ResourceDescriptor{
				Name: path.Base(pkg.Pin.URL), URI: pkg.Pin.URL, Digest: map[string]string{"sha256": pkg.Pin.SHA256}, Annotations: a,
			})
		}
	}
	return releases, packages
}

// digestMap turns "sha256:<hex>" into in-toto's {"sha256": "<hex>"}.
func digestMap(d string) map[string]string {
	alg, hex, _ := strings.Cut(d, ":")
	return map[string]string{alg: hex}
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
