package site_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/site"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/vex"
	"github.com/spartan-images/spartan/internal/vuln"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// tracker rates CVE-2026-1000 fixed in app 1.0-2 and CVE-2026-1001 open.
const tracker = `{"app": {
  "CVE-2026-1000": {"description": "overflow", "releases": {"trixie": {"status": "resolved", "repositories": {"trixie": "1.0-2"}, "fixed_version": "1.0-2", "urgency": "high"}}},
  "CVE-2026-1001": {"description": "open", "releases": {"trixie": {"status": "open", "repositories": {"trixie": "1.0-2"}, "urgency": "low"}}}
}}`

type fixture struct {
	dir     string
	entries []site.Entry
	events  []timeline.Event
	db      *vuln.DB
	key     *ecdsa.PrivateKey
	pubPEM  []byte
}

// setup builds app 1.0-2 from testkit's signed repository into a signed OCI layout (with a
// VEX attestation), and writes the timeline of the update that fixed CVE-2026-1000 in it:
// 1.0-1 built first, 1.0-2 seen on the mirror, rebuilt, signed, pushed.
func setup(t *testing.T) fixture {
	t.Helper()
	f := fixture{dir: t.TempDir()}
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.1", Date: t0, Components: map[string][]testkit.Deb{"main": {
		testbuild.OSRelease,
		{Name: "app", Version: "1.0-2", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/app", Body: "\x7fELF app", Mode: 0o755}}},
	}}}
	srv := repo.Serve(t)
	catalog := filepath.Join(f.dir, "images")
	specDir := filepath.Join(catalog, "app")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	o, err := testbuild.Options(t, testbuild.WriteSpec(t, specDir, srv.URL, repo, "app", "example.com/app:1", "base-files", "app"))
	if err != nil {
		t.Fatal(err)
	}
	epoch := t0
	o.Epoch = &epoch
	out, err := build.Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(f.dir, "vuln.db")
	if _, err := vuln.ImportTracker(dbPath, strings.NewReader(tracker), vuln.Meta{URL: "test"}, t0); err != nil {
		t.Fatal(err)
	}
	if f.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if f.pubPEM, err = sign.MarshalPublicKey(&f.key.PublicKey); err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(f.dir, "built", "app")
	res, err := publish.Publish(context.Background(), publish.Built{Options: o, Output: out, Started: t0, Finished: t0},
		publish.Options{Layout: layout, Signer: publish.Key{Signer: sign.Signer{Key: f.key}}, VulnDB: dbPath, VulnDBRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.db, err = vuln.Open(dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })

	seen, published := t0.Add(2*time.Hour), t0.Add(-72*time.Hour)
	f.events = []timeline.Event{
		{Time: t0, Event: timeline.Rebuilt, Run: "r1", Image: "app", Digest: "sha256:" + strings.Repeat("1", 64)},
		{Time: seen, Event: timeline.Seen, Run: "r2", Arch: "amd64", Package: "app", Version: "1.0-2", Source: "app", SourceVersion: "1.0-2", Date: &seen},
		{Time: seen.Add(20 * time.Minute), Event: timeline.Fixed, Run: "r2", Image: "app", Arch: "amd64", Package: "app", Source: "app",
			CVE: "CVE-2026-1000", From: "1.0-1", To: "1.0-2", FixedIn: "1.0-2", Severity: "high", Date: &seen, Published: &published},
		{Time: seen.Add(25 * time.Minute), Event: timeline.Rebuilt, Run: "r2", Image: "app", Digest: res.Digest, Layout: layout},
		{Time: seen.Add(26 * time.Minute), Event: timeline.Signed, Run: "r2", Image: "app", Digest: res.Digest},
		{Time: seen.Add(30 * time.Minute), Event: timeline.Pushed, Run: "r2", Image: "app", Digest: res.Digest, Ref: "registry.test/app:1"},
		// An application on app got the same fix by a rebase.
		{Time: seen.Add(31 * time.Minute), Event: timeline.Fixed, Run: "r2", Image: "ghost", Arch: "amd64", Package: "app", Source: "app",
			CVE: "CVE-2026-1000", From: "1.0-1", To: "1.0-2", FixedIn: "1.0-2", Date: &seen},
		{Time: seen.Add(32 * time.Minute), Event: timeline.Rebased, Run: "r2", Image: "ghost", Digest: "sha256:" + strings.Repeat("2", 64)},
	}
	if f.entries, err = site.Catalog([]string{catalog}, filepath.Join(f.dir, "built")); err != nil {
		t.Fatal(err)
	}
	f.entries[0].Baseline = generalImage(t, f.dir)
	// An image of the catalog that was never built.
	f.entries = append(f.entries, site.Entry{Name: "ghost"})
	return f
}

// generalImage is a general-purpose equivalent of app as a docker-archive: the same package
// with bash, dpkg and base-files in dpkg's status file, a shell and a setuid su.
func generalImage(t *testing.T, dir string) string {
	t.Helper()
	status := ""
	for _, p := range [][2]string{{"app", "1.0-1"}, {"base-files", "13.8"}, {"bash", "5.2.37-2"}, {"dpkg", "1.22.21"}} {
		status += "Package: " + p[0] + "\nStatus: install ok installed\nVersion: " + p[1] + "\nArchitecture: amd64\n\n"
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name, body string
		mode       int64
	}{
		{"usr/lib/os-release", "ID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n", 0o644},
		{"var/lib/dpkg/status", status, 0o644},
		{"usr/bin/bash", "\x7fELF bash", 0o755},
		{"usr/bin/su", "\x7fELF su", 0o4755},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "general-app.tar")
	if err := oci.WriteArchive(path, img, []string{"general/app:1"}); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f fixture) options() site.Options {
	return site.Options{Entries: f.entries, Events: f.events, TimelineFile: "timeline.jsonl", DB: f.db, DBFile: "vuln.db",
		Key: &f.key.PublicKey, KeyPEM: f.pubPEM, Time: t0, Version: "test"}
}

func TestSite(t *testing.T) {
	f := setup(t)
	dir := filepath.Join(f.dir, "site")
	res, err := site.Generate(context.Background(), dir, f.options())
	if err != nil {
		t.Fatal(err)
	}
	got := testkit.ReadTree(t, dir)
	if len(got) != len(res.Pages) {
		t.Errorf("%d files on disk, %d reported", len(got), len(res.Pages))
	}

	// Deterministic: a second run into another directory gives the same bytes.
	again := filepath.Join(f.dir, "again")
	if _, err := site.Generate(context.Background(), again, f.options()); err != nil {
		t.Fatal(err)
	}
	second := testkit.ReadTree(t, again)
	for p, b := range got {
		if !bytes.Equal(b, second[p]) {
			t.Errorf("%s differs between two runs", p)
		}
	}
	if len(second) != len(got) {
		t.Errorf("second run wrote %d files, first %d", len(second), len(got))
	}

	page := string(got["images/app.html"])
	for _, want := range []string{
		"<h1>app</h1>", "example.com/app:1", "CVE-2026-1001", // open, from the scan
		"CVE-2026-1000", "2026-11-20 10:00", // the fix, seen at
		"median 30m, p95 30m (1 fixes)", // fix seen → pushed
		`aria-label="Time from publication to pushed image for each CVE fixed in app. CVE-2026-1000: fix seen on the mirror after 3d2h, rebuilt after 25m, signed after 1m, pushed after 4m"`,
		"cosign verify --key cosign.pub --insecure-ignore-tlog=true registry.test/app@sha256:",
		"spartan rebuild registry.test/app@sha256:", "--verify",
		`<a href="app/sbom.spdx.json">`, "signed attestation", `<a href="app/provenance.json">`, `<a href="app/openvex.json">`,
		"<td>app</td><td class=\"l\">1.0-2</td><td class=\"l\">app</td>",
		"Open CVEs in app after each rebuild. 2026-11-20 08:00: 2, 2026-11-20 10:25: 1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("image page lacks %q", want)
		}
	}
	if strings.Contains(page, "could not be checked here") {
		t.Error("a signed, attested image is said to be unchecked")
	}
	ghost := string(got["images/ghost.html"])
	if !strings.Contains(ghost, "2026-11-20 10:32 (rebased)") || !strings.Contains(ghost, "rebased onto the rebuilt base after 32m") {
		t.Errorf("the rebased application's page lacks its rebase:\n%s", ghost)
	}
	if !strings.Contains(ghost, "not built: no image for ghost was given") || strings.Contains(ghost, "<td>0</td>") {
		t.Errorf("the page of an image not built should say so, not show zeros:\n%s", ghost)
	}
	index := string(got["index.html"])
	for _, want := range []string{`<a href="images/app.html">app</a>`,
		`aria-label="packages: 4 vs 3"`, `aria-label="CVEs (high): 1 vs 0"`, // general-purpose vs Spartan, with the database
		`<td class="l">linux/amd64</td>`, "<td>2026-11-20 10:25</td>", // architectures, last rebuild
		"Not measured: ghost.", `<a href="images/ghost.html">ghost</a>`, "Compressed size of each image: app", "not built: no image for ghost was given"} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %q", want)
		}
	}

	// Self-contained and every link resolves.
	href := regexp.MustCompile(`(?:href|src)="([^"]+)"`)
	for p, b := range got {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		for _, bad := range []string{"<script", "<link", "@import", "url("} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
		for _, m := range href.FindAllSubmatch(b, -1) {
			link := string(m[1])
			if strings.HasPrefix(link, "#") {
				continue
			}
			if strings.Contains(link, "://") {
				t.Errorf("%s links outside the site: %s", p, link)
				continue
			}
			target := filepath.ToSlash(filepath.Join(filepath.Dir(p), link))
			if _, ok := got[target]; !ok {
				t.Errorf("%s: link %s does not resolve", p, link)
			}
		}
	}

	// The OSV record: valid against the OSV schema, with the affected and fixed digests.
	rec := got["feeds/osv/x_SPARTAN-CVE-2026-1000.json"]
	validateOSV(t, rec)
	var osv site.OSV
	if err := json.Unmarshal(rec, &osv); err != nil {
		t.Fatal(err)
	}
	a := osv.Affected[0]
	if a.Package.Ecosystem != "Debian:13" || a.Package.Name != "app" || a.Ranges[0].Events[1]["fixed"] != "1.0-2" ||
		len(a.DatabaseSpecific.AffectedImages) != 1 || a.DatabaseSpecific.AffectedImages[0] != f.events[0].Digest ||
		a.DatabaseSpecific.FixedImage != f.events[3].Digest || osv.Published != "2026-11-20T10:30:00Z" {
		t.Errorf("OSV record: %s", rec)
	}
	var all []json.RawMessage
	if err := json.Unmarshal(got["feeds/osv/all.json"], &all); err != nil || len(all) != 1 {
		t.Errorf("all.json: %d records, %v", len(all), err)
	}
	if err := vex.Validate(got["images/app/openvex.json"]); err != nil {
		t.Error(err)
	}
	var cat struct {
		Images []struct {
			Name      string
			Documents []struct{ Kind, File string }
			Missing   []string
		}
	}
	if err := json.Unmarshal(got["catalog.json"], &cat); err != nil || len(cat.Images) != 2 || len(cat.Images[0].Documents) != 4 || len(cat.Images[1].Missing) == 0 {
		t.Errorf("catalog.json: %v\n%s", err, got["catalog.json"])
	}
}

// TestSiteWithoutDatabaseOrTimeline: the same image without database, timeline or key says
// what is missing instead of showing zeros.
func TestSiteWithoutDatabaseOrTimeline(t *testing.T) {
	f := setup(t)
	dir := filepath.Join(f.dir, "site")
	if _, err := site.Generate(context.Background(), dir, site.Options{Entries: f.entries, Time: t0}); err != nil {
		t.Fatal(err)
	}
	got := testkit.ReadTree(t, dir)
	page := string(got["images/app.html"])
	for _, want := range []string{
		"Not scanned: no vulnerability database was given",
		"no timeline was given (spartan update records one; --timeline)",
		"generated from the image by spartan site (no public key was given to check attestations)",
		"provenance is written when the image is built and signed",
		"This site was generated without the public key",
		"This build could not be checked here: no public key was given to check attestations.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "app/openvex.json") || strings.Contains(string(got["index.html"]), "0/0/0/0/0") {
		t.Error("a VEX document or a CVE count without a database")
	}
	if _, ok := got["cosign.pub"]; ok {
		t.Error("cosign.pub without a key")
	}
}

// TestGenerateRefusesAForeignDirectory: the output directory is replaced, so one that holds
// something other than a site is refused.
func TestGenerateRefusesAForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := site.Generate(context.Background(), dir, site.Options{Entries: []site.Entry{{Name: "x"}}})
	if err == nil || !strings.Contains(err.Error(), "holds no catalog.json") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "thesis.tex")); err != nil {
		t.Error("the file was removed")
	}
}

func validateOSV(t *testing.T, doc []byte) {
	t.Helper()
	if err := testkit.ValidateJSON(testkit.Schema(t, "", filepath.Join("testdata", "osv-schema.json")), doc); err != nil {
		t.Fatalf("OSV schema: %v\n%s", err, doc)
	}
}
