package compare

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
)

// change says how B differs from A: "-97%" or "+3", whatever reads best.
func change(r Row) string {
	if r.A == r.B {
		return "="
	}
	if r.A == 0 || !r.Pct {
		return fmt.Sprintf("%+d", r.B-r.A)
	}
	pct := float64(r.B-r.A) / float64(r.A) * 100
	return fmt.Sprintf("%+.1f%%", pct)
}

func (r Row) format(v int64) string {
	if r.Bytes {
		return humanBytes(v)
	}
	return fmt.Sprint(v)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// WriteText writes an aligned table and the package differences.
func (d *Diff) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "measure\t%s\t%s\tchange\t\n", d.A.Name, d.B.Name)
	for _, r := range d.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Measure, r.format(r.A), r.format(r.B), change(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\npackages only in %s (%d): %s\npackages only in %s (%d): %s\n",
		d.A.Name, len(d.Removed), list(d.Removed), d.B.Name, len(d.Added), list(d.Added))
	return err
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}

// WriteMarkdown writes a GitHub-flavoured Markdown table and the package differences.
func (d *Diff) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| measure | %s | %s | change |\n|---|---:|---:|---:|\n", mdEscape(d.A.Name), mdEscape(d.B.Name))
	for _, r := range d.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Measure, r.format(r.A), r.format(r.B), change(r))
	}
	fmt.Fprintf(&b, "\nPackages only in %s (%d): %s\n\nPackages only in %s (%d): %s\n",
		mdEscape(d.A.Name), len(d.Removed), mdList(d.Removed), mdEscape(d.B.Name), len(d.Added), mdList(d.Added))
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func mdList(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	q := make([]string, len(s))
	for i, n := range s {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// chart is one measure as two horizontal bars, scaled to the larger value.
type chart struct {
	Row
	WA, WB int // bar widths in px
	LA, LB string
	Change string
	XA, XB int // label positions
}

const barMax = 560

func (d *Diff) charts() []chart {
	var out []chart
	for _, r := range d.Rows() {
		c := chart{Row: r, LA: r.format(r.A), LB: r.format(r.B), Change: change(r)}
		if m := max(r.A, r.B); m > 0 {
			c.WA = int(float64(r.A) / float64(m) * barMax)
			c.WB = int(float64(r.B) / float64(m) * barMax)
		}
		c.XA, c.XB = 170+c.WA+8, 170+c.WB+8
		out = append(out, c)
	}
	return out
}

// WriteHTML writes one self-contained page: inline CSS, inline SVG bar charts, no scripts and
// no external assets, so it opens offline and attaches to a ticket as is.
func (d *Diff) WriteHTML(w io.Writer, title string) error {
	return htmlPage.Execute(w, map[string]any{
		"Title": title, "D": d, "Charts": d.charts(),
	})
}

var htmlPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}
p.sub{color:#5a6272;margin-top:0}
table{border-collapse:collapse;margin:1rem 0 2rem;width:100%}
th,td{border-bottom:1px solid #dde1e8;padding:.35rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f3f5f9}
.legend span{display:inline-block;width:12px;height:12px;margin:0 .3rem 0 1rem;vertical-align:middle}
.a{background:#c0504d}.b{background:#2f7d4f}
svg{display:block;margin:.2rem 0 .8rem}
svg text{font-size:13px;font-family:inherit}
.pk{columns:3;font-family:ui-monospace,monospace;font-size:.85rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">A: <strong>{{.D.A.Name}}</strong> · B: <strong>{{.D.B.Name}}</strong></p>
<table>
<thead><tr><th>measure</th><th>A: {{.D.A.Name}}</th><th>B: {{.D.B.Name}}</th><th>change</th></tr></thead>
<tbody>
{{range .Charts}}<tr><td>{{.Measure}}</td><td>{{.LA}}</td><td>{{.LB}}</td><td>{{.Change}}</td></tr>
{{end}}</tbody>
</table>
<h2>Charts</h2>
<p class="legend"><span class="a"></span>A: {{.D.A.Name}}<span class="b"></span>B: {{.D.B.Name}}</p>
{{range .Charts}}<svg class="bars" role="img" aria-label="{{.Measure}}: {{.LA}} vs {{.LB}}" width="900" height="64" viewBox="0 0 900 64" xmlns="http://www.w3.org/2000/svg">
<text x="0" y="20" font-weight="600">{{.Measure}}</text>
<text x="0" y="40" fill="#5a6272">{{.Change}}</text>
<rect class="bar-a" x="170" y="6" width="{{.WA}}" height="22" fill="#c0504d" rx="2"></rect>
<text class="val-a" x="{{.XA}}" y="22">{{.LA}}</text>
<rect class="bar-b" x="170" y="34" width="{{.WB}}" height="22" fill="#2f7d4f" rx="2"></rect>
<text class="val-b" x="{{.XB}}" y="50">{{.LB}}</text>
</svg>
{{end}}
<h2>Packages only in A ({{len .D.Removed}})</h2>
<div class="pk">{{range .D.Removed}}{{.}}<br>{{else}}none{{end}}</div>
<h2>Packages only in B ({{len .D.Added}})</h2>
<div class="pk">{{range .D.Added}}{{.}}<br>{{else}}none{{end}}</div>
</body>
</html>
`))
