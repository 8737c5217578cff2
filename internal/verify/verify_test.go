package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"maps"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/purl"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/testkit"
)

type pkg struct{ name, version string }

// imageWith makes an image whose layers record pkgs in status.d the way Spartan does.
func imageWith(t *testing.T, arch string, pkgs ...pkg) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name, body string) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	for _, p := range pkgs {
		add("var/lib/dpkg/status.d/"+p.name, "Package: "+p.name+"\nStatus: install ok installed\nVersion: "+p.version+"\nArchitecture: "+arch+"\n")
		add("var/lib/dpkg/status.d/"+p.name+".md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/bin/x\n")
	}
	add("etc/os-release", "ID=debian\n")
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), l)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf.Architecture, cf.OS = arch, "linux"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func purlOf(p pkg, arch string) string {
	return purl.Deb(p.name, p.version, arch, "debian-13").String()
}

func spdxDoc(arch string, pkgs ...pkg) []byte {
	type ref struct {
		ReferenceCategory string `json:"referenceCategory"`
		ReferenceType     string `json:"referenceType"`
		ReferenceLocator  string `json:"referenceLocator"`
	}
	type p struct {
		Name         string `json:"name"`
		ExternalRefs []ref  `json:"externalRefs,omitempty"`
	}
	doc := struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []p    `json:"packages"`
	}{SPDXVersion: "SPDX-2.3", Packages: []p{{Name: "the image", ExternalRefs: []ref{{"PACKAGE-MANAGER", "purl", "pkg:oci/python@sha256%3Aabc"}}}}}
	for _, k := range pkgs {
		doc.Packages = append(doc.Packages, p{Name: k.name, ExternalRefs: []ref{{"PACKAGE-MANAGER", "purl", purlOf(k, arch)}}})
	}
	b, _ := json.Marshal(doc)
	return b
}

func cdxDoc(arch string, pkgs ...pkg) []byte {
	type c struct {
		Type string `json:"type"`
		Name string `json:"name"`
		PURL string `json:"purl,omitempty"`
	}
	doc := struct {
		BOMFormat  string `json:"bomFormat"`
		Components []c    `json:"components"`
	}{BOMFormat: "CycloneDX"}
	for _, k := range pkgs {
		doc.Components = append(doc.Components, c{Type: "library", Name: k.name, PURL: purlOf(k, arch)})
	}
	b, _ := json.Marshal(doc)
	return b
}

// layoutTarget writes a to a layout and opens it as Spartan's CLI would.
func layoutTarget(t *testing.T, a oci.Artifact) *registry.Target {
	t.Helper()
	dir := t.TempDir() + "/oci"
	if err := oci.WriteLayout(dir, a, "spartan/test:1"); err != nil {
		t.Fatal(err)
	}
	src, err := imagesource.Layout(dir)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := src.Target()
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func statementFor(t *testing.T, pt, digest string, predicate []byte) sign.Attestation {
	t.Helper()
	s, err := sign.NewStatement(pt, "spartan/test", digest, predicate)
	if err != nil {
		t.Fatal(err)
	}
	return sign.Attestation{PredicateType: pt, Statement: s}
}

var pkgs = []pkg{{"libc6", "2.41-12"}, {"python3.13", "3.13.5-2"}, {"tzdata", "2025b-4+deb13u1"}, {"libgcc-s1", "1:14.2.0-19"}}

func TestVerifySingleImage(t *testing.T) {
	ctx := context.Background()
	key := testkit.SigningKey(t)
	img := imageWith(t, "amd64", pkgs...)
	d, _ := img.Digest()
	dg := d.String()

	tests := []struct {
		name    string
		atts    func() []sign.Attestation
		require []string
		key     *ecdsa.PublicKey
		want    string // "" = pass
	}{
		{"signature only", func() []sign.Attestation { return nil }, nil, nil, ""},
		{"all present", func() []sign.Attestation {
			return []sign.Attestation{
				statementFor(t, PredicateSPDX, dg, spdxDoc("amd64", pkgs...)),
				statementFor(t, PredicateCycloneDX, dg, cdxDoc("amd64", pkgs...)),
				statementFor(t, PredicateSLSA1, dg, []byte(`{"buildDefinition":{}}`)),
			}
		}, []string{"sbom", "provenance", "spdx", "cyclonedx"}, nil, ""},
		{"wrong key", func() []sign.Attestation { return nil }, nil, &testkit.SigningKey(t).PublicKey, "does not verify"},
		{"provenance missing", func() []sign.Attestation {
			return []sign.Attestation{statementFor(t, PredicateSPDX, dg, spdxDoc("amd64", pkgs...))}
		}, []string{"sbom", "provenance"}, nil, "no verified provenance attestation"},
		{"SBOM misses a package", func() []sign.Attestation {
			return []sign.Attestation{statementFor(t, PredicateSPDX, dg, spdxDoc("amd64", pkgs[:3]...))}
		}, []string{"sbom"}, nil, "in the image but not the SBOM: libgcc-s1 1:14.2.0-19"},
		{"SBOM has an extra package", func() []sign.Attestation {
			return []sign.Attestation{statementFor(t, PredicateCycloneDX, dg, cdxDoc("amd64", append(pkgs, pkg{"bash", "5.2"})...))}
		}, []string{"sbom"}, nil, "in the SBOM but not the image: bash 5.2"},
		{"SBOM version differs", func() []sign.Attestation {
			changed := append([]pkg{}, pkgs...)
			changed[0].version = "2.41-11"
			return []sign.Attestation{statementFor(t, PredicateSPDX, dg, spdxDoc("amd64", changed...))}
		}, []string{"sbom"}, nil, "libc6 2.41-11"},
		{"unknown requirement", func() []sign.Attestation { return nil }, []string{"vex"}, nil, "unknown requirement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := layoutTarget(t, img)
			if err := tg.Sign(ctx, sign.Signer{Key: key}, tt.atts()); err != nil {
				t.Fatal(err)
			}
			pub := tt.key
			if pub == nil {
				pub = &key.PublicKey
			}
			rep, err := Verify(ctx, tg, Policy{Key: pub, Require: tt.require})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Lines) == 0 {
					t.Fatal("empty report")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVerifyUnsigned(t *testing.T) {
	tg := layoutTarget(t, imageWith(t, "amd64", pkgs...))
	_, err := Verify(context.Background(), tg, Policy{Key: &testkit.SigningKey(t).PublicKey})
	if err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned image: %v", err)
	}
}

func TestVerifyIndex(t *testing.T) {
	ctx := context.Background()
	key := testkit.SigningKey(t)
	amd := imageWith(t, "amd64", pkgs...)
	arm := imageWith(t, "arm64", pkgs[:2]...)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	da, _ := amd.Digest()
	dr, _ := arm.Digest()
	atts := []sign.Attestation{
		statementFor(t, PredicateSPDX, da.String(), spdxDoc("amd64", pkgs...)),
		statementFor(t, PredicateSLSA1, da.String(), []byte(`{}`)),
		statementFor(t, PredicateSPDX, dr.String(), spdxDoc("arm64", pkgs[:2]...)),
		statementFor(t, PredicateSLSA1, dr.String(), []byte(`{}`)),
	}
	di, _ := idx.Digest()
	indexProvenance := statementFor(t, PredicateSLSA1, di.String(), []byte(`{}`))
	tg := layoutTarget(t, idx)
	if err := tg.Sign(ctx, sign.Signer{Key: key}, append(atts, indexProvenance)); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, tg, Policy{Key: &key.PublicKey, Require: []string{"sbom", "provenance"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Lines, "\n"), di.String()+": "+PredicateSLSA1+" attestation verified") {
		t.Errorf("report does not name the index's provenance:\n%s", strings.Join(rep.Lines, "\n"))
	}

	// An index whose arm64 image lacks provenance fails, naming that image; one that lacks
	// its own fails, naming the index. An SBOM is not asked of the index.
	for _, tc := range []struct {
		name string
		atts []sign.Attestation
		want string
	}{
		{"arm64 image without provenance", append(atts[:3:3], indexProvenance), dr.String()},
		{"index without provenance", atts, "index: " + di.String() + ": no verified provenance"},
	} {
		tg2 := layoutTarget(t, idx)
		if err := tg2.Sign(ctx, sign.Signer{Key: key}, tc.atts); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(ctx, tg2, Policy{Key: &key.PublicKey, Require: []string{"sbom", "provenance"}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSBOMPackages(t *testing.T) {
	doc := `{"components": [
		{"purl": "pkg:deb/debian/libgcc-s1@1%3A14.2.0-19?arch=amd64&distro=debian-13"},
		{"purl": "pkg:deb/debian/libstdc%2B%2B6@14.2.0-19?arch=amd64"},
		{"purl": "pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64", "components": [{"purl": "pkg:deb/debian/tzdata@2025b-4%2Bdeb13u1"}]},
		{"purl": "pkg:oci/python@sha256%3Aabc"},
		{"purl": "pkg:deb/debian/noversion"},
		{"purl": "pkg:deb/debian/bad%zz@1"}]}`
	got, err := SBOMPackages(PredicateCycloneDX, json.RawMessage(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"libgcc-s1 1:14.2.0-19": true, "libstdc++6 14.2.0-19": true, "musl 1.2.5-r10": true, "tzdata 2025b-4+deb13u1": true}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
