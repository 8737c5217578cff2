package sbom_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/sbom"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyright(t *testing.T, pkg string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "copyright", pkg))
	must(t, err)
	return string(b)
}

// buildImage builds a small runtime image from a fake signed archive: real copyright files,
// an epoch version, a virtual package, and dependencies the runtime profile cuts.
func buildImage(t *testing.T) (*build.Image, build.Options) {
	img, o, _ := buildImageCache(t)
	return img, o
}

func buildImageCache(t *testing.T) (*build.Image, build.Options, *cache.Cache) {
	t.Helper()
	repo, err := testkit.NewRepo()
	must(t, err)
	doc := func(pkg, text string) testkit.File {
		return testkit.File{Path: "/usr/share/doc/" + pkg + "/copyright", Body: text}
	}
	debs := []testkit.Deb{
		{Name: "libc6", Version: "2.36-9+deb12u10", Source: "glibc", AutoDirs: true, Files: []testkit.File{
			{Path: "/lib/x86_64-linux-gnu/libc.so.6", Body: "\x7fELF libc", Mode: 0o755},
			{Path: "/lib64/ld-linux-x86-64.so.2", Type: tar.TypeSymlink, Link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
			{Path: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", Body: "\x7fELF ld", Mode: 0o755},
			doc("libc6", copyright(t, "libc6")),
		}},
		{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Source: "zlib", Depends: "libc6 (>= 2.14)", AutoDirs: true, Files: []testkit.File{
			{Path: "/lib/x86_64-linux-gnu/libz.so.1.2.13", Body: "\x7fELF zlib", Mode: 0o644},
			doc("zlib1g", copyright(t, "zlib1g")),
		}},
		{Name: "mailer", Version: "3.0", Provides: "mail-transport-agent", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/sbin/mailer", Body: "\x7fELF mailer", Mode: 0o755},
		}},
		{Name: "ca-certificates", Version: "20230311", Arch: "all", Depends: "debconf (>= 0.5) | debconf-2.0", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/share/ca-certificates/mozilla/Test_Root.crt", Body: testCert},
			doc("ca-certificates", copyright(t, "ca-certificates")),
		}},
		{Name: "tzdata", Version: "2025b-0+deb12u1", Arch: "all", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/share/zoneinfo/Etc/UTC", Body: "TZif2"},
			doc("tzdata", copyright(t, "tzdata")),
		}},
		{Name: "bash", Version: "5.2.15-2", AutoDirs: true, Files: []testkit.File{{Path: "/bin/bash", Body: "\x7fELF bash", Mode: 0o755}}},
		{Name: "debconf", Version: "1.5.82", Arch: "all", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/debconf", Body: "#!/usr/bin/perl"}}},
		{Name: "app", Version: "1.0-1", PreDepends: "libc6 (>= 2.34)", Depends: "zlib1g (>= 1:1.2), bash, mail-transport-agent", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/app", Body: "\x7fELF app", Mode: 0o755},
		}},
	}
	repo.Suites["bookworm"] = &testkit.Suite{Codename: "bookworm", Version: "12.9", Components: map[string][]testkit.Deb{"main": debs}}
	srv := repo.Serve(t)

	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "archive.asc"), repo.ArmoredPublicKey(), 0o644))
	yaml := `name: app
release: bookworm
repositories:
  - url: ` + srv.URL + `
    suites: [bookworm]
    keyring: archive.asc
packages: [app, ca-certificates, tzdata]
entrypoint: [/usr/bin/app]
tags: [example.com/spartan/app:1]
`
	must(t, os.WriteFile(filepath.Join(dir, "spartan.yaml"), []byte(yaml), 0o644))
	s, err := spec.Load(dir)
	must(t, err)
	c, err := cache.New(t.TempDir())
	must(t, err)
	o := build.Options{
		Spec:       s,
		Downloader: &cache.Downloader{HTTP: http.DefaultClient, Cache: c, Backoff: time.Millisecond},
		Version:    "1.2.3",
	}
	out, err := build.Build(context.Background(), o)
	must(t, err)
	return out.Images[0], o, c
}

// imageFiles reads the image's layers the plain way (later layers win), independent of the
// package under test.
func imageFiles(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	layers, err := img.Layers()
	must(t, err)
	for _, l := range layers {
		rc, err := l.Uncompressed()
		must(t, err)
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			must(t, err)
			if h.Typeflag != tar.TypeReg {
				continue
			}
			b, err := io.ReadAll(tr)
			must(t, err)
			files[strings.TrimPrefix(h.Name, "./")] = b
		}
		rc.Close()
	}
	return files
}

func statusNames(files map[string][]byte) []string {
	var names []string
	for p := range files {
		if rest, ok := strings.CutPrefix(p, "var/lib/dpkg/status.d/"); ok && !strings.HasSuffix(rest, ".md5sums") {
			names = append(names, rest)
		}
	}
	sort.Strings(names)
	return names
}

// schema compiles one of the published SBOM schemas in testdata/schema (they refer to each other).
func schema(t *testing.T, url string) *jsonschema.Schema {
	t.Helper()
	var files []string
	for _, f := range []string{"spdx-schema.json", "bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		files = append(files, filepath.Join("testdata", "schema", f))
	}
	return testkit.Schema(t, url, files...)
}

func validate(t *testing.T, s *jsonschema.Schema, doc []byte) {
	t.Helper()
	if err := testkit.ValidateJSON(s, doc); err != nil {
		t.Fatalf("schema validation: %v", err)
	}
}

func options(img *build.Image) sbom.Options {
	o := sbom.Options{Name: "example.com/spartan/app:1", Debs: map[string]sbom.Deb{}, Cuts: img.Plan.Result.Cuts, ToolVersion: "1.2.3"}
	for _, s := range img.Plan.Result.Packages {
		o.Debs[s.Pkg.Name] = sbom.Deb{SHA256: s.Pkg.SHA256, URL: s.Pkg.URL()}
	}
	return o
}

type spdxDoc struct {
	Name         string `json:"name"`
	Namespace    string `json:"documentNamespace"`
	CreationInfo struct{ Created string }
	Packages     []spdxPkg `json:"packages"`
	Files        []struct {
		SPDXID    string `json:"SPDXID"`
		FileName  string `json:"fileName"`
		Checksums []struct{ Algorithm, ChecksumValue string }
	} `json:"files"`
	Relationships []struct {
		A    string `json:"spdxElementId"`
		B    string `json:"relatedSpdxElement"`
		Type string `json:"relationshipType"`
	} `json:"relationships"`
	Extracted []struct{ LicenseID string } `json:"hasExtractedLicensingInfos"`
}

type spdxPkg struct {
	SPDXID          string `json:"SPDXID"`
	Name            string `json:"name"`
	Version         string `json:"versionInfo"`
	Supplier        string `json:"supplier"`
	LicenseDeclared string `json:"licenseDeclared"`
	SourceInfo      string `json:"sourceInfo"`
	Purpose         string `json:"primaryPackagePurpose"`
	Checksums       []struct{ Algorithm, ChecksumValue string }
	ExternalRefs    []struct{ ReferenceType, ReferenceLocator string }
	Annotations     []struct{ Comment string }
}

func (p spdxPkg) purl() string {
	for _, r := range p.ExternalRefs {
		if r.ReferenceType == "purl" {
			return r.ReferenceLocator
		}
	}
	return ""
}

func TestSPDXFromImage(t *testing.T) {
	img, _ := buildImage(t)
	o := options(img)
	out, err := sbom.Generate(img.Image, sbom.SPDX, o)
	must(t, err)
	validate(t, schema(t, "http://spdx.org/rdf/terms/2.3"), out)

	var doc spdxDoc
	must(t, json.Unmarshal(out, &doc))
	files := imageFiles(t, img.Image)

	// The deb package set is the status.d set, by name.
	var names []string
	pkgs := map[string]spdxPkg{}
	ids := map[string]string{}
	for _, p := range doc.Packages {
		if strings.HasPrefix(p.purl(), "pkg:deb/") {
			names = append(names, p.Name)
			pkgs[p.Name] = p
			ids[p.SPDXID] = p.Name
		}
	}
	sort.Strings(names)
	if want := statusNames(files); !slices.Equal(names, want) {
		t.Fatalf("SPDX packages %v, status.d %v", names, want)
	}
	if !slices.Contains(names, sbom.RootfsPackage) {
		t.Errorf("no %s package", sbom.RootfsPackage)
	}

	// Each resolved .deb's digest is there.
	for _, s := range img.Plan.Result.Packages {
		p := pkgs[s.Pkg.Name]
		if len(p.Checksums) != 1 || p.Checksums[0].Algorithm != "SHA256" || p.Checksums[0].ChecksumValue != s.Pkg.SHA256 {
			t.Errorf("%s checksums %+v, want SHA256 %s", s.Pkg.Name, p.Checksums, s.Pkg.SHA256)
		}
	}
	z := pkgs["zlib1g"]
	if z.purl() != "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12" {
		t.Errorf("zlib1g purl %s", z.purl())
	}
	if z.LicenseDeclared != "Zlib" || pkgs["libc6"].LicenseDeclared != "NOASSERTION" || pkgs["tzdata"].LicenseDeclared != "LicenseRef-public-domain" {
		t.Errorf("licenses zlib1g %q libc6 %q tzdata %q", z.LicenseDeclared, pkgs["libc6"].LicenseDeclared, pkgs["tzdata"].LicenseDeclared)
	}
	if !strings.HasPrefix(z.Supplier, "Organization: Spartan Test Kit (testkit@example.invalid)") {
		t.Errorf("supplier %q", z.Supplier)
	}
	if z.SourceInfo != "built package from: zlib 1:1.2.13.dfsg-1" {
		t.Errorf("sourceInfo %q", z.SourceInfo)
	}

	// Relationships: the document describes the image, the image contains every package,
	// dependencies only between installed packages (virtual names through Provides).
	edges := map[string]bool{}
	for _, r := range doc.Relationships {
		a, b := ids[r.A], ids[r.B]
		if a == "" {
			a = r.A
		}
		if b == "" {
			b = r.B
		}
		edges[a+" "+r.Type+" "+b] = true
	}
	for _, e := range []string{"SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image", "SPDXRef-Image CONTAINS app", "SPDXRef-Image CONTAINS spartan-rootfs",
		"app DEPENDS_ON libc6", "app DEPENDS_ON zlib1g", "app DEPENDS_ON mailer", "zlib1g DEPENDS_ON libc6"} {
		if !edges[e] {
			t.Errorf("missing relationship %s", e)
		}
	}
	for e := range edges {
		if strings.Contains(e, "DEPENDS_ON") && (strings.Contains(e, "bash") || strings.Contains(e, "debconf")) {
			t.Errorf("edge to a package not in the image: %s", e)
		}
	}

	// Every cut edge is an annotation on its depender.
	if len(img.Plan.Result.Cuts) == 0 {
		t.Fatal("the runtime profile cut nothing; the fixture is wrong")
	}
	for _, c := range img.Plan.Result.Cuts {
		found := false
		for _, a := range pkgs[c.From].Annotations {
			found = found || strings.Contains(a.Comment, "spartan:cut dependency "+c.To) && strings.Contains(a.Comment, c.Reason)
		}
		if !found {
			t.Errorf("cut %s → %s (%s) not annotated: %+v", c.From, c.To, c.Reason, pkgs[c.From].Annotations)
		}
	}

	// Synthesized files with the digests of their bytes in the image.
	fileNames := map[string]bool{}
	for _, f := range doc.Files {
		fileNames[f.FileName] = true
		body, ok := files[strings.TrimPrefix(f.FileName, "./")]
		if !ok {
			t.Errorf("file %s not in the image", f.FileName)
			continue
		}
		sum := sha256.Sum256(body)
		if f.Checksums[1].Algorithm != "SHA256" || f.Checksums[1].ChecksumValue != hex.EncodeToString(sum[:]) {
			t.Errorf("%s checksums %+v", f.FileName, f.Checksums)
		}
	}
	for _, f := range []string{"./etc/passwd", "./etc/group", "./etc/os-release", "./etc/nsswitch.conf", "./etc/ssl/certs/ca-certificates.crt"} {
		if !fileNames[f] {
			t.Errorf("synthesized file %s not listed", f)
		}
	}

	// Deterministic: same image, same document; time from the image, namespace from its digest.
	again, err := sbom.Generate(img.Image, sbom.SPDX, o)
	must(t, err)
	if !bytes.Equal(out, again) {
		t.Error("two SBOMs of the same image differ")
	}
	cf, err := img.Image.ConfigFile()
	must(t, err)
	if doc.CreationInfo.Created != cf.Created.UTC().Format(time.RFC3339) {
		t.Errorf("created %s, image created %s", doc.CreationInfo.Created, cf.Created)
	}
	if !strings.HasSuffix(doc.Namespace, strings.Replace(img.Digest, ":", "-", 1)) {
		t.Errorf("namespace %s does not name digest %s", doc.Namespace, img.Digest)
	}
}

type cdxComponent struct {
	BOMRef     string `json:"bom-ref"`
	Type       string
	Name       string
	Version    string
	Purl       string
	Hashes     []struct{ Alg, Content string }
	Licenses   []map[string]any
	Supplier   struct{ Name string }
	Properties []struct{ Name, Value string }
	Components []cdxComponent
}

func TestCycloneDXFromImage(t *testing.T) {
	img, _ := buildImage(t)
	o := options(img)
	out, err := sbom.Generate(img.Image, sbom.CycloneDX, o)
	must(t, err)
	validate(t, schema(t, "http://cyclonedx.org/schema/bom-1.6.schema.json"), out)

	var bom struct {
		SpecVersion  string
		SerialNumber string
		Metadata     struct {
			Timestamp string
			Component cdxComponent
		}
		Components   []cdxComponent
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	must(t, json.Unmarshal(out, &bom))
	if bom.SpecVersion != "1.6" || bom.Metadata.Component.Type != "container" || bom.Metadata.Component.Version != img.Digest {
		t.Errorf("spec %s, subject %+v", bom.SpecVersion, bom.Metadata.Component)
	}
	files := imageFiles(t, img.Image)
	var names []string
	comps := map[string]cdxComponent{}
	var osComp *cdxComponent
	for i, c := range bom.Components {
		if strings.HasPrefix(c.Purl, "pkg:deb/") {
			names = append(names, c.Name)
			comps[c.Name] = c
		}
		if c.Type == "operating-system" {
			osComp = &bom.Components[i]
		}
	}
	sort.Strings(names)
	if want := statusNames(files); !slices.Equal(names, want) {
		t.Fatalf("CycloneDX components %v, status.d %v", names, want)
	}
	if osComp == nil || osComp.Name != "debian" || osComp.Version != "12" {
		t.Errorf("operating system component %+v", osComp)
	}
	for _, s := range img.Plan.Result.Packages {
		c := comps[s.Pkg.Name]
		if len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-256" || c.Hashes[0].Content != s.Pkg.SHA256 {
			t.Errorf("%s hashes %+v", s.Pkg.Name, c.Hashes)
		}
	}
	if l := comps["zlib1g"].Licenses; len(l) != 1 || l[0]["license"].(map[string]any)["id"] != "Zlib" {
		t.Errorf("zlib1g licenses %v", l)
	}
	if l := comps["ca-certificates"].Licenses; len(l) != 1 || l[0]["expression"] != "GPL-2.0-or-later AND MPL-2.0" {
		t.Errorf("ca-certificates licenses %v", l)
	}
	if comps["app"].Supplier.Name != "Spartan Test Kit" {
		t.Errorf("supplier %+v", comps["app"].Supplier)
	}
	for _, c := range img.Plan.Result.Cuts {
		found := false
		for _, p := range comps[c.From].Properties {
			found = found || p.Name == sbom.PropCut && strings.Contains(p.Value, c.To) && strings.Contains(p.Value, c.Reason)
		}
		if !found {
			t.Errorf("cut %s → %s missing from %s's properties", c.From, c.To, c.From)
		}
	}
	deps := map[string][]string{}
	for _, d := range bom.Dependencies {
		deps[d.Ref] = d.DependsOn
	}
	app := deps[comps["app"].BOMRef]
	for _, want := range []string{"libc6", "zlib1g", "mailer"} {
		if !slices.Contains(app, comps[want].BOMRef) {
			t.Errorf("app dependsOn %v lacks %s", app, want)
		}
	}
	rootfs := comps[sbom.RootfsPackage]
	var passwd *cdxComponent
	for i, f := range rootfs.Components {
		if f.Name == "/etc/passwd" {
			passwd = &rootfs.Components[i]
		}
	}
	sum := sha256.Sum256(files["etc/passwd"])
	if passwd == nil || passwd.Type != "file" || passwd.Hashes[1].Content != hex.EncodeToString(sum[:]) {
		t.Errorf("/etc/passwd component %+v", passwd)
	}
	again, err := sbom.Generate(img.Image, sbom.CycloneDX, o)
	must(t, err)
	if !bytes.Equal(out, again) {
		t.Error("two SBOMs of the same image differ")
	}
}

// An image without Spartan's extras (no debs known, no cuts, no name) still gets valid SBOMs.
func TestSBOMWithoutBuilderMetadata(t *testing.T) {
	img, _ := buildImage(t)
	for _, f := range []sbom.Format{sbom.SPDX, sbom.CycloneDX} {
		out, err := sbom.Generate(img.Image, f, sbom.Options{})
		must(t, err)
		url := "http://spdx.org/rdf/terms/2.3"
		if f == sbom.CycloneDX {
			url = "http://cyclonedx.org/schema/bom-1.6.schema.json"
		}
		validate(t, schema(t, url), out)
		if bytes.Contains(out, []byte("pkg:oci/")) {
			t.Errorf("%s: an image purl without a given name", f)
		}
		if !bytes.Contains(out, []byte(`"app"`)) {
			t.Errorf("%s: image title not used as the name", f)
		}
	}
}

// The CLI has only the image: it finds the .debs in the download cache, verified by md5sums.
func TestDebsFromCache(t *testing.T) {
	img, _, c := buildImageCache(t)
	inv, err := sbom.Read(img.Image)
	must(t, err)
	for round := range 2 { // the second round uses the remembered identities
		debs, err := sbom.DebsFromCache(c, inv)
		must(t, err)
		if len(debs) != len(img.Plan.Result.Packages) {
			t.Errorf("round %d: matched %d .debs, want %d: %v", round, len(debs), len(img.Plan.Result.Packages), debs)
		}
		for _, s := range img.Plan.Result.Packages {
			if debs[s.Pkg.Name].SHA256 != s.Pkg.SHA256 {
				t.Errorf("round %d: %s matched %q, want %s", round, s.Pkg.Name, debs[s.Pkg.Name].SHA256, s.Pkg.SHA256)
			}
		}
	}
	// A record whose content differs from the cached .deb is not matched.
	for i := range inv.Packages {
		if inv.Packages[i].Name == "app" {
			inv.Packages[i].Files = []inventory.File{{Path: "/usr/bin/app", Digest: "md5:00000000000000000000000000000000"}}
		}
	}
	debs, err := sbom.DebsFromCache(c, inv)
	must(t, err)
	if _, ok := debs["app"]; ok {
		t.Error("app matched a .deb whose files differ from the image's")
	}
}

// testCert is a real self-signed CA certificate, made once per test process.
var testCert = string(testkit.SelfSignedCA("Spartan SBOM test CA"))
