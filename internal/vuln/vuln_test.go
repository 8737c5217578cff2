package vuln

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func importFile(t *testing.T, file string) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vuln.db")
	if _, err := ImportTrackerFile(path, file, now); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func find(t *testing.T, db *DB, release, pkg, cve string) (Record, bool) {
	t.Helper()
	recs, err := db.Lookup(release, pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.CVE == cve {
			return r, true
		}
	}
	return Record{}, false
}

// TestTrackerKnownAnswers checks records of the real feed excerpts, one per status the
// excerpts hold, and the hand-written file for the statuses they lack.
func TestTrackerKnownAnswers(t *testing.T) {
	tests := []struct {
		file, release, pkg, cve string
		status, fixed, urgency  string
		nodsa, reason           string
		severity                string
	}{
		{"tracker/vunnel_debian.json", "bookworm", "sope", "CVE-2025-53603", "resolved", "5.8.0-1+deb12u1", "not yet assigned", "", "", "not yet assigned"},
		{"tracker/vunnel_debian.json", "stretch", "prototypejs", "CVE-2008-7220", "resolved", "1.6.0.2-1", "high**", "", "", "high"},
		{"tracker/vunnel_debian.json", "stretch", "prototypejs", "CVE-2007-2383", "resolved", "0", "unimportant", "", "", "unimportant"},
		{"tracker/vunnel_debian.json", "buster", "chromium", "CVE-2022-0456", "open", "", "end-of-life", "", "", "end-of-life"},
		{"tracker/vuls-data-update_advisory.json", "bullseye", "389-ds-base", "CVE-2016-5416", "open", "", "not yet assigned", "Minor issue", "ignored", "not yet assigned"},
		{"tracker/vuls-data-update_advisory.json", "bullseye", "389-ds-base", "CVE-2016-5405", "resolved", "1.3.5.15-1", "not yet assigned", "", "", "not yet assigned"},
		{"tracker/osv.dev_debian_security_tracker_mock.json", "bookworm", "apparmor", "CVE-2016-1585", "open", "", "unimportant", "", "", "unimportant"},
		{"tracker/osv.dev_debian_security_tracker_mock.json", "trixie", "apparmor", "CVE-2014-1424", "resolved", "0", "unimportant", "", "", "unimportant"},
		{"statuses.json", "bookworm", "spartan-example", "CVE-2099-0003", "undetermined", "", "not yet assigned", "", "", "not yet assigned"},
		{"statuses.json", "bookworm", "spartan-example", "CVE-2099-0004", "open", "", "low", "Minor issue", "", "low"},
		{"statuses.json", "bookworm", "spartan-example", "CVE-2099-0006", "open", "", "low", "Can be fixed in a point release", "postponed", "low"},
		{"statuses.json", "bookworm", "spartan-example", "CVE-2099-0010", "resolved", "1:1.0-1", "low**", "", "", "low"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg+"/"+tt.cve+"/"+tt.release, func(t *testing.T) {
			db := importFile(t, filepath.Join("testdata", tt.file))
			r, ok := find(t, db, tt.release, tt.pkg, tt.cve)
			if !ok {
				t.Fatalf("%s not found for %s in %s", tt.cve, tt.pkg, tt.release)
			}
			if r.Status != tt.status || r.FixedVersion != tt.fixed || r.Urgency != tt.urgency || r.NoDSA != tt.nodsa || r.NoDSAReason != tt.reason || r.Severity() != tt.severity {
				t.Errorf("got %+v", r)
			}
			if r.Source != SourceTracker || r.Release != tt.release || r.Package != tt.pkg {
				t.Errorf("identity %s %s %s", r.Source, r.Release, r.Package)
			}
			if r.NeverAffected() != (tt.fixed == "0") {
				t.Errorf("NeverAffected = %v", r.NeverAffected())
			}
		})
	}
}

func TestTrackerMeta(t *testing.T) {
	file := filepath.Join("testdata", "tracker", "vunnel_debian.json")
	db := importFile(t, file)
	m, ok, err := db.MetaFor(SourceTracker)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// sha256sum of the file, computed independently of the importer.
	data, _ := os.ReadFile(file)
	if want := sha256hex(data); m.SHA256 != want {
		t.Errorf("sha256 %s, want %s", m.SHA256, want)
	}
	// 6 source packages in the excerpt; chromium-browser has "releases": [] and no records.
	if m.Packages != 6 || m.URL != file || !m.Imported.Equal(now) {
		t.Errorf("meta %+v", m)
	}
	if recs, _ := db.Lookup("bookworm", "chromium-browser"); len(recs) != 0 {
		t.Errorf("records for an entry without releases: %v", recs)
	}
	rels, _ := db.Releases()
	if strings.Join(rels, ",") != "bookworm,bullseye,buster,jessie,sid,stretch,trixie" {
		t.Errorf("releases %v", rels)
	}
}

func TestParseTrackerRefuses(t *testing.T) {
	tests := map[string]string{
		"html":           "<html>503</html>",
		"array":          `[{"a":1}]`,
		"empty":          `{}`,
		"truncated":      `{"openssl": {"CVE-1": {"releases": {"trixie": {"status": "open"`,
		"unknown status": `{"openssl": {"CVE-1": {"releases": {"trixie": {"status": "fixed"}}}}}`,
		"package array":  `{"openssl": ["CVE-1"]}`,
		"releases list":  `{"openssl": {"CVE-1": {"releases": [{"status": "open"}]}}}`,
		"trailing":       `{"openssl": {"CVE-1": {"releases": {}}}} {}`,
		"empty name":     `{"": {}}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseTracker(strings.NewReader(in), func(Record) error { return nil }); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestOSVKnownAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	if _, err := ImportTrackerFile(path, "testdata/tracker/vunnel_debian.json", now); err != nil {
		t.Fatal(err)
	}
	m, err := ImportOSV(path, "testdata/osv", now)
	if err != nil {
		t.Fatal(err)
	}
	if m.Packages != 7 || m.Records != 7 {
		t.Errorf("meta %+v", m)
	}
	tests := []struct{ release, pkg, cve, fixed, advisory string }{
		{"wheezy", "nginx", "CVE-2014-3616", "1.2.1-2.2+wheezy3", "DSA-3029-1"},    // aliases
		{"woody", "libapache-mod-ssl", "CVE-2002-0653", "2.8.9-2", "DSA-135"},      // related, Debian:3.0
		{"squeeze", "gnutls26", "CVE-2014-3466", "2.8.6-1+squeeze4", "DLA-0001-1"}, // Debian:6.0
		{"stretch", "openssl", "CVE-2022-1292", "1.1.0l-1~deb9u6", "DLA-3008-1"},   // upstream
		{"stretch", "tzdata", "DLA-3051-1", "2021a-0+deb9u4", ""},                  // no CVE at all
		{"stretch", "libxml2", "CVE-2022-29824", "2.9.4+dfsg1-2.2+deb9u7", "DLA-3012-1"},
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range tests {
		r, ok := find(t, db, tt.release, tt.pkg, tt.cve)
		if !ok || r.Source != SourceOSV || r.Status != StatusResolved || r.FixedVersion != tt.fixed || r.Advisory != tt.advisory || r.Published == "" {
			t.Errorf("%s %s %s: %+v (found %v)", tt.release, tt.pkg, tt.cve, r, ok)
		}
	}
	// The tracker's records survived the OSV import, and survive a tracker re-import's
	// replacement of the tracker source the other way round.
	if _, ok := find(t, db, "bookworm", "sope", "CVE-2025-53603"); !ok {
		t.Error("tracker records lost by the OSV import")
	}
	db.Close()
	if _, err := ImportTrackerFile(path, "testdata/statuses.json", now); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, ok := find(t, db2, "bookworm", "sope", "CVE-2025-53603"); ok {
		t.Error("old tracker records kept after re-importing the tracker")
	}
	if _, ok := find(t, db2, "wheezy", "nginx", "CVE-2014-3616"); !ok {
		t.Error("OSV records lost by the tracker re-import")
	}
	metas, _ := db2.Meta()
	if len(metas) != 2 {
		t.Errorf("meta %+v", metas)
	}
}

func TestOSVTrackerPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vuln.db")
	// Same CVE in both sources: the tracker's triage wins.
	feed := `{"openssl": {"CVE-2022-1292": {"releases": {"stretch": {"status": "open", "urgency": "high"}}}}}`
	if _, err := ImportTracker(path, strings.NewReader(feed), Meta{URL: "inline"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportOSV(path, "testdata/osv/DLA-3008-1.json", now); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, _ := db.Lookup("stretch", "openssl")
	if len(recs) != 1 || recs[0].Source != SourceTracker || recs[0].Status != StatusOpen {
		t.Fatalf("%+v", recs)
	}
	// The tracker has no dates: the winning record takes OSV's publication date.
	if recs[0].Published != "2022-05-14T00:00:00Z" {
		t.Errorf("published %q, want OSV's 2022-05-14T00:00:00Z", recs[0].Published)
	}
}

func TestCodename(t *testing.T) {
	for in, want := range map[string]string{"13": "trixie", "12.7": "bookworm", "11": "bullseye", "6.0": "squeeze", "3.0": "woody", "3.1": "sarge", "Trixie": "trixie", "sid": "sid", "unstable": "sid"} {
		if got, err := Codename(in); err != nil || got != want {
			t.Errorf("Codename(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "99", "jammy"} {
		if _, err := Codename(bad); err == nil {
			t.Errorf("Codename(%q) accepted", bad)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.db"))
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), "db update") {
		t.Fatalf("err = %v", err)
	}
}

func TestFailedImportKeepsDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vuln.db")
	if _, err := ImportTrackerFile(path, "testdata/tracker/vunnel_debian.json", now); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// Valid for thousands of records, broken at the end: nothing of it may land.
	var b bytes.Buffer
	if err := GenerateFeed(&b, 300, 1); err != nil {
		t.Fatal(err)
	}
	broken := bytes.TrimRight(b.Bytes(), "}\n ")
	if _, err := ImportTracker(path, bytes.NewReader(broken), Meta{URL: "broken"}, now); err == nil {
		t.Fatal("truncated feed accepted")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("database changed by a failed import")
	}
	if m, _ := filepath.Glob(path + ".tmp-*"); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

func TestUpdateConditional(t *testing.T) {
	feed, _ := os.ReadFile("testdata/tracker/vunnel_debian.json")
	srv := newFeedServer(t, feed)
	path := filepath.Join(t.TempDir(), "vuln.db")
	u := &Updater{Now: func() time.Time { return now }, UserAgent: "spartan/test"}

	res, err := u.Update(context.Background(), path, srv.URL+"/tracker/data/json")
	if err != nil || res.NotModified {
		t.Fatalf("first update: %+v %v", res, err)
	}
	if res.Meta.ETag != srv.etag || res.Meta.SHA256 != sha256hex(feed) || res.Meta.LastModified == "" {
		t.Errorf("meta %+v", res.Meta)
	}
	before, _ := os.ReadFile(path)

	res, err = u.Update(context.Background(), path, srv.URL+"/tracker/data/json")
	if err != nil || !res.NotModified {
		t.Fatalf("second update: %+v %v", res, err)
	}
	if got := srv.lastIfNoneMatch(); got != srv.etag {
		t.Errorf("If-None-Match = %q, want %q", got, srv.etag)
	}
	if srv.lastIfModifiedSince() == "" {
		t.Error("no If-Modified-Since sent")
	}

	// The feed changes into garbage: refused, the database stays.
	srv.set([]byte(`{"sope": {"CVE-1": {"releases": {"trixie": {"status": "bogus"}}}}}`))
	if _, err := u.Update(context.Background(), path, srv.URL+"/tracker/data/json"); err == nil || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("corrupt feed: err = %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("database changed by a refused feed")
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, ok := find(t, db, "bookworm", "sope", "CVE-2025-53603"); !ok {
		t.Fatal("old records gone")
	}

	srv.status = 500
	if _, err := u.Update(context.Background(), path, srv.URL+"/tracker/data/json"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("server error: err = %v", err)
	}
}

// TestOpenOptional: the rule every command with an optional database follows — used when
// present, a note when absent, an error when it was asked for and is absent.
func TestOpenOptional(t *testing.T) {
	present := filepath.Join(t.TempDir(), "vuln.db")
	if _, err := ImportTrackerFile(present, "testdata/tracker/vunnel_debian.json", now); err != nil {
		t.Fatal(err)
	}
	absent := filepath.Join(t.TempDir(), "none.db")
	notADB := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(notADB, []byte("not a bolt file"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		required bool
		wantDB   bool
		wantNote bool
		wantErr  bool
	}{
		{"present", present, false, true, false, false},
		{"present and asked for", present, true, true, false, false},
		{"absent", absent, false, false, true, false},
		{"absent but asked for", absent, true, false, false, true},
		{"not a database", notADB, false, false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var note error
			db, err := OpenOptional(tc.path, tc.required, func(why error) { note = why })
			if db != nil {
				defer db.Close()
			}
			if (db != nil) != tc.wantDB || (note != nil) != tc.wantNote || (err != nil) != tc.wantErr {
				t.Fatalf("db %v, note %v, err %v", db != nil, note, err)
			}
			if tc.wantNote && !errors.Is(note, ErrNoDatabase) {
				t.Errorf("note %v does not say there is no database", note)
			}
			if tc.wantErr && tc.path == absent && !errors.Is(err, ErrNoDatabase) {
				t.Errorf("err %v", err)
			}
		})
	}
}
