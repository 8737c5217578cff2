package build

import (
	"fmt"
	"path"
	"strings"

	"github.com/spartan-images/spartan/internal/alpine/repo"
	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/resolve"
)

// Annotations on the provenance's .deb descriptors: what PlanFromProvenance reads back.
const (
	AnnotationPackage = "package"
	AnnotationVersion = "version"
	AnnotationArch    = "architecture"
	// AnnotationAPKChecksum is an .apk's control-segment checksum as its index named it (C:).
	AnnotationAPKChecksum = "apkChecksum"
)

// PlanFromProvenance rebuilds the plan an image was built from out of its SLSA provenance: the
// exact .debs (URI and SHA-256) and the InRelease files they came through. Nothing is resolved
// again; the downloads are checked against the recorded digests like any other.
func PlanFromProvenance(p *attest.Provenance) (*Plan, error) {
	bd := p.BuildDefinition
	if bd.BuildType != attest.BuildType {
		return nil, fmt.Errorf("provenance build type %q is not Spartan's %q: cannot rebuild it", bd.BuildType, attest.BuildType)
	}
	arch := bd.ExternalParameters.Arch
	if arch == "" {
		return nil, fmt.Errorf("provenance names no architecture")
	}
	plan := &Plan{Arch: arch, Result: &resolve.Result{}}
	for _, d := range bd.ResolvedDependencies {
		sum := d.Digest["sha256"]
		switch {
		case strings.HasSuffix(d.URI, "/APKINDEX.tar.gz"):
			if plan.Alpine == nil {
				plan.Alpine = &AlpinePlan{}
			}
			plan.Alpine.Indexes = append(plan.Alpine.Indexes, AlpineIndex{URL: d.URI, SHA256: sum})
		case strings.HasSuffix(d.Name, ".apk"):
			name, ver, pa := d.Annotations[AnnotationPackage], d.Annotations[AnnotationVersion], d.Annotations[AnnotationArch]
			if name == "" || ver == "" || pa == "" || len(sum) != 64 || d.URI == "" {
				return nil, fmt.Errorf("provenance: dependency %s lacks its package, version, architecture, URI or sha256", d.Name)
			}
			if plan.Alpine == nil {
				plan.Alpine = &AlpinePlan{}
			}
			plan.Alpine.Packages = append(plan.Alpine.Packages, AlpinePackage{
				Pin: repo.Pin{URL: d.URI, SHA256: sum, Name: name, Version: ver, Arch: pa, Checksum: d.Annotations[AnnotationAPKChecksum]},
				Why: []string{"recorded in the provenance"},
			})
		case strings.HasSuffix(d.URI, "/InRelease"):
			plan.Releases = append(plan.Releases, &archive.Release{URL: d.URI, SHA256: sum})
		case strings.HasSuffix(d.Name, ".deb"):
			name, ver, pa := d.Annotations[AnnotationPackage], d.Annotations[AnnotationVersion], d.Annotations[AnnotationArch]
			if name == "" || ver == "" || pa == "" || len(sum) != 64 || d.URI == "" {
				return nil, fmt.Errorf("provenance: dependency %s lacks its package, version, architecture, URI or sha256 (made by an older Spartan?)", d.Name)
			}
			dir, file := path.Split(d.URI)
			rel := &archive.Release{Source: archive.Source{URL: strings.TrimSuffix(dir, "/")}}
			plan.Result.Packages = append(plan.Result.Packages, resolve.Selected{
				// Source stays empty: the assembler then reads it from the .deb, as the index had it.
				Pkg: &archive.Package{Name: name, Version: ver, Architecture: pa,
					Filename: file, SHA256: sum, Origin: rel},
				Why: []string{"recorded in the provenance"},
			})
		}
	}
	switch {
	case plan.Alpine != nil && (len(plan.Result.Packages) > 0 || len(plan.Releases) > 0):
		return nil, fmt.Errorf("provenance lists both Debian and Alpine dependencies")
	case plan.Alpine != nil && len(plan.Alpine.Packages) == 0:
		return nil, fmt.Errorf("provenance lists no .apk dependencies")
	case plan.Alpine == nil && len(plan.Result.Packages) == 0:
		return nil, fmt.Errorf("provenance lists no .deb dependencies")
	}
	return plan, nil
}
