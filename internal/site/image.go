package site

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/chart"
	"github.com/spartan-images/spartan/internal/compare"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/sbom"
	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/vex"
	"github.com/spartan-images/spartan/internal/vuln"
)

// image is what the site knows about one entry; the zero value of a part means unknown, and
// the matching note says why.
type image struct {
	Entry
	Slug string

	LockNote     string
	LockPackages int
	LockDate     *time.Time // the newest InRelease Date the lock was resolved against

	BuiltNote   string // why there is no image ("" when there is one)
	Digest      string // the platform image's manifest digest
	IndexDigest string // the index's, for a multi-arch image
	Platforms   []string
	Compressed  int64
	Created     time.Time
	Release     string // Debian codename
	VersionID   string
	Packages    []sbom.Package
	sbomInv     *sbom.Inventory

	ScanNote string // why the image was not scanned
	Scan     *scan.Report
	CVEs     map[string]int // distinct CVEs by compare.CVEBuckets; nil when not scanned

	Docs []document
	// Unattested says why no signed attestation was read ("" when some were).
	Unattested string

	TimelineNote string
	Report       timeline.Report
	LastRebuild  *time.Time
	Pushes       latency // fix seen → pushed
	Rebuilds     latency // fix seen → rebuilt
	Counts       []chart.Point
	rebuilds     []timeline.Event // Rebuilt events of this image, in order

	Diff         *compare.Diff
	BaselineNote string
}

// latency is a percentile summary over the fixes that have both times.
type latency struct {
	N           int
	Median, P95 time.Duration
}

// document is a file published next to the image page.
type document struct {
	Kind   string // "SBOM (SPDX 2.3)"…
	File   string // relative to the site root; "" when missing
	Source string // "signed attestation", "generated from the image"…
	Note   string // why it is missing
	body   []byte
}

func read(ctx context.Context, e Entry, o Options) (*image, error) {
	im := &image{Entry: e, Slug: e.Slug()}
	im.readLock()
	if err := im.readImage(ctx, o); err != nil {
		return nil, err
	}
	im.readTimeline(o)
	return im, nil
}

func (im *image) readLock() {
	if im.Spec == nil {
		im.LockNote = "no spec"
		return
	}
	path := build.LockPath(im.Spec)
	l, err := build.ReadLock(path, im.Spec, build.LockTolerant)
	switch {
	case err != nil:
		im.LockNote = err.Error()
	case l == nil:
		im.LockNote = "no lock file (" + lockName(path) + "): the versions are resolved at each build; `spartan lock` pins them"
	default:
		for _, a := range l.Archs {
			im.LockPackages = max(im.LockPackages, len(a.Packages))
			for _, r := range a.Releases {
				if im.LockDate == nil || r.Date.After(*im.LockDate) {
					d := r.Date.UTC()
					im.LockDate = &d
				}
			}
		}
	}
}

func lockName(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	return path[i+1:]
}

func (im *image) readImage(ctx context.Context, o Options) error {
	if im.Image == "" {
		im.BuiltNote = "not built: no image for " + im.Name + " was given"
		im.ScanNote = im.BuiltNote
		return nil
	}
	src, err := o.Open(ctx, im.Image)
	if err != nil {
		return fmt.Errorf("site: %s: %w", im.Name, err)
	}
	defer src.Close()
	img, _, err := src.Image(o.Arch)
	if err != nil {
		return fmt.Errorf("site: %s: %w", im.Name, err)
	}
	d, err := img.Digest()
	if err != nil {
		return fmt.Errorf("site: %s: %w", im.Name, err)
	}
	im.Digest = d.String()
	if im.Platforms, err = platforms(src, img); err != nil {
		return fmt.Errorf("site: %s: %w", im.Name, err)
	}
	if src.Digest != im.Digest {
		im.IndexDigest = src.Digest
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("site: %s: %w", im.Name, err)
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return fmt.Errorf("site: %s: %w", im.Name, err)
		}
		im.Compressed += n
	}
	if im.sbomInv, err = sbom.Read(img); err != nil {
		return fmt.Errorf("site: %s: %w", im.Name, err)
	}
	im.Packages, im.Created = im.sbomInv.Packages, im.sbomInv.Created.UTC()
	im.Release, im.VersionID = im.sbomInv.OS.Codename, im.sbomInv.OS.VersionID

	var matches []scan.Match
	var inv *scan.Inventory
	switch {
	case o.DB == nil:
		im.ScanNote = "no vulnerability database was given (spartan db update, then --db)"
	default:
		// The SBOM's reading of the image is the scan's too: one pass over the layers.
		installed := &inventory.Inventory{OS: im.sbomInv.OS}
		for _, p := range im.sbomInv.Packages {
			installed.Packages = append(installed.Packages, p.Package)
		}
		if inv, err = scan.FromInstalled(installed, im.Name); err != nil {
			im.ScanNote = "not scanned: " + err.Error()
			break
		}
		inv.Digest = im.Digest
		if im.Scan, err = scan.Scan(o.DB, inv); err != nil {
			return fmt.Errorf("site: scan %s: %w", im.Name, err)
		}
		im.CVEs, matches = compare.CVECounts(im.Scan), im.Scan.Matches
	}
	if err := im.readDocuments(ctx, src, img, inv, matches, o); err != nil {
		return err
	}
	return im.compareBaseline(ctx, src, img, o)
}

func platforms(src *imagesource.Source, img v1.Image) ([]string, error) {
	if idx, ok := src.Artifact.(v1.ImageIndex); ok {
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		var out []string
		for _, d := range m.Manifests {
			if d.Platform != nil && d.Platform.OS != "unknown" {
				out = append(out, d.Platform.String())
			}
		}
		sort.Strings(out)
		return slices.Compact(out), nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	p := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	return []string{p.String()}, nil
}

// readDocuments collects the SBOMs, provenance and OpenVEX: the signed attestations when the
// image carries them and a key checks them, else what can be made from the image and the
// database; provenance cannot be made after the fact, so without an attestation it is missing.
func (im *image) readDocuments(ctx context.Context, src *imagesource.Source, img v1.Image, inv *scan.Inventory, matches []scan.Match, o Options) error {
	attested := map[string]sign.Verified{}
	why := ""
	switch {
	case o.Key == nil:
		why = "no public key was given to check attestations"
	default:
		t, err := src.Target()
		if err != nil {
			why = "the image is a " + string(src.Kind) + ", which carries no attestations"
			break
		}
		atts, rejected, err := sign.VerifyAttestations(ctx, t.Store, o.Key, im.Digest)
		if err != nil {
			return fmt.Errorf("site: %s: %w", im.Name, err)
		}
		for _, a := range atts {
			if _, ok := attested[a.PredicateType]; !ok {
				attested[a.PredicateType] = a
			}
		}
		if len(atts) == 0 {
			why = "no attestation signed by this key" + sign.RejectedNote(rejected)
		}
	}
	predicate := func(v sign.Verified) ([]byte, error) {
		var st struct {
			Predicate json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(v.Raw, &st); err != nil {
			return nil, fmt.Errorf("site: %s: attestation %s: %w", im.Name, v.PredicateType, err)
		}
		return indent(st.Predicate)
	}
	im.Unattested = why
	base := "images/" + im.Slug + "/"
	for _, f := range []struct {
		kind, file, predicate string
		format                sbom.Format
	}{
		{"SBOM (SPDX 2.3)", "sbom.spdx.json", attest.PredicateSPDX, sbom.SPDX},
		{"SBOM (CycloneDX 1.6)", "sbom.cdx.json", attest.PredicateCycloneDX, sbom.CycloneDX},
	} {
		doc := document{Kind: f.kind, File: base + f.file}
		if v, ok := attested[f.predicate]; ok {
			body, err := predicate(v)
			if err != nil {
				return err
			}
			doc.Source, doc.body = "signed attestation", body
		} else {
			body, err := sbom.Write(im.sbomInv, f.format, sbom.Options{Name: im.refName(), ToolVersion: o.Version})
			if err != nil {
				return fmt.Errorf("site: %s: %w", im.Name, err)
			}
			doc.Source, doc.body = "generated from the image by spartan site ("+why+")", body
		}
		im.Docs = append(im.Docs, doc)
	}
	prov := document{Kind: "SLSA provenance (in-toto statement)"}
	if v, ok := attested[attest.PredicateSLSA]; ok {
		body, err := indent(v.Raw)
		if err != nil {
			return fmt.Errorf("site: %s: provenance: %w", im.Name, err)
		}
		prov.File, prov.Source, prov.body = base+"provenance.json", "signed attestation", body
	} else {
		prov.Note = "missing: provenance is written when the image is built and signed, and " + why
	}
	im.Docs = append(im.Docs, prov)

	vx := document{Kind: "OpenVEX"}
	switch v, ok := attested[vex.Context]; {
	case o.DB != nil && inv != nil:
		var cuts []string
		if im.Spec != nil {
			if l, err := build.ReadLock(build.LockPath(im.Spec), im.Spec, build.LockTolerant); err == nil && l != nil {
				cuts = lockCuts(l)
			}
		}
		d, err := vex.Build(o.DB, inv, matches, vex.Options{Author: "spartan", Timestamp: o.Time, Tooling: "spartan " + o.Version, Cut: cuts})
		if err != nil {
			return fmt.Errorf("site: %s: %w", im.Name, err)
		}
		body, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return err
		}
		vx.File, vx.Source, vx.body = base+"openvex.json", "generated from the vulnerability database "+filepath.Base(o.DBFile), append(body, '\n')
	case ok:
		body, err := predicate(v)
		if err != nil {
			return err
		}
		vx.File, vx.Source, vx.body = base+"openvex.json", "signed attestation (the database it was made from, not the current one)", body
	case im.ScanNote != "":
		vx.Note = "missing: " + im.ScanNote
	default:
		vx.Note = "missing: no vulnerability database and no signed OpenVEX attestation"
	}
	im.Docs = append(im.Docs, vx)
	return nil
}

func lockCuts(l *build.Lock) []string {
	var out []string
	for _, a := range l.Archs {
		for _, c := range a.Cuts {
			if c.To != "" && !slices.Contains(out, c.To) {
				out = append(out, c.To)
			}
		}
	}
	sort.Strings(out)
	return out
}

func indent(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

// refName is how users pull the image: its first tag.
func (im *image) refName() string {
	if im.Spec != nil && len(im.Spec.Tags) > 0 {
		return im.Spec.Tags[0]
	}
	return im.Name
}

// compareBaseline measures the image and its general-purpose equivalent with compare.
func (im *image) compareBaseline(ctx context.Context, src *imagesource.Source, img v1.Image, o Options) error {
	if im.Baseline == "" {
		im.BaselineNote = "no general-purpose equivalent was measured (spartan compare --baseline general --baseline-archive FILE builds one)"
		return nil
	}
	ao := audit.Options{}
	if o.DB != nil {
		ao.Vulns = o.DB
	}
	bsrc, err := o.Open(ctx, im.Baseline)
	if err != nil {
		return fmt.Errorf("site: baseline of %s: %w", im.Name, err)
	}
	defer bsrc.Close()
	bimg, _, err := bsrc.Image(o.Arch)
	if err != nil {
		return fmt.Errorf("site: baseline of %s: %w", im.Name, err)
	}
	a, _, err := compare.MeasureTarget("general-purpose", audit.NewTarget(ctx, bsrc, bimg), ao)
	if err != nil {
		return fmt.Errorf("site: baseline of %s: %w", im.Name, err)
	}
	b, _, err := compare.MeasureTarget(im.Name, audit.NewTarget(ctx, src, img), ao)
	if err != nil {
		return fmt.Errorf("site: compare %s: %w", im.Name, err)
	}
	im.Diff = compare.Compare(a, b)
	return nil
}

// readTimeline takes the image's fixes, rebuilds and latencies from the timeline, and counts
// its open CVEs back through time: after the last rebuild as many as the scan finds now, and
// before each run as many as after it plus the CVEs that run fixed.
func (im *image) readTimeline(o Options) {
	if o.TimelineFile == "" {
		im.TimelineNote = "no timeline was given (spartan update records one; --timeline)"
		return
	}
	im.Report = timeline.Build(o.Events, im.Name)
	for _, e := range o.Events {
		// A rebase onto a rebuilt base stands for the application's rebuild.
		if e.Image == im.Name && (e.Event == timeline.Rebuilt || e.Event == timeline.Rebased) {
			im.rebuilds = append(im.rebuilds, e)
			t := e.Time.UTC()
			if im.LastRebuild == nil || t.After(*im.LastRebuild) {
				im.LastRebuild = &t
			}
		}
	}
	if len(im.rebuilds) == 0 && len(im.Report.Rows) == 0 {
		im.TimelineNote = "the timeline has no update of " + im.Name + " yet"
	}
	var toPush []time.Duration
	for _, r := range im.Report.Rows {
		if r.Pushed != nil && r.FixSeen != nil {
			toPush = append(toPush, r.Pushed.Sub(*r.FixSeen))
		}
	}
	im.Pushes = latency{N: len(toPush), Median: timeline.Percentile(toPush, 50), P95: timeline.Percentile(toPush, 95)}
	im.Rebuilds = latency{N: im.Report.N, Median: im.Report.Median, P95: im.Report.P95}
	if im.Scan == nil || len(im.rebuilds) == 0 {
		return
	}
	fixedIn := map[string]map[string]bool{} // run → CVEs
	for _, e := range o.Events {
		if e.Image == im.Name && e.Event == timeline.Fixed {
			if fixedIn[e.Run] == nil {
				fixedIn[e.Run] = map[string]bool{}
			}
			fixedIn[e.Run][e.CVE] = true
		}
	}
	open := 0
	for _, n := range im.CVEs {
		open += n
	}
	pts := make([]chart.Point, len(im.rebuilds))
	for i := len(im.rebuilds) - 1; i >= 0; i-- {
		pts[i] = chart.Point{At: im.rebuilds[i].Time.UTC(), N: open}
		open += len(fixedIn[im.rebuilds[i].Run])
	}
	im.Counts = pts
}

// pushedRef is where the timeline says the image was last pushed ("" if never).
func (im *image) pushedRef(events []timeline.Event) string {
	ref := ""
	for _, e := range events {
		if e.Image == im.Name && e.Event == timeline.Pushed && e.Ref != "" {
			ref = e.Ref
		}
	}
	return ref
}

// ecosystem is the image's Debian release as OSV names it ("Debian:13").
func (im *image) ecosystem() string {
	v := im.VersionID
	if v == "" && im.Spec != nil {
		v = im.Spec.ReleaseVersion
		if v == "" {
			v = vuln.ReleaseNumber(im.Spec.Release)
		}
	}
	if v == "" {
		return "Debian"
	}
	return "Debian:" + v
}
