package update

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/vuln"
)

func TestParseChangelogReal(t *testing.T) {
	f, err := os.Open("testdata/openssl.changelog")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ParseChangelog(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 6 {
		t.Fatalf("%d entries, want 6: %+v", len(entries), entries)
	}
	first := entries[0]
	if first.Package != "openssl" || first.Version != "3.0.19-1~deb12u2" || first.Distribution != "bookworm-security" {
		t.Errorf("first entry %+v", first)
	}
	want := []string{"CVE-2026-28387", "CVE-2026-28389", "CVE-2026-28390", "CVE-2026-31789", "CVE-2026-31790"}
	if !reflect.DeepEqual(first.CVEs, want) {
		t.Errorf("first entry CVEs %v, want %v", first.CVEs, want)
	}
	if len(entries[1].CVEs) != 0 || entries[1].Version != "3.0.19-1~deb12u1" {
		t.Errorf("second entry %+v", entries[1])
	}

	tests := []struct {
		old  string
		n    int
		cve  string
		from string
	}{
		{"3.0.19-1~deb12u2", 0, "", ""},                                // nothing newer
		{"3.0.19-1~deb12u1", 5, "CVE-2026-31790", "3.0.19-1~deb12u2"},  // one security upload
		{"3.0.18-1~deb12u1", 13, "CVE-2025-15467", "3.0.18-1~deb12u2"}, // two, each CVE at its own entry
		{"3.0.17-1~deb12u2", 15, "CVE-2025-9230", "3.0.17-1~deb12u3"},  // `~` ordering: deb12u3 > deb12u2
		{"", 15, "CVE-2026-28387", "3.0.19-1~deb12u2"},                 // no old version: everything
	}
	for _, tt := range tests {
		got := CVEsSince(entries, tt.old)
		if len(got) != tt.n {
			t.Errorf("since %q: %d CVEs, want %d: %v", tt.old, len(got), tt.n, got)
		}
		if tt.cve != "" && got[tt.cve] != tt.from {
			t.Errorf("since %q: %s fixed in %q, want %q", tt.old, tt.cve, got[tt.cve], tt.from)
		}
	}
}

func TestParseChangelogHostile(t *testing.T) {
	// Lines before the first header, indented fake headers, CVE-looking junk.
	in := "CVE-2020-0001 before any entry\n" +
		"pkg (2.0-1) unstable; urgency=high\n\n  * Fix CVE-2024-12345 and CVE-2024-12345 again, not CVE-24-1.\n" +
		"  pkg (9.9-9) unstable; urgency=low\n\n -- A <a@b>  Mon, 01 Jan 2024 00:00:00 +0000\n"
	entries, err := ParseChangelog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !reflect.DeepEqual(entries[0].CVEs, []string{"CVE-2024-12345"}) {
		t.Fatalf("%+v", entries)
	}
}

func gz(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func lockOf(arch string, pkgs ...build.LockPackage) *build.Lock {
	return &build.Lock{LockVersion: build.LockVersion, Spec: build.LockSpec{SHA256: "s"}, Archs: []build.LockArch{{Arch: arch, Packages: pkgs}}}
}

func TestDiff(t *testing.T) {
	old := lockOf("amd64",
		build.LockPackage{Name: "libssl3t64", Version: "3.5.1-1", Source: "openssl", SHA256: "a"},
		build.LockPackage{Name: "gone", Version: "1"},
		build.LockPackage{Name: "same", Version: "1", SHA256: "s"},
		build.LockPackage{Name: "binnmu", Version: "1.0-1+b1", Source: "b", SourceVersion: "1.0-1", SHA256: "x"})
	cur := lockOf("amd64",
		build.LockPackage{Name: "binnmu", Version: "1.0-1+b2", Source: "b", SourceVersion: "1.0-1", SHA256: "y"},
		build.LockPackage{Name: "libssl3t64", Version: "3.5.4-1~deb13u1", Source: "openssl", SHA256: "b", Repository: "R"},
		build.LockPackage{Name: "new", Version: "2"},
		build.LockPackage{Name: "same", Version: "1", SHA256: "s"})
	bumps := Diff(old, cur)
	var got []string
	for _, b := range bumps {
		got = append(got, b.Name+" "+b.Old+">"+b.New+" "+b.Source+" "+b.OldSourceVersion+">"+b.NewSourceVersion)
	}
	want := []string{
		"binnmu 1.0-1+b1>1.0-1+b2 b 1.0-1>1.0-1",
		"gone 1> gone 1>",
		"libssl3t64 3.5.1-1>3.5.4-1~deb13u1 openssl 3.5.1-1>3.5.4-1~deb13u1",
		"new >2 new >2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !bumps[1].Removed() || !bumps[3].Added() || bumps[2].Repository != "R" {
		t.Errorf("%+v", bumps)
	}
	if !Changed(old, cur, bumps) || Changed(cur, cur, Diff(cur, cur)) || !Changed(nil, cur, Diff(nil, cur)) {
		t.Error("Changed")
	}
	edited := *cur
	edited.Spec.SHA256 = "other"
	if !Changed(cur, &edited, Diff(cur, &edited)) {
		t.Error("a changed spec must rebuild")
	}
	if n := len(Diff(nil, cur)); n != 4 {
		t.Errorf("no old lock: %d bumps, want every package", n)
	}
}

// TestFixesAndEvents: a bump of a real .deb (served, fetched, its changelog read) against a
// database, then the timeline events and report built from them.
func TestFixesAndEvents(t *testing.T) {
	changelog := "foo (1.2-3+deb13u1) trixie-security; urgency=high\n\n  * CVE-2026-0002: changelog only.\n  * CVE-2026-0001: both.\n\n -- X <x@y>  Mon, 02 Mar 2026 10:00:00 +0000\n\n" +
		"foo (1.2-3) unstable; urgency=medium\n\n  * Fix CVE-2025-9999 (older than the lock).\n\n -- X <x@y>  Mon, 02 Feb 2026 10:00:00 +0000\n"
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	d := testkit.Deb{Name: "libfoo1", Version: "1.2-3+deb13u1", Source: "foo", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/lib/libfoo.so.1", Body: "\x7fELF"},
		{Path: "/usr/share/doc/libfoo1/changelog.Debian.gz", Body: gz(t, changelog)},
	}}
	date := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	repo.Suites["trixie-security"] = &testkit.Suite{Codename: "trixie-security", Date: date, Components: map[string][]testkit.Deb{"main": {d}}}
	srv := repo.Serve(t)
	body, ok := srv.Body("/" + testkit.PoolPath("main", d))
	if !ok {
		t.Fatal("deb not served")
	}
	sum := sha256hex(body)

	feed := `{"foo": {
  "CVE-2026-0001": {"description": "d", "releases": {"trixie": {"status": "resolved", "fixed_version": "1.2-3+deb13u1", "urgency": "high"}}},
  "CVE-2026-0003": {"description": "fixed later", "releases": {"trixie": {"status": "resolved", "fixed_version": "1.2-4", "urgency": "low"}}},
  "CVE-2026-0004": {"description": "fixed before", "releases": {"trixie": {"status": "resolved", "fixed_version": "1.2-2", "urgency": "low"}}},
  "CVE-2026-0005": {"description": "never", "releases": {"trixie": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}}},
  "CVE-2026-0006": {"description": "open", "releases": {"trixie": {"status": "open", "urgency": "medium"}}},
  "CVE-2026-0002": {"description": "tracker not there yet", "releases": {"trixie": {"status": "open", "urgency": "medium"}}}
}}`
	dbPath := filepath.Join(t.TempDir(), "vuln.db")
	if _, err := vuln.ImportTracker(dbPath, strings.NewReader(feed), vuln.Meta{URL: "inline"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rel := srv.URL + "/dists/trixie-security/InRelease"
	old := lockOf("amd64", build.LockPackage{Name: "libfoo1", Version: "1.2-3", Source: "foo", SHA256: "00"})
	cur := lockOf("amd64", build.LockPackage{Name: "libfoo1", Version: d.Version, Source: "foo", SHA256: sum, Size: int64(len(body)),
		Filename: testkit.PoolPath("main", d), Repository: rel, URI: srv.URL + "/" + testkit.PoolPath("main", d)})
	cur.Archs[0].Releases = []build.LockRelease{{URI: rel, Date: date}}
	c, err := cache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dl := &cache.Downloader{HTTP: http.DefaultClient, Cache: c, Backoff: time.Millisecond}
	bumps := Diff(old, cur)
	f := Finder{DB: db, Release: "trixie", Fetch: dl.FetchAll}
	if err := f.Fixes(context.Background(), cur, bumps); err != nil {
		t.Fatal(err)
	}
	if len(bumps) != 1 || !bumps[0].Changelog {
		t.Fatalf("%+v", bumps)
	}
	var got []string
	for _, fx := range bumps[0].Fixes {
		got = append(got, fx.CVE+" "+fx.FixedIn+" "+strings.Join(fx.Evidence, "+")+" "+fx.Severity)
	}
	want := []string{
		"CVE-2026-0001 1.2-3+deb13u1 database+changelog high",
		"CVE-2026-0002 1.2-3+deb13u1 changelog medium",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fixes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var out bytes.Buffer
	WriteSummary(&out, "app", bumps, true)
	if s := out.String(); !strings.Contains(s, "libfoo1: 1.2-3 → 1.2-3+deb13u1") || !strings.Contains(s, "fixes CVE-2026-0001 (fixed in 1.2-3+deb13u1, high; from database and changelog)") {
		t.Errorf("summary:\n%s", s)
	}

	// Without the database, the changelog alone still names both.
	bumps2 := Diff(old, cur)
	if err := (&Finder{Release: "trixie", Fetch: dl.FetchAll}).Fixes(context.Background(), cur, bumps2); err != nil {
		t.Fatal(err)
	}
	if len(bumps2[0].Fixes) != 2 || bumps2[0].Fixes[0].Evidence[0] != FromChangelog {
		t.Errorf("changelog only: %+v", bumps2[0].Fixes)
	}

	// Events: seen once (with the InRelease Date), fixed with that date as "fix seen".
	now := date.Add(40 * time.Minute)
	seen := SeenEvents("r1", now, cur, bumps, nil)
	if len(seen) != 1 || seen[0].Date == nil || !seen[0].Date.Equal(date) || seen[0].SourceVersion != "1.2-3+deb13u1" {
		t.Fatalf("seen %+v", seen)
	}
	if again := SeenEvents("r2", now, cur, bumps, seen); len(again) != 0 {
		t.Errorf("a version already seen is recorded again: %+v", again)
	}
	fixed := FixedEvents("r1", "app", now, bumps, seen)
	if len(fixed) != 2 || fixed[0].Date == nil || !fixed[0].Date.Equal(date) || fixed[0].CVE != "CVE-2026-0001" {
		t.Fatalf("fixed %+v", fixed)
	}
	tl := filepath.Join(t.TempDir(), "t.jsonl")
	events := append(append(seen, fixed...), timeline.Event{Time: now, Event: timeline.Rebuilt, Run: "r1", Image: "app", Digest: "sha256:ab"})
	if err := timeline.Append(tl, events); err != nil {
		t.Fatal(err)
	}
	back, err := timeline.Read(tl)
	if err != nil {
		t.Fatal(err)
	}
	rep := timeline.Build(back, "app")
	if len(rep.Rows) != 2 || rep.N != 2 || rep.Median != 40*time.Minute || rep.Rows[0].Digest != "sha256:ab" {
		t.Fatalf("report %+v", rep)
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestFixesAlpine: an Alpine lock's bumps are looked up in the secdb records (release key
// alpine-<branch>) in apk's version order, and no package is fetched for a changelog.
func TestFixesAlpine(t *testing.T) {
	dir := t.TempDir()
	secdb := filepath.Join(dir, "main.json")
	if err := os.WriteFile(secdb, []byte(`{"distroversion": "v3.22", "reponame": "main", "packages": [
  {"pkg": {"name": "openssl", "secfixes": {"3.5.1-r0": ["CVE-2099-0001"], "3.5.0_rc1-r0": ["CVE-2099-0002"], "3.5.2-r1": ["CVE-2099-0003"]}}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "vuln.db")
	if _, _, err := vuln.ImportSecDB(dbPath, []string{secdb}, time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := lockOf("amd64", build.LockPackage{Name: "libssl3", Version: "3.5.0-r0", Source: "openssl", SHA256: strings.Repeat("0", 64)})
	cur := lockOf("amd64", build.LockPackage{Name: "libssl3", Version: "3.5.2-r0", Source: "openssl", SHA256: strings.Repeat("1", 64)})
	old.Distro, cur.Distro = "alpine", "alpine"
	bumps := Diff(old, cur)
	f := Finder{DB: db, Release: "v3.22", Fetch: func(context.Context, []cache.Item) (map[string]string, error) {
		t.Error("an Alpine update fetched packages for changelogs")
		return nil, nil
	}}
	if err := f.Fixes(context.Background(), cur, bumps); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fx := range bumps[0].Fixes {
		got = append(got, fx.CVE+" "+fx.FixedIn)
	}
	// 3.5.0_rc1-r0 is before 3.5.0-r0 in apk's order (a Debian comparison would say after).
	if strings.Join(got, ", ") != "CVE-2099-0001 3.5.1-r0" || bumps[0].Changelog {
		t.Errorf("fixes %v (changelog %v)", got, bumps[0].Changelog)
	}
}
