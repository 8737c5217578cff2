package compare

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spartan-images/spartan/internal/chart"
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

func (d *Diff) charts() []chart.Pair {
	var out []chart.Pair
	for _, r := range d.Rows() {
		out = append(out, Pair(r))
	}
	return out
}

// Pair is a row as the two bars the charts draw.
func Pair(r Row) chart.Pair {
	return chart.Pair{Measure: r.Measure, A: r.A, B: r.B, LA: r.format(r.A), LB: r.format(r.B), Change: change(r)}
}

// WriteHTML writes one self-contained page: inline CSS, inline SVG bar charts, no scripts and
// no external assets, so it opens offline and attaches to a ticket as is.
func (d *Diff) WriteHTML(w io.Writer, title string) error {
	return htmlPage.Execute(w, map[string]any{
		"Title": title, "D": d, "Charts": d.charts(), "CSS": template.CSS(chart.CSS),
	})
}

var htmlPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
{{.CSS}}.pk{columns:3;font-family:ui-monospace,monospace;font-size:.85rem}
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
{{range .Charts}}{{.SVG}}
{{end}}
<h2>Packages only in A ({{len .D.Removed}})</h2>
<div class="pk">{{range .D.Removed}}{{.}}<br>{{else}}none{{end}}</div>
<h2>Packages only in B ({{len .D.Added}})</h2>
<div class="pk">{{range .D.Added}}{{.}}<br>{{else}}none{{end}}</div>
</body>
</html>
`))
