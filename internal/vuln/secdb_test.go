package vuln

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secdbDir = "testdata/alpine-secdb"

func secdbFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(secdbDir, "*.*"))
	if len(files) != 5 {
		t.Fatalf("secdb testdata: %v", files)
	}
	return files
}

// The real secdb excerpts (YAML of v3.11, JSON of v3.2/v3.16/edge) import, and lookups by
// branch and package give the fixed versions.
func TestImportRealSecDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "vuln.db")
	m, skipped, err := ImportSecDB(db, secdbFiles(t), time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0], `python2: fixed version "2.7.16-33"`) || !strings.Contains(skipped[1], `xen: fixed version "4.10-1-r1"`) {
		t.Errorf("skipped %v", skipped)
	}
	if m.Source != SourceAlpineSecDB || m.Records == 0 || m.Packages == 0 {
		t.Errorf("meta %+v", m)
	}
	d, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	recs, err := d.Lookup("alpine-v3.16", "apache2")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.CVE+"@"+r.FixedVersion)
	}
	if strings.Join(got, " ") != "CVE-2017-9798@2.4.27-r1 CVE-2018-11763@2.4.35-r0" {
		t.Errorf("v3.16 apache2: %v", got)
	}
	recs, err = d.Lookup("alpine-v3.11", "ansible")
	if err != nil || len(recs) < 10 {
		t.Errorf("v3.11 ansible: %d records, %v", len(recs), err)
	}
}

func TestParseSecDBErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`{"distroversion": "bookworm", "packages": []}`, "not an Alpine branch"},
		{`{"distroversion": "v3.22", "packages": [{"pkg": {"secfixes": {}}}]}`, "without a name"},
		{`[`, "secdb f.json"},
	} {
		_, _, err := ParseSecDB([]byte(tc.text), "f.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.text, err, tc.want)
		}
	}
	recs, _, err := ParseSecDB([]byte(`{"distroversion": "v3.22", "packages": [{"pkg": {"name": "x", "secfixes": {"0": ["CVE-2020-0001"], "1.2-r1": ["CVE-2020-0002 GHSA-xxxx", "XSA-1"]}}}]}`), "f.json")
	if err != nil || len(recs) != 2 || !recs[0].NeverAffected() || recs[1].CVE != "CVE-2020-0002" || recs[1].Release != "alpine-v3.22" {
		t.Errorf("records %+v, %v", recs, err)
	}
}
