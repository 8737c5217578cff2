package site

import (
	"fmt"
	"html/template"
	"path/filepath"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/chart"
	"github.com/spartan-images/spartan/internal/compare"
	"github.com/spartan-images/spartan/internal/timeline"
)

// siteData is what the templates read.
type siteData struct {
	Images   []*image
	Feed     []OSV
	o        Options
	DBNote   string   // what the database is, or that there is none
	DBSource []string // its sources with their dates
	TLNote   string
	HasKey   bool
	Arch     string
	CSS      template.CSS
}

func newSiteData(images []*image, feed []OSV, o Options) *siteData {
	s := &siteData{Images: images, Feed: feed, o: o, HasKey: len(o.KeyPEM) > 0, Arch: o.Arch, CSS: template.CSS(chart.CSS + siteCSS)}
	if o.DB == nil {
		s.DBNote = "No vulnerability database was given: open CVEs are not shown."
	} else {
		s.DBNote = "Vulnerability database " + filepath.Base(o.DBFile) + "."
		if metas, err := o.DB.Meta(); err == nil {
			for _, m := range metas {
				s.DBSource = append(s.DBSource, fmt.Sprintf("%s: %d records, imported %s", m.Source, m.Records, m.Imported.UTC().Format("2006-01-02 15:04")))
			}
		}
	}
	if o.TimelineFile == "" {
		s.TLNote = "No timeline was given: rebuilds and patch latencies are not shown."
	} else {
		s.TLNote = fmt.Sprintf("Timeline %s (%d events).", filepath.Base(o.TimelineFile), len(o.Events))
	}
	return s
}

const siteCSS = `code,pre{font-family:ui-monospace,monospace;font-size:.85rem}
pre{background:#f3f5f9;padding:.6rem;overflow-x:auto}
.note{color:#5a6272}
td.l,th.l{text-align:left}
nav a{margin-right:1rem}
a{color:#1f5f99}
`

// Bars is the index's size chart.
func (s *siteData) SizeChart() template.HTML {
	var bars []chart.Bar
	for _, im := range s.Images {
		if im.Digest != "" {
			bars = append(bars, chart.Bar{Label: im.Name, Value: bytesText(im.Compressed), N: im.Compressed})
		}
	}
	if len(bars) == 0 {
		return ""
	}
	return chart.Bars("Compressed size of each image", bars)
}

// Unmeasured lists the images without a general-purpose comparison.
func (s *siteData) Unmeasured() string {
	var names []string
	for _, im := range s.Images {
		if im.Diff == nil {
			names = append(names, im.Name)
		}
	}
	return strings.Join(names, ", ")
}

// imageData is an image page's view.
type imageData struct {
	*siteData
	I *image
}

func (s *siteData) page(im *image) imageData { return imageData{siteData: s, I: im} }

// Measures are the comparison rows the site charts: packages, size and CVEs.
func (im *image) Measures() []chart.Pair {
	if im.Diff == nil {
		return nil
	}
	var out []chart.Pair
	for _, r := range im.Diff.Rows() {
		if r.Measure == "packages" || r.Measure == "size compressed" || strings.HasPrefix(r.Measure, "CVEs") {
			out = append(out, compare.Pair(r))
		}
	}
	return out
}

// Severities are the CVE counts in bucket order, for the tables.
func (im *image) Severities() []sevCount {
	if im.CVEs == nil {
		return nil
	}
	var out []sevCount
	for _, b := range compare.CVEBuckets {
		out = append(out, sevCount{b, im.CVEs[b]})
	}
	return out
}

type sevCount struct {
	Severity string
	N        int
}

// OpenCVEs is the total of distinct open CVEs.
func (im *image) OpenCVEs() int {
	n := 0
	for _, c := range im.CVEs {
		n += c
	}
	return n
}

// ShortDigest is the first 12 hex digits, for tables.
func (im *image) ShortDigest() string {
	d := strings.TrimPrefix(im.Digest, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

// Size is the compressed size as printed.
func (im *image) Size() string { return bytesText(im.Compressed) }

func bytesText(n int64) string {
	return compare.Pair(compare.Row{Measure: "size", A: n, Bytes: true}).LA
}

// stages are the steps after publication the timeline chart draws, in order.
var stages = []string{"fix seen on the mirror", "rebuilt (or rebased)", "signed", "pushed"}

// rebuilt names the rebuild stage: an application gets its fix by a rebase onto the rebuilt base.
func rebuilt(r timeline.Row) string {
	if r.Rebased {
		return "rebased onto the rebuilt base"
	}
	return "rebuilt"
}

// TimelineSVG draws each fixed CVE's stages.
func (im *image) TimelineSVG() template.HTML {
	if len(im.Report.Rows) == 0 {
		return ""
	}
	var tracks []chart.Track
	for _, r := range im.Report.Rows {
		tracks = append(tracks, chart.Track{Label: r.CVE, Stages: []chart.Stage{
			{Name: "published", At: r.Published}, {Name: stages[0], At: r.FixSeen},
			{Name: rebuilt(r), At: r.Rebuilt}, {Name: stages[2], At: r.Signed}, {Name: stages[3], At: r.Pushed},
		}})
	}
	return chart.Legend(stages) + chart.Timeline("Time from publication to pushed image for each CVE fixed in "+im.Name, tracks, timeline.Duration)
}

// CountSVG draws the open CVE count at each rebuild.
func (im *image) CountSVG() template.HTML {
	return chart.Steps("Open CVEs in "+im.Name+" after each rebuild", im.Counts)
}

// Rows are the timeline's fixes with their latencies, as printed.
func (im *image) Rows() []rowView {
	var out []rowView
	for _, r := range im.Report.Rows {
		v := rowView{Row: r, Published: when(r.Published), FixSeen: when(r.FixSeen), RebuiltAt: when(r.Rebuilt),
			SignedAt: when(r.Signed), PushedAt: when(r.Pushed), SeenToPushed: between(r.FixSeen, r.Pushed)}
		if r.Rebased {
			v.RebuiltAt += " (rebased)"
		}
		out = append(out, v)
	}
	return out
}

type rowView struct {
	timeline.Row
	Published, FixSeen, RebuiltAt, SignedAt, PushedAt, SeenToPushed string
}

func when(t *time.Time) string {
	if t == nil {
		return "not recorded"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func between(a, b *time.Time) string {
	if a == nil || b == nil {
		return "not recorded"
	}
	return timeline.Duration(b.Sub(*a))
}

// Latency prints a summary or what is missing.
func (l latency) Text() string {
	if l.N == 0 {
		return ""
	}
	return fmt.Sprintf("median %s, p95 %s (%d fixes)", timeline.Duration(l.Median), timeline.Duration(l.P95), l.N)
}

// When prints a time for the templates.
func When(t *time.Time) string { return when(t) }

// Ref is the reference the verify commands name: where the image was pushed, else its first
// tag, pinned to the digest.
func (d imageData) Ref() string {
	ref := d.I.pushedRef(d.o.Events)
	if ref == "" {
		ref = d.I.refName()
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	digest := d.I.IndexDigest
	if digest == "" {
		digest = d.I.Digest
	}
	return ref + "@" + digest
}

// Doc links a document from an image page (which lives in images/).
func (d document) Href() string { return strings.TrimPrefix(d.File, "images/") }

// catalogJSON is catalog.json: the index for machines.
func (s *siteData) catalogJSON() any {
	type lat struct {
		Fixes         int     `json:"fixes"`
		MedianSeconds float64 `json:"median_seconds"`
		P95Seconds    float64 `json:"p95_seconds"`
	}
	type doc struct {
		Kind   string `json:"kind"`
		File   string `json:"file,omitempty"`
		Source string `json:"source,omitempty"`
		Note   string `json:"missing,omitempty"`
	}
	type entry struct {
		Name         string         `json:"name"`
		Page         string         `json:"page"`
		Tags         []string       `json:"tags"`
		Digest       string         `json:"digest,omitempty"`
		IndexDigest  string         `json:"index_digest,omitempty"`
		Platforms    []string       `json:"platforms,omitempty"`
		Compressed   int64          `json:"compressed_size,omitempty"`
		Packages     int            `json:"packages,omitempty"`
		CVEs         map[string]int `json:"open_cves,omitempty"`
		LastRebuild  string         `json:"last_rebuild,omitempty"`
		SeenToPushed *lat           `json:"fix_seen_to_pushed,omitempty"`
		Documents    []doc          `json:"documents"`
		Missing      []string       `json:"missing,omitempty"`
	}
	out := struct {
		Arch   string   `json:"arch"`
		Images []entry  `json:"images"`
		OSV    []string `json:"osv"`
	}{Arch: s.Arch, Images: []entry{}, OSV: []string{}}
	for _, im := range s.Images {
		e := entry{Name: im.Name, Page: "images/" + im.Slug + ".html", Tags: []string{}, Digest: im.Digest, IndexDigest: im.IndexDigest,
			Platforms: im.Platforms, Compressed: im.Compressed, Packages: len(im.Packages), CVEs: im.CVEs, LastRebuild: stamp(im.LastRebuild), Documents: []doc{}}
		if im.Spec != nil {
			e.Tags = im.Spec.Tags
		}
		if im.Pushes.N > 0 {
			e.SeenToPushed = &lat{im.Pushes.N, im.Pushes.Median.Seconds(), im.Pushes.P95.Seconds()}
		}
		for _, d := range im.Docs {
			e.Documents = append(e.Documents, doc{d.Kind, d.File, d.Source, d.Note})
		}
		for _, n := range []string{im.BuiltNote, im.ScanNote, im.TimelineNote} {
			if n != "" && !contains(e.Missing, n) {
				e.Missing = append(e.Missing, n)
			}
		}
		out.Images = append(out.Images, e)
	}
	for _, r := range s.Feed {
		out.OSV = append(out.OSV, "feeds/osv/"+r.ID+".json")
	}
	return out
}

var funcs = template.FuncMap{"when": When}

const head = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{block "title" .}}{{end}}</title>
<style>
{{.CSS}}</style>
</head>
<body>
`

var indexPage = template.Must(template.New("index").Funcs(funcs).Parse(head + `{{define "title"}}Spartan image catalog{{end}}<header>
<h1>Spartan image catalog</h1>
<p class="sub">{{len .Images}} images and variants, {{.Arch}}. {{.DBNote}} {{.TLNote}}</p>
{{if .DBSource}}<ul class="note">{{range .DBSource}}<li>{{.}}</li>{{end}}</ul>{{end}}
<nav aria-label="Site"><a href="#images">Images</a><a href="#sizes">Sizes</a><a href="#general">General-purpose comparison</a><a href="#feeds">Feeds</a></nav>
</header>
<main>
<h2 id="images">Images</h2>
<table>
<caption class="note">Open CVEs are distinct CVEs by severity: critical/high/medium/low/other. Last rebuild and patch latency (the time from the fixed version first seen on the mirror to the image pushed) come from the timeline; "none" when it records no rebuild or no pushed fix.</caption>
<thead><tr><th scope="col">image</th><th scope="col" class="l">tag</th><th scope="col" class="l">digest</th><th scope="col" class="l">architectures</th><th scope="col">compressed</th><th scope="col">packages</th><th scope="col">open CVEs</th><th scope="col">last rebuild</th><th scope="col">patch latency</th></tr></thead>
<tbody>
{{range .Images}}<tr><th scope="row" class="l"><a href="images/{{.Slug}}.html">{{.Name}}</a></th><td class="l">{{if .Spec}}{{index .Spec.Tags 0}}{{end}}</td>
{{if .Digest}}<td class="l"><code title="{{.Digest}}">{{.ShortDigest}}</code></td><td class="l">{{range $i, $p := .Platforms}}{{if $i}}, {{end}}{{$p}}{{end}}</td><td>{{.Size}}</td><td>{{len .Packages}}</td>{{else}}<td class="l note" colspan="4">{{.BuiltNote}}</td>{{end}}
<td>{{if .CVEs}}{{range $i, $s := .Severities}}{{if $i}}/{{end}}{{$s.N}}{{end}}{{else}}<span class="note">not scanned</span>{{end}}</td>
<td>{{if .LastRebuild}}{{when .LastRebuild}}{{else}}<span class="note">none</span>{{end}}</td>
<td>{{with .Pushes.Text}}{{.}}{{else}}<span class="note">none</span>{{end}}</td></tr>
{{end}}</tbody>
</table>
<h2 id="sizes">Compressed size</h2>
{{with .SizeChart}}{{.}}{{else}}<p class="note">No image was built.</p>{{end}}
<h2 id="general">Compared with the general-purpose equivalent</h2>
<p class="legend"><span class="a"></span>general-purpose (Debian minbase and the same packages)<span class="b"></span>Spartan</p>
{{range .Images}}{{if .Diff}}<h3>{{.Name}}</h3>
{{range .Measures}}{{.SVG}}
{{end}}{{end}}{{end}}
{{with .Unmeasured}}<p class="note">Not measured: {{.}}.</p>{{end}}
<h2 id="feeds">Feeds</h2>
<ul>
<li><a href="catalog.json">catalog.json</a>: this index for machines</li>
<li><a href="feeds/osv/all.json">OSV advisories</a>: {{len .Feed}} records, one per CVE fixed in a catalog image</li>
<li>OpenVEX: one document per scanned image, linked from its page</li>
{{if .HasKey}}<li><a href="cosign.pub">cosign.pub</a>: the public key the images are signed with</li>{{end}}
</ul>
</main>
</body>
</html>
`))

var imagePage = template.Must(template.New("image").Funcs(funcs).Parse(head + `{{define "title"}}{{.I.Name}}: Spartan image{{end}}<header>
<nav aria-label="Site"><a href="../index.html">All images</a></nav>
<h1>{{.I.Name}}</h1>
<p class="sub">{{if .I.Spec}}{{range $i, $t := .I.Spec.Tags}}{{if $i}} · {{end}}<code>{{$t}}</code>{{end}}{{if .I.Spec.Description}}. {{.I.Spec.Description}}{{end}}{{end}}</p>
</header>
<main>
<h2>Summary</h2>
<table>
<tbody>
{{if .I.Digest}}<tr><th scope="row" class="l">digest</th><td class="l"><code>{{.I.Digest}}</code></td></tr>
{{if .I.IndexDigest}}<tr><th scope="row" class="l">index digest</th><td class="l"><code>{{.I.IndexDigest}}</code></td></tr>{{end}}
<tr><th scope="row" class="l">architectures</th><td class="l">{{range $i, $p := .I.Platforms}}{{if $i}}, {{end}}{{$p}}{{end}}</td></tr>
<tr><th scope="row" class="l">compressed size ({{.Arch}})</th><td class="l">{{.I.Size}}</td></tr>
<tr><th scope="row" class="l">packages</th><td class="l">{{len .I.Packages}}</td></tr>
<tr><th scope="row" class="l">created</th><td class="l">{{.I.CreatedText}}</td></tr>
{{else}}<tr><th scope="row" class="l">image</th><td class="l note">{{.I.BuiltNote}}</td></tr>{{end}}
<tr><th scope="row" class="l">lock</th><td class="l">{{if .I.LockDate}}{{.I.LockPackages}} packages pinned, resolved against the archive of {{when .I.LockDate}}{{else}}<span class="note">{{.I.LockNote}}</span>{{end}}</td></tr>
<tr><th scope="row" class="l">last rebuild</th><td class="l">{{if .I.LastRebuild}}{{when .I.LastRebuild}}{{else}}<span class="note">{{with .I.TimelineNote}}{{.}}{{else}}no rebuild recorded{{end}}</span>{{end}}</td></tr>
<tr><th scope="row" class="l">patch latency, fix seen → pushed</th><td class="l">{{with .I.Pushes.Text}}{{.}}{{else}}<span class="note">no pushed fix recorded</span>{{end}}</td></tr>
<tr><th scope="row" class="l">patch latency, fix seen → rebuilt</th><td class="l">{{with .I.Rebuilds.Text}}{{.}}{{else}}<span class="note">no rebuilt fix recorded</span>{{end}}</td></tr>
</tbody>
</table>

<h2>Open CVEs</h2>
{{if .I.Scan}}<table>
<thead><tr>{{range .I.Severities}}<th scope="col">{{.Severity}}</th>{{end}}</tr></thead>
<tbody><tr>{{range .I.Severities}}<td>{{.N}}</td>{{end}}</tr></tbody>
</table>
{{if .I.Scan.Findings}}<table>
<thead><tr><th scope="col">CVE</th><th scope="col" class="l">source package</th><th scope="col" class="l">installed</th><th scope="col" class="l">fixed in</th><th scope="col" class="l">severity</th><th scope="col" class="l">status</th></tr></thead>
<tbody>
{{range .I.Scan.Findings}}<tr><td>{{.CVE}}</td><td class="l">{{.Source}}</td><td class="l">{{.SourceVersion}}</td><td class="l">{{with .FixedVersion}}{{.}}{{else}}none yet{{end}}</td><td class="l">{{.Severity}}</td><td class="l">{{.Status}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p>The database lists no open CVE for this image's packages.</p>{{end}}
{{else}}<p class="note">Not scanned: {{.I.ScanNote}}</p>{{end}}

<h2>Patch timeline</h2>
{{if .I.Report.Rows}}<p>Each CVE fixed by an update: published, fixed version first seen on the mirror, image rebuilt, signed and pushed. Segment lengths grow with the logarithm of the time between stages.</p>
{{.I.TimelineSVG}}
<table>
<thead><tr><th scope="col">CVE</th><th scope="col" class="l">package</th><th scope="col" class="l">from → to</th><th scope="col" class="l">published</th><th scope="col" class="l">fix seen</th><th scope="col" class="l">rebuilt</th><th scope="col" class="l">signed</th><th scope="col" class="l">pushed</th><th scope="col">seen → pushed</th></tr></thead>
<tbody>
{{range .I.Rows}}<tr><td>{{.CVE}}</td><td class="l">{{.Package}}</td><td class="l">{{.From}} → {{.To}}</td><td class="l">{{.Published}}</td><td class="l">{{.FixSeen}}</td><td class="l">{{.RebuiltAt}}</td><td class="l">{{.SignedAt}}</td><td class="l">{{.PushedAt}}</td><td>{{.SeenToPushed}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="note">{{with .I.TimelineNote}}{{.}}{{else}}No CVE fix of this image is recorded in the timeline.{{end}}</p>{{end}}

<h2>CVE count over time</h2>
{{if .I.Counts}}<p>Open CVEs after each rebuild, counted back from today's scan and the fixes each rebuild recorded (CVEs the database did not know then are not told apart).</p>
{{.I.CountSVG}}
{{else if not .I.Scan}}<p class="note">Not shown: {{.I.ScanNote}}</p>
{{else}}<p class="note">Not shown: {{with .I.TimelineNote}}{{.}}{{else}}no rebuild recorded{{end}}</p>{{end}}

<h2>Documents</h2>
<ul>
{{range .I.Docs}}<li>{{.Kind}}: {{if .File}}<a href="{{.Href}}">{{.Href}}</a> <span class="note">({{.Source}})</span>{{else}}<span class="note">{{.Note}}</span>{{end}}</li>
{{end}}</ul>

<h2>Verify</h2>
{{if .I.Digest}}{{if not .HasKey}}<p class="note">This site was generated without the public key; ask the publisher for cosign.pub.</p>{{else}}<p>With the public key <a href="../cosign.pub">cosign.pub</a>:</p>{{end}}
{{with .I.Unattested}}<p class="note">This build could not be checked here: {{.}}. The commands apply to the image as published, signed with this key.</p>{{end}}
<pre tabindex="0">cosign verify --key cosign.pub --insecure-ignore-tlog=true {{.Ref}}
spartan verify {{.Ref}} --key cosign.pub --require sbom,provenance</pre>
<h2>Reproduce</h2>
<p>Rebuild the image from its signed provenance and check that the digest is the same:</p>
<pre tabindex="0">spartan rebuild {{.Ref}} --key cosign.pub --verify</pre>
{{else}}<p class="note">{{.I.BuiltNote}}</p>{{end}}

<h2>Packages ({{len .I.Packages}})</h2>
{{if .I.Packages}}<table>
<thead><tr><th scope="col">name</th><th scope="col" class="l">version</th><th scope="col" class="l">source</th><th scope="col" class="l">license</th></tr></thead>
<tbody>
{{range .I.Packages}}<tr><td>{{.Name}}</td><td class="l">{{.Version}}</td><td class="l">{{.Source}}</td><td class="l">{{.SPDX.Expression}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">{{with .I.BuiltNote}}{{.}}{{else}}No package database in the image.{{end}}</p>{{end}}
</main>
</body>
</html>
`))

// CreatedText is the image's creation time as its config records it.
func (im *image) CreatedText() string {
	if im.Created.IsZero() {
		return "not recorded"
	}
	return im.Created.Format("2006-01-02 15:04")
}
