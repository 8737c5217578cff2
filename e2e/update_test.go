//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/timeline"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// libfoo is version v of a library whose source, foo, is the vulnerable one; its changelog
// lists the entries up to v, newest first, as Debian's do.
func libfoo(t *testing.T, v string) testkit.Deb {
	changelog := "foo (1.2-3) unstable; urgency=medium\n\n  * New upstream release.\n\n -- Maintainer <m@example.invalid>  Mon, 02 Feb 2026 10:00:00 +0000\n"
	if v != "1.2-3" {
		changelog = "foo (" + v + ") trixie-security; urgency=high\n\n  * Fix CVE-2026-0001: heap overflow in foo_parse().\n  * Fix CVE-2026-0002: the tracker has not caught up yet.\n\n -- Maintainer <m@example.invalid>  Mon, 02 Mar 2026 10:00:00 +0000\n\n" + changelog
	}
	return testkit.Deb{Name: "libfoo1", Version: v, Source: "foo", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/lib/x86_64-linux-gnu/libfoo.so.1", Body: "\x7fELF libfoo " + v, Mode: 0o644},
		{Path: "/usr/share/doc/libfoo1/changelog.Debian.gz", Body: gzipped(t, changelog)},
	}}
}

// TestUpdateTimeline: a mirror at two points in time — v1 with a vulnerable libfoo1, v2 with
// the fixed one and a later InRelease Date — and a tracker file. `spartan update` finds the
// bump and names the CVE, rebuilds and signs (with a VEX attestation), and the timeline holds
// when the fix was on the mirror and when the image was rebuilt; scan and VEX agree the CVE is
// fixed in the new image.
func TestUpdateTimeline(t *testing.T) {
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	baseFiles := testkit.Deb{Name: "base-files", Version: "13.8+deb13u1", AutoDirs: true, Essential: true, Files: []testkit.File{
		{Path: "/usr/lib/os-release", Body: "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\nID=debian\n"},
		{Path: "/etc/os-release", Type: '2', Link: "../usr/lib/os-release"},
	}}
	// The fix reached the mirror 20 minutes ago; the vulnerable version a day before.
	d2 := time.Now().UTC().Add(-20 * time.Minute).Truncate(time.Second)
	d1 := d2.Add(-24 * time.Hour)
	suite := &testkit.Suite{Codename: "trixie", Version: "13.8", Date: d1, Components: map[string][]testkit.Deb{"main": {baseFiles, libfoo(t, "1.2-3")}}}
	repo.Suites["trixie"] = suite
	srv := repo.Serve(t)

	dir := filepath.Join(workDir, "update")
	cache := filepath.Join(dir, "cache")
	specDir := filepath.Join(dir, "images", "foo")
	writeFile(t, filepath.Join(specDir, "archive.asc"), string(repo.ArmoredPublicKey()))
	writeFile(t, filepath.Join(specDir, "spartan.yaml"), `name: foo
release: trixie
archs: [amd64]
repositories:
  - url: `+srv.URL+`
    suites: [trixie]
    keyring: archive.asc
packages: [base-files, libfoo1]
tags: [example/foo:1]
`)
	writeFile(t, filepath.Join(dir, "tracker.json"), `{"foo": {
  "CVE-2026-0001": {"description": "heap overflow in foo_parse", "scope": "remote",
    "releases": {"trixie": {"status": "resolved", "repositories": {"trixie": "1.2-3+deb13u1"}, "fixed_version": "1.2-3+deb13u1", "urgency": "high"}}},
  "CVE-2026-0003": {"description": "still open", "scope": "local",
    "releases": {"trixie": {"status": "open", "repositories": {"trixie": "1.2-3"}, "urgency": "low"}}}
}}`)
	// OSV gives the publication date the tracker lacks.
	writeFile(t, filepath.Join(dir, "osv", "DEBIAN-CVE-2026-0001.json"), `{"id": "DEBIAN-CVE-2026-0001", "published": "2026-02-27T12:00:00Z",
  "upstream": ["CVE-2026-0001"], "summary": "heap overflow in foo_parse",
  "affected": [{"package": {"name": "foo", "ecosystem": "Debian:13"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2-3+deb13u1"}]}]}]}`)
	sp := func(args ...string) result {
		t.Helper()
		return run(t, []string{"COSIGN_PASSWORD=e2e"}, spartanBin, append([]string{"--cache", cache}, args...)...)
	}
	must(t, sp("db", "import", filepath.Join(dir, "tracker.json")), "db import")
	must(t, sp("db", "import-osv", filepath.Join(dir, "osv")), "db import-osv")
	keyDir := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	k := run(t, []string{"COSIGN_PASSWORD=e2e"}, "sh", "-c", "cd "+keyDir+" && "+spartanBin+" keygen")
	must(t, k, "keygen")
	out := filepath.Join(dir, "out")
	tl := filepath.Join(dir, "timeline.jsonl")
	spec := filepath.Join(specDir, "spartan.yaml")

	// v1: no lock yet, everything is new; the image is built and locked.
	r := must(t, sp("update", spec, "--oci-dir", out, "--timeline", tl), "update v1")
	if !strings.Contains(r.stdout, "libfoo1: new 1.2-3") {
		t.Fatalf("first update:\n%s", r.stdout)
	}
	lock, err := os.ReadFile(filepath.Join(specDir, "spartan.lock.json"))
	if err != nil || !strings.Contains(string(lock), `"version": "1.2-3"`) {
		t.Fatalf("lock after v1: %v\n%s", err, lock)
	}
	layout := filepath.Join(out, "foo")
	scanV1 := must(t, sp("scan", layout, "--format", "json"), "scan v1")
	if !strings.Contains(scanV1.stdout, `"CVE-2026-0001"`) {
		t.Fatalf("v1 image should be affected by CVE-2026-0001:\n%s", scanV1.stdout)
	}
	// Nothing changed: nothing rebuilt.
	r = must(t, sp("update", spec, "--oci-dir", out, "--timeline", tl), "update again")
	if !strings.Contains(r.stdout, "foo: up to date") || strings.Contains(r.stdout, "sha256:") {
		t.Fatalf("unchanged update:\n%s", r.stdout)
	}

	// An application built with podman FROM foo v1 in a registry: update rebases it when it
	// rebuilds foo.
	reg := startRegistry(t)
	must(t, sp("push", layout, reg+"/e2e/foo:1"), "push foo v1")
	app := reg + "/e2e/fooapp:1"
	podman := isolatedPodman(t, "update")
	writeFile(t, filepath.Join(dir, "app", "hello.txt"), "hello\n")
	writeFile(t, filepath.Join(dir, "app", "Containerfile"), "FROM "+reg+"/e2e/foo:1\nCOPY hello.txt /srv/hello.txt\n")
	must(t, podman("build", "--tls-verify=false", "-t", app, filepath.Join(dir, "app")), "podman build the application on foo")
	must(t, podman("push", "--tls-verify=false", app), "podman push the application")
	apps := filepath.Join(dir, "apps")
	writeFile(t, apps, "# base  application\nfoo "+app+"\n")

	// v2: the fix lands on the mirror with a later InRelease.
	suite.Date = d2
	suite.Components["main"] = []testkit.Deb{baseFiles, libfoo(t, "1.2-3+deb13u1")}
	if err := srv.Publish(); err != nil {
		t.Fatal(err)
	}
	r = must(t, sp("update", spec, "--oci-dir", out, "--timeline", tl, "--sign-key", filepath.Join(keyDir, "cosign.key"), "--push-prefix", reg+"/e2e", "--apps", apps), "update v2")
	for _, want := range []string{
		"libfoo1: 1.2-3 → 1.2-3+deb13u1",
		"fixes CVE-2026-0001 (fixed in 1.2-3+deb13u1, high; from database and changelog)",
		"fixes CVE-2026-0002 (fixed in 1.2-3+deb13u1; from changelog)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("update v2 output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "CVE-2026-0003") {
		t.Errorf("an open CVE reported as fixed:\n%s", r.stdout)
	}
	t.Logf("update v2:\n%s%s", r.stdout, r.stderr)
	var digest, appDigest string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "foo" {
			digest = f[1]
		} else if len(f) == 2 && f[0] == app {
			appDigest = f[1]
		}
	}
	if digest == "" || appDigest == "" || lastLine(r.stdout) != app+" "+appDigest {
		t.Fatalf("update v2 did not print foo's and then the application's digest:\n%s", r.stdout)
	}
	if lock, _ := os.ReadFile(filepath.Join(specDir, "spartan.lock.json")); !strings.Contains(string(lock), `"version": "1.2-3+deb13u1"`) {
		t.Errorf("lock not rewritten:\n%s", lock)
	}

	// The timeline: fix seen at v2's InRelease Date, rebuilt after it, published from OSV.
	events, err := timeline.Read(tl)
	if err != nil {
		t.Fatal(err)
	}
	var fixed, rebuilt, signed, pushed *timeline.Event
	for i, e := range events {
		switch {
		case e.Event == timeline.Fixed && e.CVE == "CVE-2026-0001":
			fixed = &events[i]
		case e.Event == timeline.Rebuilt && e.Digest == digest:
			rebuilt = &events[i]
		case e.Event == timeline.Signed && e.Digest == digest:
			signed = &events[i]
		case e.Event == timeline.Pushed && e.Digest == digest:
			pushed = &events[i]
		}
	}
	if fixed == nil || rebuilt == nil || signed == nil || pushed == nil {
		t.Fatalf("timeline lacks the fix, rebuild or signature of %s:\n%+v", digest, events)
	}
	if fixed.Date == nil || !fixed.Date.Equal(d2) || fixed.Published == nil || !fixed.Published.Equal(time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("fix seen %v (want %v), published %v", fixed.Date, d2, fixed.Published)
	}
	if !rebuilt.Time.After(d2) || rebuilt.Run != fixed.Run {
		t.Errorf("rebuilt %+v", rebuilt)
	}
	if pushed.Ref != reg+"/e2e/foo:1" || pushed.Run != fixed.Run {
		t.Errorf("pushed %+v", pushed)
	}
	// What was pushed verifies, with its signature, against the key.
	must(t, sp("verify", reg+"/e2e/foo:1", "--key", filepath.Join(keyDir, "cosign.pub"), "--require", "https://openvex.dev/ns/v0.2.0"), "verify the pushed image and its OpenVEX attestation")
	tr := must(t, sp("timeline", "foo", "--timeline", tl), "timeline")
	t.Logf("timeline:\n%s", tr.stdout)
	for _, want := range []string{"CVE-2026-0001", d2.Format("2006-01-02 15:04"), "2026-02-27 12:00", "median 20m", "open CVEs in " + layout + ": 1"} {
		if !strings.Contains(tr.stdout, want) {
			t.Errorf("timeline output lacks %q:\n%s", want, tr.stdout)
		}
	}

	// The application was rebased onto the fixed foo, signed and pushed; its timeline has the
	// fix, rebased.
	must(t, sp("verify", app, "--key", filepath.Join(keyDir, "cosign.pub"), "--require", "sbom,provenance"), "verify the rebased application")
	ar := must(t, sp("timeline", app, "--timeline", tl), "timeline of the application")
	t.Logf("application timeline:\n%s", ar.stdout)
	for _, want := range []string{"CVE-2026-0001", d2.Format("2006-01-02 15:04"), "(rebased)", appDigest, "median 20m"} {
		if !strings.Contains(ar.stdout, want) {
			t.Errorf("the application's timeline lacks %q:\n%s", want, ar.stdout)
		}
	}
	scanApp := must(t, sp("scan", app, "--format", "json"), "scan the rebased application")
	if strings.Contains(scanApp.stdout, `"CVE-2026-0001"`) {
		t.Errorf("the rebased application is still affected by CVE-2026-0001:\n%s", scanApp.stdout)
	}

	// The new image: CVE-2026-0001 no longer a finding, VEX says fixed.
	scanV2 := must(t, sp("scan", layout, "--format", "json"), "scan v2")
	if strings.Contains(scanV2.stdout, `"CVE-2026-0001"`) || !strings.Contains(scanV2.stdout, `"CVE-2026-0003"`) {
		t.Errorf("scan of the new image:\n%s", scanV2.stdout)
	}
	// The same, read straight from the registry the update pushed to.
	scanReg := must(t, sp("scan", reg+"/e2e/foo:1", "--format", "json"), "scan the pushed image")
	if strings.Contains(scanReg.stdout, `"CVE-2026-0001"`) || !strings.Contains(scanReg.stdout, `"CVE-2026-0003"`) {
		t.Errorf("scan of the pushed image:\n%s", scanReg.stdout)
	}
	v := must(t, sp("vex", layout), "vex")
	var doc struct {
		Statements []struct {
			Vulnerability struct{ Name string } `json:"vulnerability"`
			Status        string                `json:"status"`
		} `json:"statements"`
	}
	if err := json.Unmarshal([]byte(v.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range doc.Statements {
		status[s.Vulnerability.Name] = s.Status
	}
	if status["CVE-2026-0001"] != "fixed" || status["CVE-2026-0003"] != "affected" {
		t.Errorf("VEX statuses %v", status)
	}

	// The signature came with an OpenVEX attestation (cosign's predicate type for --type openvex).
	if !layoutHas(t, layout, "https://openvex.dev/ns/v0.2.0") {
		t.Error("no OpenVEX attestation in the signed layout")
	}

	// The catalog site over this timeline, the catalog and the signed image.
	checkSite(t, dir, layout, filepath.Join(keyDir, "cosign.pub"), tl, digest)
}

// layoutHas tells whether any blob of an OCI layout holds s (manifests and annotations are
// plain JSON).
func layoutHas(t *testing.T, layout, s string) bool {
	t.Helper()
	found := false
	filepath.Walk(filepath.Join(layout, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Size() > 1<<20 || found {
			return nil
		}
		b, _ := os.ReadFile(p)
		found = bytes.Contains(b, []byte(s))
		return nil
	})
	return found
}
