//go:build e2e

package e2e

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/spartan-images/spartan/internal/testkit"
)

// TestSBOM builds the python image into an OCI layout, writes both SBOMs with `spartan sbom`
// and checks them against the image (the package set is the status.d set), the resolution
// (every .deb's SHA-256) and the official JSON schemas.
func TestSBOM(t *testing.T) {
	oci := filepath.Join(workDir, "python-sbom-oci")
	spec := filepath.Join(repoRoot, "images", "python")
	must(t, spartan(t, nil, "build", spec, "--arch", "amd64", "--oci", oci), "build python")
	res := must(t, spartan(t, nil, "resolve", spec, "--arch", "amd64", "--json"), "resolve python")
	var plans []struct {
		Packages []struct{ Name, Version, SHA256 string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("resolve --json: %v\n%s", err, tail(res.stdout))
	}
	status := statusD(t, oci)
	for _, p := range plans[0].Packages {
		if status[p.Name] == "" {
			t.Fatalf("resolved %s is not in the image's status.d", p.Name)
		}
		if status[p.Name] != p.Version {
			t.Skipf("the mirror moved between build and resolve (%s %s → %s)", p.Name, status[p.Name], p.Version)
		}
	}
	var names []string
	for n := range status {
		names = append(names, n)
	}
	sort.Strings(names)

	schemas := filepath.Join(repoRoot, "internal", "sbom", "testdata", "schema")

	t.Run("spdx", func(t *testing.T) {
		r := must(t, spartan(t, nil, "sbom", oci, "--format", "spdx", "--arch", "amd64"), "spartan sbom --format spdx")
		validate(t, schemas, "http://spdx.org/rdf/terms/2.3", r.stdout)
		var doc struct {
			Packages []struct {
				Name         string
				Checksums    []struct{ Algorithm, ChecksumValue string }
				ExternalRefs []struct{ ReferenceType, ReferenceLocator string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		got, sums := []string{}, map[string]string{}
		for _, p := range doc.Packages {
			for _, ref := range p.ExternalRefs {
				if ref.ReferenceType == "purl" && strings.HasPrefix(ref.ReferenceLocator, "pkg:deb/debian/"+p.Name+"@") {
					got = append(got, p.Name)
					if len(p.Checksums) > 0 && p.Checksums[0].Algorithm == "SHA256" {
						sums[p.Name] = p.Checksums[0].ChecksumValue
					}
				}
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, names) {
			t.Fatalf("SPDX packages %v\nstatus.d %v", got, names)
		}
		for _, p := range plans[0].Packages {
			if sums[p.Name] != p.SHA256 {
				t.Errorf("%s: SPDX SHA-256 %q, resolved .deb %s", p.Name, sums[p.Name], p.SHA256)
			}
		}
		t.Logf("SPDX: %d packages, %d bytes, %s", len(got), len(r.stdout), r.elapsed)
	})

	t.Run("cyclonedx", func(t *testing.T) {
		out := filepath.Join(workDir, "python.cdx.json")
		r := must(t, spartan(t, nil, "sbom", oci, "--format", "cyclonedx", "-o", out), "spartan sbom --format cyclonedx")
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, schemas, "http://cyclonedx.org/schema/bom-1.6.schema.json", string(data))
		var bom struct {
			Components []struct {
				Name, Purl string
				Hashes     []struct{ Alg, Content string }
			}
		}
		if err := json.Unmarshal(data, &bom); err != nil {
			t.Fatal(err)
		}
		got, sums := []string{}, map[string]string{}
		for _, c := range bom.Components {
			if strings.HasPrefix(c.Purl, "pkg:deb/debian/") {
				got = append(got, c.Name)
				if len(c.Hashes) > 0 && c.Hashes[0].Alg == "SHA-256" {
					sums[c.Name] = c.Hashes[0].Content
				}
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, names) {
			t.Fatalf("CycloneDX components %v\nstatus.d %v", got, names)
		}
		for _, p := range plans[0].Packages {
			if sums[p.Name] != p.SHA256 {
				t.Errorf("%s: CycloneDX SHA-256 %q, resolved .deb %s", p.Name, sums[p.Name], p.SHA256)
			}
		}
		t.Logf("CycloneDX: %d components, %d bytes, %s", len(got), len(data), r.elapsed)
	})
}

// statusD reads the image's layers and returns status.d package → Version.
func statusD(t *testing.T, dir string) map[string]string {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		t.Fatalf("layout index: %v", err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name, ok := strings.CutPrefix(strings.TrimPrefix(h.Name, "./"), "var/lib/dpkg/status.d/")
			if !ok || name == "" || strings.HasSuffix(name, ".md5sums") || h.Typeflag != tar.TypeReg {
				continue
			}
			body, _ := io.ReadAll(tr)
			version := ""
			for _, line := range strings.Split(string(body), "\n") {
				if v, ok := strings.CutPrefix(line, "Version:"); ok {
					version = strings.TrimSpace(v)
				}
			}
			out[name] = version
		}
		rc.Close()
	}
	return out
}

func validate(t *testing.T, dir, url, doc string) {
	t.Helper()
	var files []string
	for _, f := range []string{"spdx-schema.json", "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		files = append(files, filepath.Join(dir, f))
	}
	if err := testkit.ValidateJSON(testkit.Schema(t, url, files...), []byte(doc)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
