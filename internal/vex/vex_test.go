package vex

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/vuln"
)

var ts = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func testDB(t *testing.T, files ...string) *vuln.DB {
	t.Helper()
	all := map[string]json.RawMessage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			all[k] = v
		}
	}
	feed, _ := json.Marshal(all)
	path := filepath.Join(t.TempDir(), "vuln.db")
	if _, err := vuln.ImportTracker(path, bytes.NewReader(feed), vuln.Meta{URL: "test"}, ts); err != nil {
		t.Fatal(err)
	}
	db, err := vuln.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func statementsOf(doc *Document) []string {
	var out []string
	for _, s := range doc.Statements {
		var ids []string
		for _, p := range s.Products {
			ids = append(ids, p.ID)
		}
		line := s.Vulnerability.Name + " " + s.Status
		if s.Justification != "" {
			line += " " + s.Justification
		}
		out = append(out, line+" "+strings.Join(ids, ","))
	}
	return out
}

// TestVEXFromRealRecords: apparmor and sope as trixie ships them, against the real tracker
// excerpts.
func TestVEXFromRealRecords(t *testing.T) {
	db := testDB(t, "../vuln/testdata/tracker/osv.dev_debian_security_tracker_mock.json", "../vuln/testdata/tracker/vunnel_debian.json")
	inv := &scan.Inventory{Target: "img", OSID: "debian", Release: "trixie", Packages: []scan.Package{
		{Name: "libapparmor1", Version: "3.0.11-1", Arch: "amd64", Source: "apparmor", SourceVersion: "3.0.11-1"},
		{Name: "libsope1", Version: "1:5.12.1-2+b1", Arch: "amd64", Source: "sope", SourceVersion: "5.12.1-2"},
	}}
	ms, err := scan.Matches(db, inv)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Build(db, inv, ms, Options{Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CVE-2014-1424 not_affected vulnerable_code_not_present pkg:deb/debian/libapparmor1@3.0.11-1?arch=amd64&distro=debian-13",
		"CVE-2016-1585 affected pkg:deb/debian/libapparmor1@3.0.11-1?arch=amd64&distro=debian-13",
		"CVE-2017-6507 fixed pkg:deb/debian/libapparmor1@3.0.11-1?arch=amd64&distro=debian-13",
		"CVE-2025-53603 fixed pkg:deb/debian/libsope1@1%3A5.12.1-2%2Bb1?arch=amd64&distro=debian-13",
	}
	if got := statementsOf(doc); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a := doc.Statements[1].ActionStatement; !strings.Contains(a, "apparmor to 3.0.12-1") {
		t.Errorf("action statement %q", a)
	}
	if doc.Context != Context || doc.Timestamp != "2026-11-27T10:00:00Z" || doc.Version != 1 || !strings.HasPrefix(doc.ID, "https://") {
		t.Errorf("header %+v", doc)
	}
	// Deterministic: the same input gives the same bytes.
	again, _ := Build(db, inv, ms, Options{Timestamp: ts})
	var a, b bytes.Buffer
	doc.Write(&a)
	again.Write(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two documents from the same input differ")
	}
}

// TestVEXStatusesAndCuts: every tracker status, and a cut package.
func TestVEXStatusesAndCuts(t *testing.T) {
	db := testDB(t, "../vuln/testdata/statuses.json")
	inv := &scan.Inventory{Target: "img", OSID: "debian", Release: "bookworm", Packages: []scan.Package{
		{Name: "libexample1", Version: "1.2-3", Arch: "amd64", Source: "spartan-example", SourceVersion: "1.2-3"},
	}}
	ms, err := scan.Matches(db, inv)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Build(db, inv, ms, Options{Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range doc.Statements {
		status[s.Vulnerability.Name] = s.Status + "/" + s.Justification
	}
	want := map[string]string{
		"CVE-2099-0001": "affected/", "CVE-2099-0002": "affected/", "CVE-2099-0003": "under_investigation/",
		"CVE-2099-0004": "affected/", "CVE-2099-0005": "affected/", "CVE-2099-0006": "affected/",
		"CVE-2099-0007": "affected/", "CVE-2099-0008": "affected/", "CVE-2099-0009": "not_affected/vulnerable_code_not_present",
		"CVE-2099-0010": "affected/",
	}
	for cve, w := range want {
		if status[cve] != w {
			t.Errorf("%s: %s, want %s", cve, status[cve], w)
		}
	}
	for _, s := range doc.Statements {
		if s.Status == StatusAffected && s.ActionStatement == "" {
			t.Errorf("%s: affected without an action statement", s.Vulnerability.Name)
		}
	}

	// The same source package cut by the profile instead of installed.
	cutsFile := filepath.Join(t.TempDir(), "resolve.json")
	os.WriteFile(cutsFile, []byte(`[{"arch":"amd64","packages":[],"cuts":[{"from":"app","to":"spartan-example","relation":"Depends","reason":"not needed at runtime"}]}]`), 0o644)
	cuts, err := ReadCuts(cutsFile)
	if err != nil || len(cuts) != 1 {
		t.Fatal(cuts, err)
	}
	bare := &scan.Inventory{Target: "img", OSID: "debian", Release: "bookworm"}
	doc, err = Build(db, bare, nil, Options{Timestamp: ts, Cut: cuts})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Statements) != 9 { // every CVE but the never-affected one
		t.Errorf("%d statements, want 9", len(doc.Statements))
	}
	for _, s := range doc.Statements {
		if s.Status != StatusNotAffected || s.Justification != JustificationComponentNotPresent || s.Products[0].ID != "pkg:deb/debian/spartan-example?distro=debian-12" {
			t.Errorf("%+v", s)
		}
	}
}

func TestValidate(t *testing.T) {
	good := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"a","timestamp":"2026-01-02T03:04:05Z","version":1,"statements":[
{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:deb/debian/a"}],"status":"not_affected","justification":"component_not_present"}]}`
	if err := Validate([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"context":       strings.Replace(good, "v0.2.0", "v0.1", 1),
		"status":        strings.Replace(good, `"not_affected"`, `"maybe"`, 1),
		"justification": strings.Replace(good, `,"justification":"component_not_present"`, "", 1),
		"timestamp":     strings.Replace(good, "2026-01-02T03:04:05Z", "yesterday", 1),
		"affected":      strings.Replace(strings.Replace(good, `"not_affected"`, `"affected"`, 1), `,"justification":"component_not_present"`, "", 1),
		"products":      strings.Replace(good, `[{"@id":"pkg:deb/debian/a"}]`, `[]`, 1),
	} {
		if err := Validate([]byte(doc)); err == nil {
			t.Errorf("%s: a bad document validated", name)
		}
	}
}

type lookupFunc func(release, pkg string) ([]vuln.Record, error)

func (f lookupFunc) Lookup(release, pkg string) ([]vuln.Record, error) { return f(release, pkg) }

// TestVEXAlpine: statements about an Alpine image name apk purls as its SBOM writes them and
// the secdb as their source.
func TestVEXAlpine(t *testing.T) {
	db := lookupFunc(func(release, pkg string) ([]vuln.Record, error) {
		if release != "alpine-v3.22" {
			t.Errorf("lookup in %s", release)
		}
		if pkg != "hello" && pkg != "busybox" {
			return nil, nil
		}
		return []vuln.Record{{CVE: "CVE-2099-0001", Package: pkg, Release: release, Status: vuln.StatusResolved, FixedVersion: "1.0-r1"}}, nil
	})
	inv := &scan.Inventory{Target: "img", OSID: "alpine", VersionID: "3.22", Release: "alpine-v3.22", Packages: []scan.Package{
		{Name: "hello", Version: "1.0-r0", Arch: "x86_64", Source: "hello", SourceVersion: "1.0-r0"},
	}}
	ms, err := scan.Matches(db, inv)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Build(db, inv, ms, Options{Timestamp: ts, Cut: []string{"busybox"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"affected pkg:apk/alpine/hello@1.0-r0?arch=x86_64&distro=alpine-3.22": "Alpine secdb, alpine-v3.22: resolved",
		"not_affected pkg:apk/alpine/busybox?distro=alpine-3.22":              "",
	}
	got := map[string]string{}
	for _, s := range doc.Statements {
		for _, p := range s.Products {
			got[s.Status+" "+p.ID] = s.StatusNotes
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statements %v, want %v", got, want)
	}
}
