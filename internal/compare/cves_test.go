package compare

import (
	"archive/tar"
	"bytes"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/testkit"
)

// trixiePython is a Debian trixie image with python3.13 (and libpython3.13-minimal, the same
// source) at a version.
func trixiePython(t *testing.T, user, version string) v1.Image {
	return imageOf(t, user, []ent{
		{name: "usr/lib/os-release", typ: tar.TypeReg, mode: 0o644, body: "ID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n"},
		{name: "etc/os-release", typ: tar.TypeSymlink, mode: 0o777, link: "../usr/lib/os-release"},
		{name: "var/lib/dpkg/status.d/python3.13", typ: tar.TypeReg, mode: 0o644, body: "Package: python3.13\nVersion: " + version + "\n"},
		{name: "var/lib/dpkg/status.d/libpython3.13-minimal", typ: tar.TypeReg, mode: 0o644, body: "Package: libpython3.13-minimal\nSource: python3.13\nVersion: " + version + "\n"},
	})
}

func TestCVERows(t *testing.T) {
	db := testkit.TrackerDB(t, "../audit/testdata/tracker.json")
	measure := func(name string, img v1.Image, o audit.Options) *Metrics {
		t.Helper()
		m, _, err := MeasureTarget(name, &audit.Target{Name: name, Kind: audit.KindMemory, Image: img}, o)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	stale := trixiePython(t, "", "3.13.5-2")
	fresh := trixiePython(t, "65532", "3.13.5-2+deb13u1")

	o := audit.Options{Vulns: db}
	d := Compare(measure("stale", stale, o), measure("fresh", fresh, o))
	// stale: high 1001 1002 1005, medium 1003, low 1006; fresh: the update fixed 1001 and 1003.
	// Each CVE counts once although two packages of its source carry it.
	want := map[string][2]int{"critical": {0, 0}, "high": {3, 2}, "medium": {1, 0}, "low": {1, 1}, "unimportant/unknown": {0, 0}}
	for b, w := range want {
		if got := [2]int{d.A.CVEs[b], d.B.CVEs[b]}; got != w {
			t.Errorf("CVEs (%s) = %v, want %v", b, got, w)
		}
	}

	var txt, md, page bytes.Buffer
	for _, err := range []error{d.WriteText(&txt), d.WriteMarkdown(&md), d.WriteHTML(&page, "stale vs fresh")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !regexp.MustCompile(`CVEs \(high\)\s+3\s+2\s+-1`).MatchString(txt.String()) ||
		!regexp.MustCompile(`CVEs \(unimportant/unknown\)\s+0\s+0\s+=`).MatchString(txt.String()) {
		t.Errorf("text table lacks the CVE rows:\n%s", txt.String())
	}
	for _, w := range []string{"| CVEs (critical) | 0 | 0 | = |", "| CVEs (high) | 3 | 2 | -1 |", "| CVEs (medium) | 1 | 0 | -1 |", "| CVEs (low) | 1 | 1 | = |"} {
		if !strings.Contains(md.String(), w) {
			t.Errorf("markdown lacks %q:\n%s", w, md.String())
		}
	}
	if !strings.Contains(page.String(), `aria-label="CVEs (high): 3 vs 2"`) || !strings.Contains(page.String(), "<td>CVEs (medium)</td><td>1</td><td>0</td>") {
		t.Errorf("HTML lacks the CVE chart or row")
	}
	// The audit counts include SPT-0009: stale has a fixable high CVE (WARN), fresh none.
	if d.A.Audit[audit.Warn] <= d.B.Audit[audit.Warn] {
		t.Errorf("audit WARN: stale %d, fresh %d", d.A.Audit[audit.Warn], d.B.Audit[audit.Warn])
	}

	t.Run("without a database", func(t *testing.T) {
		d := Compare(measure("stale", stale, audit.Options{}), measure("fresh", fresh, audit.Options{}))
		var txt bytes.Buffer
		if err := d.WriteText(&txt); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(txt.String(), "CVEs") {
			t.Errorf("CVE rows without a database:\n%s", txt.String())
		}
	})
	t.Run("one image not scannable", func(t *testing.T) {
		// spartan(t) has no os-release: a missing count must not read as zero CVEs.
		d := Compare(measure("stale", stale, o), measure("no os-release", spartan(t), o))
		for _, r := range d.Rows() {
			if strings.HasPrefix(r.Measure, "CVEs") {
				t.Errorf("row %q with one image unscanned", r.Measure)
			}
		}
	})
}
