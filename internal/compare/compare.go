// Package compare measures two images side by side — packages, sizes, layers, files,
// executables, shells, package managers, setuid files, CVEs by severity, audit results — and
// renders the difference as a text table, Markdown or a self-contained HTML page.
package compare

import (
	"fmt"
	"slices"

	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
	"github.com/spartan-images/spartan/internal/scan"
)

// Metrics are what compare reports about one image.
type Metrics struct {
	Name             string
	Packages         map[string]string // name → version, from the package database
	CompressedSize   int64             // sum of the layers as stored (what a pull downloads)
	UncompressedSize int64             // sum of the layers' tar bytes
	Layers           int
	Files            int // regular files
	Executables      int // regular files with any x bit
	Shells           []string
	PackageManagers  []string
	Setuid           []string // setuid or setgid files
	Audit            map[audit.Level]int
	// CVEs counts the distinct CVEs present, by severity bucket (CVEBuckets); nil when the
	// image was not scanned (no database, or not a Debian image).
	CVEs map[string]int
}

// CVEBuckets are the severities compare reports, most severe first. Debian's tracker rates no
// CVE critical, other sources do; unimportant and not-yet-assigned CVEs share the last row.
var CVEBuckets = []string{"critical", "high", "medium", "low", "unimportant/unknown"}

// CVECounts counts each CVE once, at the highest severity any of its findings has (a CVE in
// two source packages may be rated differently for each).
func CVECounts(rep *scan.Report) map[string]int {
	rank := map[string]int{"unimportant": 4, "unknown": 4, "low": 3, "medium": 2, "high": 1, "critical": 0}
	worst := map[string]int{}
	for _, f := range rep.Findings {
		r, ok := rank[f.Severity]
		if !ok {
			r = 4
		}
		if w, seen := worst[f.CVE]; !seen || r < w {
			worst[f.CVE] = r
		}
	}
	out := make(map[string]int, len(CVEBuckets))
	for _, b := range CVEBuckets {
		out[b] = 0
	}
	for _, r := range worst {
		out[CVEBuckets[r]]++
	}
	return out
}

// Measure reads an image's metrics; rep is its audit report.
func Measure(name string, im *audit.Image, rep *audit.Report) *Metrics {
	m := &Metrics{Name: name, Packages: packages(im.Installed), Layers: len(im.Layers), Audit: rep.Counts()}
	if im.Vulns != nil {
		m.CVEs = CVECounts(im.Vulns)
	}
	for _, l := range im.Layers {
		m.CompressedSize += l.Size
		m.UncompressedSize += l.UncompressedSize
	}
	im.FS.Walk(func(e *rootfs.File) {
		if !e.IsRegular() {
			return
		}
		m.Files++
		if e.Mode&0o111 != 0 {
			m.Executables++
		}
		if e.Mode&0o6000 != 0 {
			m.Setuid = append(m.Setuid, e.Path)
		}
	})
	for _, e := range audit.Binaries(im.FS, audit.MatchShell) {
		m.Shells = append(m.Shells, e.Path)
	}
	for _, e := range audit.Binaries(im.FS, audit.MatchPackageManager) {
		m.PackageManagers = append(m.PackageManagers, e.Path)
	}
	return m
}

// packages maps the installed packages' names to versions.
func packages(inv *inventory.Inventory) map[string]string {
	out := map[string]string{}
	if inv == nil {
		return out
	}
	for _, p := range inv.Packages {
		out[p.Name] = p.Version
	}
	return out
}

// Diff is the comparison of two images, A (usually the general-purpose one) and B.
type Diff struct {
	A, B    *Metrics
	Added   []string // packages in B, not in A
	Removed []string // packages in A, not in B
}

// Compare lines two measured images up.
func Compare(a, b *Metrics) *Diff {
	d := &Diff{A: a, B: b}
	for n := range b.Packages {
		if _, ok := a.Packages[n]; !ok {
			d.Added = append(d.Added, n)
		}
	}
	for n := range a.Packages {
		if _, ok := b.Packages[n]; !ok {
			d.Removed = append(d.Removed, n)
		}
	}
	slices.Sort(d.Added)
	slices.Sort(d.Removed)
	return d
}

// Row is one measure of the comparison, with numbers for charts.
type Row struct {
	Measure string
	A, B    int64
	Bytes   bool // render as a size
	// Pct: the change reads as a percentage; small counts (layers, shells) read better as a
	// difference.
	Pct bool
}

// Rows are the measures in report order.
func (d *Diff) Rows() []Row {
	row := func(m string, f func(*Metrics) int64) Row { return Row{Measure: m, A: f(d.A), B: f(d.B)} }
	pct := func(r Row) Row { r.Pct = true; return r }
	rows := []Row{
		pct(row("packages", func(m *Metrics) int64 { return int64(len(m.Packages)) })),
		{Measure: "size compressed", A: d.A.CompressedSize, B: d.B.CompressedSize, Bytes: true, Pct: true},
		{Measure: "size uncompressed", A: d.A.UncompressedSize, B: d.B.UncompressedSize, Bytes: true, Pct: true},
		row("layers", func(m *Metrics) int64 { return int64(m.Layers) }),
		pct(row("files", func(m *Metrics) int64 { return int64(m.Files) })),
		pct(row("executables", func(m *Metrics) int64 { return int64(m.Executables) })),
		row("shells", func(m *Metrics) int64 { return int64(len(m.Shells)) }),
		row("package managers", func(m *Metrics) int64 { return int64(len(m.PackageManagers)) }),
		row("setuid/setgid files", func(m *Metrics) int64 { return int64(len(m.Setuid)) }),
	}
	// Only when both were scanned: a missing count is not a zero.
	if d.A.CVEs != nil && d.B.CVEs != nil {
		for _, b := range CVEBuckets {
			rows = append(rows, row("CVEs ("+b+")", func(m *Metrics) int64 { return int64(m.CVEs[b]) }))
		}
	}
	for _, l := range []audit.Level{audit.Fatal, audit.Warn, audit.Info} {
		rows = append(rows, row("audit "+l.String(), func(m *Metrics) int64 { return int64(m.Audit[l]) }))
	}
	return rows
}

// MeasureTarget audits and measures one loaded image; o carries the vulnerability database
// for the CVE rows.
func MeasureTarget(name string, t *audit.Target, o audit.Options) (*Metrics, *audit.Report, error) {
	im, err := audit.Read(t, o)
	if err != nil {
		return nil, nil, err
	}
	if im.InstalledErr != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, im.InstalledErr)
	}
	rep := audit.Run(im)
	return Measure(name, im, rep), rep, nil
}
