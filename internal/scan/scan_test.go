package scan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/vuln"
)

// TestVerdicts covers every tracker status and the version orderings the fixed-version check
// rests on.
func TestVerdicts(t *testing.T) {
	rec := func(status, fixed, urgency, nodsa, reason string) vuln.Record {
		return vuln.Record{Status: status, FixedVersion: fixed, Urgency: urgency, NoDSA: nodsa, NoDSAReason: reason}
	}
	tests := []struct {
		name      string
		installed string
		r         vuln.Record
		verdict   Verdict
		status    string
	}{
		{"resolved, installed older", "1.2-3", rec("resolved", "1.2-3+deb12u1", "medium", "", ""), Vulnerable, StatusFixAvailable},
		{"resolved, installed equal", "1.2-3+deb12u1", rec("resolved", "1.2-3+deb12u1", "medium", "", ""), Fixed, ""},
		{"resolved, installed newer security update", "1.2-3+deb12u2", rec("resolved", "1.2-3+deb12u1", "medium", "", ""), Fixed, ""},
		{"+debNuM below the next upload", "1.2-3+deb12u1", rec("resolved", "1.2-4", "low", "", ""), Vulnerable, StatusFixAvailable},
		{"tilde sorts before the release", "2.0~rc1-1", rec("resolved", "2.0-1", "high", "", ""), Vulnerable, StatusFixAvailable},
		{"tilde fix, installed release", "2.0-1", rec("resolved", "2.0~rc1-1", "high", "", ""), Fixed, ""},
		{"epoch beats upstream", "1:1.0-1", rec("resolved", "2.0-1", "high", "", ""), Fixed, ""},
		{"fix carries an epoch", "9.9-1", rec("resolved", "1:1.0-1", "low**", "", ""), Vulnerable, StatusFixAvailable},
		{"never affected", "1.0-1", rec("resolved", "0", "unimportant", "", ""), NotAffected, ""},
		{"open", "1.0-1", rec("open", "", "high", "", ""), Vulnerable, StatusNoFix},
		{"undetermined", "1.0-1", rec("undetermined", "", "not yet assigned", "", ""), Investigating, StatusUndetermined},
		{"no-dsa", "1.0-1", rec("open", "", "low", "Minor issue", ""), Vulnerable, StatusNoDSA},
		{"ignored", "1.0-1", rec("open", "", "low", "Minor issue", "ignored"), Vulnerable, StatusIgnored},
		{"postponed", "1.0-1", rec("open", "", "low", "Minor issue", "postponed"), Vulnerable, StatusPostponed},
		{"unimportant", "1.0-1", rec("open", "", "unimportant", "", ""), Vulnerable, StatusUnimportant},
		{"end-of-life", "1.0-1", rec("open", "", "end-of-life", "", ""), Vulnerable, StatusEndOfLife},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdict(Package{SourceVersion: tt.installed}, tt.r)
			if got != tt.verdict {
				t.Errorf("verdict = %s, want %s", got, tt.verdict)
			}
			if tt.status != "" && status(tt.r) != tt.status {
				t.Errorf("status = %s, want %s", status(tt.r), tt.status)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	for in, want := range map[string]string{"high**": "high", "low": "low", "medium": "medium", "unimportant": "unimportant", "not yet assigned": "unknown", "end-of-life": "unknown", "": "unknown"} {
		if got := Severity(in); got != want {
			t.Errorf("Severity(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("accepted severe")
	}
}

// TestScanStatusesFromTracker scans a package against the hand-written feed holding every
// status, through the database.
func TestScanStatusesFromTracker(t *testing.T) {
	db := realDB(t)
	inv := &Inventory{Target: "t", OSID: "debian", Release: "bookworm", Packages: []Package{
		{Name: "libexample1", Version: "1.2-3+b1", Source: "spartan-example", SourceVersion: "1.2-3"},
	}}
	rep, err := Scan(db, inv)
	must(t, err)
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.CVE] = f.Status
	}
	want := map[string]string{
		"CVE-2099-0001": StatusFixAvailable, "CVE-2099-0002": StatusNoFix, "CVE-2099-0003": StatusUndetermined,
		"CVE-2099-0004": StatusNoDSA, "CVE-2099-0005": StatusIgnored, "CVE-2099-0006": StatusPostponed,
		"CVE-2099-0007": StatusUnimportant, "CVE-2099-0008": StatusEndOfLife,
		// 0009 never affected, 0010 fixed in 1:1.0-1 — but 1.2-3 has no epoch, so it is older.
		"CVE-2099-0010": StatusFixAvailable,
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for cve, s := range want {
		if got[cve] != s {
			t.Errorf("%s: %q, want %q", cve, got[cve], s)
		}
	}
	if n := len(rep.AtOrAbove("high")); n != 1 {
		t.Errorf("%d findings at or above high, want 1 (CVE-2099-0002)", n)
	}
	if n := len(rep.AtOrAbove("low")); n != 6 {
		t.Errorf("%d findings at or above low, want 6", n)
	}
}

// TestScanBuiltImage builds an image with internal/build and scans it with real tracker
// records: known answers for apparmor and sope in trixie.
func TestScanBuiltImage(t *testing.T) {
	out := buildImage(t)
	dir := filepath.Join(t.TempDir(), "layout")
	must(t, oci.WriteLayout(dir, out.Artifact(), "example/app:1"))
	archive := filepath.Join(t.TempDir(), "app.tar")
	must(t, oci.WriteArchive(archive, out.Images[0].Image, []string{"example/app:1"}))
	db := realDB(t)
	for _, target := range []string{dir, archive} {
		inv, err := loadImage(t, target)
		must(t, err)
		if inv.Release != "trixie" || inv.VersionID != "13" {
			t.Fatalf("release %q version %q", inv.Release, inv.VersionID)
		}
		var names []string
		for _, p := range inv.Packages {
			names = append(names, p.Name+"="+p.Source+"@"+p.SourceVersion)
		}
		if got := strings.Join(names, " "); got != "app=app@1.0 libapparmor1=apparmor@3.0.11-1 libc6=glibc@2.41-12 libsope1=sope@5.12.1-1 spartan-rootfs=spartan-rootfs@0~test" {
			t.Fatalf("packages %s", got)
		}
		rep, err := Scan(db, inv)
		must(t, err)
		var got []string
		for _, f := range rep.Findings {
			got = append(got, f.Package+" "+f.CVE+" "+f.FixedVersion+" "+f.Status)
		}
		want := []string{
			// Tracker: apparmor CVE-2016-1585 trixie resolved in 3.0.12-1 (CVE-2014-1424 is
			// "0", CVE-2017-6507 fixed in 2.11.0-3, older than what is installed).
			"libapparmor1 CVE-2016-1585 3.0.12-1 fix available",
			// Tracker: sope CVE-2025-53603 trixie resolved in 5.12.1-2.
			"libsope1 CVE-2025-53603 5.12.1-2 fix available",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s findings:\n%s\nwant:\n%s", target, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// A docker archive re-encodes the manifest (docker media types), so only the layout keeps the digest.
		if target == dir && inv.Digest != out.Images[0].Digest {
			t.Errorf("digest %s, want %s", inv.Digest, out.Images[0].Digest)
		}
		var sarif bytes.Buffer
		must(t, rep.WriteSARIF(&sarif, "test"))
		var log struct {
			Version string `json:"version"`
			Runs    []struct {
				Tool struct {
					Driver struct {
						Rules []struct{ ID string } `json:"rules"`
					} `json:"driver"`
				} `json:"tool"`
				Results []struct {
					RuleID    string `json:"ruleId"`
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		must(t, json.Unmarshal(sarif.Bytes(), &log))
		if log.Version != "2.1.0" || len(log.Runs[0].Results) != 2 || len(log.Runs[0].Tool.Driver.Rules) != 2 ||
			log.Runs[0].Results[1].Locations[0].PhysicalLocation.ArtifactLocation.URI != "var/lib/dpkg/status.d/libsope1" {
			t.Errorf("SARIF:\n%s", sarif.String())
		}
	}
}

// TestFindingPublished: a finding carries its CVE's publication date, which spartan timeline
// measures exposure from. The tracker feed has none; an OSV record (here a synthetic one for
// the tracker's sope CVE, through the real OSV import) adds it to the tracker's record.
func TestFindingPublished(t *testing.T) {
	out := buildImage(t)
	dir := filepath.Join(t.TempDir(), "layout")
	must(t, oci.WriteLayout(dir, out.Artifact(), "example/app:1"))
	feed := mergedFeed(t, "../vuln/testdata/tracker/vunnel_debian.json", "../vuln/testdata/statuses.json")
	path := filepath.Join(t.TempDir(), "vuln.db")
	_, err := vuln.ImportTracker(path, bytes.NewReader(feed), vuln.Meta{URL: "test"}, testNow)
	must(t, err)
	osv := t.TempDir()
	must(t, os.WriteFile(filepath.Join(osv, "DEBIAN-CVE-2025-53603.json"), []byte(`{"id": "DEBIAN-CVE-2025-53603",
		"published": "2025-07-10T12:00:00Z", "summary": "sope: NULL pointer dereference",
		"affected": [{"package": {"ecosystem": "Debian:13", "name": "sope"},
			"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.12.1-2"}]}]}]}`), 0o644))
	_, err = vuln.ImportOSV(path, osv, testNow)
	must(t, err)
	db, err := vuln.Open(path)
	must(t, err)
	defer db.Close()
	inv, err := loadImage(t, dir)
	must(t, err)
	rep, err := Scan(db, inv)
	must(t, err)
	found := false
	for _, f := range rep.Findings {
		if f.CVE == "CVE-2025-53603" {
			found = true
			if f.Published != "2025-07-10T12:00:00Z" {
				t.Errorf("published %q", f.Published)
			}
		}
	}
	if !found {
		t.Fatalf("no sope finding: %+v", rep.Findings)
	}
}

// TestInventoryDpkgStatus reads a general-purpose Debian image's layout: /etc/os-release as a
// symlink, one /var/lib/dpkg/status with removed packages among the installed ones.
func TestInventoryDpkgStatus(t *testing.T) {
	status := `Package: libssl3t64
Status: install ok installed
Architecture: amd64
Source: openssl (3.5.1-1)
Version: 3.5.1-1+b1

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.37-2
`
	inv, err := fromFiles(t, "general",
		tarFile{name: "etc/os-release", link: "../usr/lib/os-release"},
		tarFile{name: "usr/lib/os-release", body: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"},
		tarFile{name: "var/lib/dpkg/status", body: status},
		tarFile{name: "var/lib/dpkg/status-old", body: "Package: ghost\nVersion: 1\n"},
	)
	must(t, err)
	if inv.Release != "bookworm" {
		t.Errorf("release %q", inv.Release)
	}
	if len(inv.Packages) != 2 || inv.Packages[0].Name != "bash" || inv.Packages[1].Source != "openssl" || inv.Packages[1].SourceVersion != "3.5.1-1" {
		t.Errorf("packages %+v", inv.Packages)
	}
}

func TestInventoryRefuses(t *testing.T) {
	tests := map[string][]tarFile{
		"no os-release": {{name: "var/lib/dpkg/status", body: "Package: a\nVersion: 1\n"}},
		"not debian":    {{name: "etc/os-release", body: "ID=ubuntu\nVERSION_ID=24.04\nVERSION_CODENAME=noble\n"}, {name: "var/lib/dpkg/status", body: "Package: a\nVersion: 1\n"}},
		"no packages":   {{name: "etc/os-release", body: "ID=debian\nVERSION_ID=13\n"}},
	}
	for name, files := range tests {
		if _, err := fromFiles(t, name, files...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFromSBOM(t *testing.T) {
	tests := []struct {
		file    string
		release string
		pkgs    string
		cut     string
	}{
		{"testdata/spartan.spdx.json", "trixie", "libsope1=sope@5.12.1-1 libssl3t64=openssl@3.5.1-1", "bash"},
		{"testdata/syft.spdx.json", "bookworm", "libssl3=openssl@3.0.15-1~deb12u1 zlib1g=zlib@1:1.2.13.dfsg-1", ""},
		{"testdata/spartan.cdx.json", "trixie", "libsope1=sope@5.12.1-1 libssl3t64=openssl@3.5.1-1", "bash,perl-base"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.file)
		must(t, err)
		inv, err := FromSBOM(data, tt.file)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		var got []string
		for _, p := range inv.Packages {
			got = append(got, p.Name+"="+p.Source+"@"+p.SourceVersion)
		}
		if inv.Release != tt.release || strings.Join(got, " ") != tt.pkgs || strings.Join(inv.Cut, ",") != tt.cut {
			t.Errorf("%s: release %s packages %s cut %v", tt.file, inv.Release, strings.Join(got, " "), inv.Cut)
		}
	}
	if _, err := FromSBOM([]byte(`{"spdxVersion":"SPDX-2.3","packages":[]}`), "empty"); err == nil {
		t.Error("empty SBOM accepted")
	}
}

// TestReadSBOMFile: JSON files are SBOMs or errors; anything else is left to imagesource.
func TestReadSBOMFile(t *testing.T) {
	dir := t.TempDir()
	notSBOM := filepath.Join(dir, "config.json")
	must(t, os.WriteFile(notSBOM, []byte(`  {"architecture": "amd64"}`), 0o644))
	tarFile := filepath.Join(dir, "image.tar")
	must(t, os.WriteFile(tarFile, []byte("ustar"), 0o644))
	tests := []struct {
		target   string
		isSBOM   bool
		packages int
		err      string
	}{
		{"testdata/spartan.spdx.json", true, 2, ""},
		{"testdata/spartan.cdx.json", true, 2, ""},
		{notSBOM, true, 0, "neither an SPDX nor a CycloneDX SBOM"},
		{tarFile, false, 0, ""},
		{dir, false, 0, ""},
		{"registry.example/x:1", false, 0, ""},
	}
	for _, tt := range tests {
		inv, isSBOM, err := ReadSBOMFile(tt.target)
		switch {
		case isSBOM != tt.isSBOM:
			t.Errorf("%s: isSBOM %v", tt.target, isSBOM)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: err %v, want %q", tt.target, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.target, err)
		case tt.packages > 0 && (inv == nil || len(inv.Packages) != tt.packages):
			t.Errorf("%s: %v", tt.target, inv)
		}
	}
}

// BenchmarkScanImage scans a built image against a database holding a GENERATED feed of about
// 17 MB (1500 source packages, ~90,000 records) plus the real excerpts: the time of one
// `spartan scan` minus process start, with the database already on disk.
func BenchmarkScanImage(b *testing.B) {
	out := buildImage(b)
	dir := filepath.Join(b.TempDir(), "layout")
	must(b, oci.WriteLayout(dir, out.Artifact(), "example/app:1"))
	var feed bytes.Buffer
	must(b, vuln.GenerateFeed(&feed, 1500, 1))
	path := filepath.Join(b.TempDir(), "vuln.db")
	_, err := vuln.ImportTracker(path, &feed, vuln.Meta{URL: "generated"}, testNow)
	must(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db, err := vuln.Open(path)
		must(b, err)
		inv, err := loadImage(b, dir)
		must(b, err)
		if _, err := Scan(db, inv); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
