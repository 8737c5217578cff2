package audit

import (
	"errors"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/vuln"
)

const trixieOSRelease = "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n"

// debianImage is cleanBase with os-release (as Debian ships it: a symlink into /usr/lib) and
// a second binary package of the python3.13 source.
func debianImage(t *testing.T) []file {
	return append(cleanBase(),
		reg("usr/lib/os-release", 0o644, trixieOSRelease),
		symlink("etc/os-release", "../usr/lib/os-release"),
		reg("var/lib/dpkg/status.d/libpython3.13-minimal", 0o644, "Package: libpython3.13-minimal\nSource: python3.13\nVersion: 3.13.5-2\nArchitecture: amd64\n"),
		reg("var/lib/dpkg/status.d/libpython3.13-minimal.md5sums", 0o644, "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x\n"),
	)
}

func auditWith(t *testing.T, layers []file, o Options) (*Report, *Image) {
	t.Helper()
	img := testImage(t, nonroot, nil, layers)
	im, err := Read(&Target{Name: "test", Kind: KindMemory, Image: img}, o)
	if err != nil {
		t.Fatal(err)
	}
	return Run(im), im
}

func vulnFindings(r *Report) map[string]Finding {
	out := map[string]Finding{}
	for _, f := range r.Findings {
		if f.ID == "SPT-0009" && f.Level != Pass {
			cve, _, _ := strings.Cut(f.Message, ",")
			out[cve] = f
		}
	}
	return out
}

func TestVulnerabilityCheck(t *testing.T) {
	db := testkit.TrackerDB(t, "testdata/tracker.json")
	tests := []struct {
		level string
		want  map[string]Level // CVE → level; every other CVE must be absent
	}{
		{"", map[string]Level{"CVE-2099-1001": Warn, "CVE-2099-1002": Info, "CVE-2099-1005": Info}},
		{"high", map[string]Level{"CVE-2099-1001": Warn, "CVE-2099-1002": Info, "CVE-2099-1005": Info}},
		{"medium", map[string]Level{"CVE-2099-1001": Warn, "CVE-2099-1002": Info, "CVE-2099-1003": Warn, "CVE-2099-1005": Info}},
		{"low", map[string]Level{"CVE-2099-1001": Warn, "CVE-2099-1002": Info, "CVE-2099-1003": Warn, "CVE-2099-1005": Info, "CVE-2099-1006": Info}},
		{"critical", map[string]Level{}},
	}
	for _, tt := range tests {
		t.Run("level "+tt.level, func(t *testing.T) {
			r, _ := auditWith(t, debianImage(t), Options{Vulns: db, CVELevel: tt.level})
			got := vulnFindings(r)
			for cve, lv := range tt.want {
				f, ok := got[cve]
				if !ok {
					t.Errorf("no SPT-0009 finding for %s:\n%s", cve, dump(r))
					continue
				}
				if f.Level != lv {
					t.Errorf("%s: level %s, want %s", cve, f.Level, lv)
				}
				// One finding per CVE, at the first binary package, naming the others.
				if f.Path != "libpython3.13-minimal=3.13.5-2" || !strings.Contains(f.Message, "also in python3.13=3.13.5-2") {
					t.Errorf("%s: path %q message %q: want the package=version and the other package", cve, f.Path, f.Message)
				}
			}
			for cve := range got {
				if _, ok := tt.want[cve]; !ok {
					t.Errorf("unexpected SPT-0009 finding for %s: %+v", cve, got[cve])
				}
			}
			if len(tt.want) == 0 && !has(r, "SPT-0009", "", Pass) {
				t.Errorf("want a PASS for SPT-0009:\n%s", dump(r))
			}
		})
	}
}

func TestVulnerabilityMessages(t *testing.T) {
	r, _ := auditWith(t, debianImage(t), Options{Vulns: testkit.TrackerDB(t, "testdata/tracker.json")})
	got := vulnFindings(r)
	for cve, want := range map[string][]string{
		"CVE-2099-1001": {"severity high", "fix available", "fixed version 3.13.5-2+deb13u1", "rebuild"},
		"CVE-2099-1002": {"severity high", "no fix yet", "fixed version none"},
		"CVE-2099-1005": {"severity high", "won't fix: ignored"},
	} {
		for _, w := range want {
			if !strings.Contains(got[cve].Message, w) {
				t.Errorf("%s: message %q lacks %q", cve, got[cve].Message, w)
			}
		}
	}
	if strings.Contains(got["CVE-2099-1002"].Message, "rebuild") {
		t.Error("a CVE without a fix must not ask for a rebuild")
	}
}

func TestVulnerabilityCheckSkipped(t *testing.T) {
	skipReason := func(r *Report) string {
		for _, s := range r.Skipped {
			if s.ID == "SPT-0009" {
				return s.Reason
			}
		}
		return ""
	}
	t.Run("no database", func(t *testing.T) {
		r, im := auditWith(t, debianImage(t), Options{})
		if got := skipReason(r); got != "no vulnerability database: run spartan db update or spartan db import" {
			t.Errorf("skip reason %q\n%s", got, dump(r))
		}
		if im.Vulns != nil || len(vulnFindings(r)) != 0 {
			t.Error("scanned without a database")
		}
		// The plain entry points skip it too.
		if r := audit(t, testImage(t, nonroot, nil, debianImage(t))); skipReason(r) == "" {
			t.Error("Run without options did not skip SPT-0009")
		}
	})
	t.Run("not a Debian image", func(t *testing.T) {
		layers := append(cleanBase(), reg("etc/os-release", 0o644, "ID=alpine\nVERSION_ID=3.22.0\n"))
		r, _ := auditWith(t, layers, Options{Vulns: testkit.TrackerDB(t, "testdata/tracker.json")})
		if got := skipReason(r); !strings.Contains(got, "alpine") {
			t.Errorf("skip reason %q, want the scanner's reason", got)
		}
	})
	t.Run("no os-release", func(t *testing.T) {
		r, _ := auditWith(t, cleanBase(), Options{Vulns: testkit.TrackerDB(t, "testdata/tracker.json")})
		if got := skipReason(r); !strings.Contains(got, "os-release") {
			t.Errorf("skip reason %q", got)
		}
	})
}

// failingDB is a database whose lookups fail, as a damaged file would.
type failingDB struct{}

func (failingDB) Lookup(string, string) ([]vuln.Record, error) {
	return nil, errors.New("bucket damaged")
}

func TestVulnerabilityErrors(t *testing.T) {
	img := testImage(t, nonroot, nil, debianImage(t))
	if _, err := Read(&Target{Name: "x", Kind: KindMemory, Image: img}, Options{Vulns: failingDB{}}); err == nil || !strings.Contains(err.Error(), "bucket damaged") {
		t.Errorf("lookup failure: err = %v", err)
	}
	if _, err := Read(&Target{Name: "x", Kind: KindMemory, Image: img}, Options{CVELevel: "severe"}); err == nil {
		t.Error("accepted --cve-level severe")
	}
}

func TestVulnerabilityIgnore(t *testing.T) {
	r, _ := auditWith(t, debianImage(t), Options{Vulns: testkit.TrackerDB(t, "testdata/tracker.json")})
	ig, err := ParseIgnore("ignore", strings.NewReader("SPT-0009:libpython3.13-minimal=*\n"))
	if err != nil {
		t.Fatal(err)
	}
	ig.Apply(r)
	if n := len(vulnFindings(r)); n != 0 || r.Ignored != 3 {
		t.Errorf("after ignoring: %d findings, %d ignored", n, r.Ignored)
	}
}
