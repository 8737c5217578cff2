// Package chart draws the few charts Spartan's HTML reports use as inline SVG: no scripts, no
// external assets, each chart an image with a text alternative (role="img", aria-label and a
// <title>) so that the page reads the same without it. compare's report and the catalog site
// share them.
package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Colours with at least 4.5:1 contrast against white, so labels drawn in them stay legible.
const (
	ColorA    = "#c0504d" // the general-purpose image
	ColorB    = "#2f7d4f" // Spartan's
	ColorText = "#1d2330"
	ColorMute = "#5a6272"
)

// CSS is the style the reports share; pages add their own rules after it.
const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
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
`

// PairMax is the width in px of the larger bar of a Pair.
const PairMax = 560

// Pair is one measure of two images as two horizontal bars scaled to the larger value: A (the
// general-purpose image) above B.
type Pair struct {
	Measure string
	A, B    int64
	LA, LB  string // the values as printed
	Change  string // how B differs from A
}

// Widths are the bars' lengths in px.
func (p Pair) Widths() (wa, wb int) {
	if m := max(p.A, p.B); m > 0 {
		wa = int(float64(p.A) / float64(m) * PairMax)
		wb = int(float64(p.B) / float64(m) * PairMax)
	}
	return wa, wb
}

var pairSVG = template.Must(template.New("pair").Parse(`<svg class="bars" role="img" aria-label="{{.P.Measure}}: {{.P.LA}} vs {{.P.LB}}" width="900" height="64" viewBox="0 0 900 64" xmlns="http://www.w3.org/2000/svg">
<text x="0" y="20" font-weight="600">{{.P.Measure}}</text>
<text x="0" y="40" fill="#5a6272">{{.P.Change}}</text>
<rect class="bar-a" x="170" y="6" width="{{.WA}}" height="22" fill="#c0504d" rx="2"></rect>
<text class="val-a" x="{{.XA}}" y="22">{{.P.LA}}</text>
<rect class="bar-b" x="170" y="34" width="{{.WB}}" height="22" fill="#2f7d4f" rx="2"></rect>
<text class="val-b" x="{{.XB}}" y="50">{{.P.LB}}</text>
</svg>`))

// SVG draws the pair.
func (p Pair) SVG() template.HTML {
	wa, wb := p.Widths()
	return render(pairSVG, map[string]any{"P": p, "WA": wa, "WB": wb, "XA": 170 + wa + 8, "XB": 170 + wb + 8})
}

func render(t *template.Template, data any) template.HTML {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		// The templates are fixed and their data plain values: a failure is a bug here.
		panic(fmt.Sprintf("chart %s: %v", t.Name(), err))
	}
	return template.HTML(b.String())
}

// Bar is one labelled value of a Bars chart.
type Bar struct {
	Label, Value string // Value as printed
	N            int64
}

// Bars draws one horizontal bar per item, scaled to the largest; title names the chart for
// screen readers.
func Bars(title string, items []Bar) template.HTML {
	const left, width, row = 170, 520, 26
	var m int64
	for _, it := range items {
		m = max(m, it.N)
	}
	type bar struct {
		Bar
		Y, TY, W, X int
	}
	var bars []bar
	var alt []string
	for i, it := range items {
		w := 0
		if m > 0 {
			w = int(float64(it.N) / float64(m) * width)
		}
		bars = append(bars, bar{Bar: it, Y: i*row + 4, TY: i*row + 19, W: w, X: left + w + 8})
		alt = append(alt, it.Label+" "+it.Value)
	}
	h := len(items)*row + 8
	return render(barsSVG, map[string]any{"Title": title, "Alt": title + ": " + strings.Join(alt, ", "), "H": h, "Bars": bars})
}

var barsSVG = template.Must(template.New("bars").Parse(`<svg class="hbars" role="img" aria-label="{{.Alt}}" width="900" height="{{.H}}" viewBox="0 0 900 {{.H}}" xmlns="http://www.w3.org/2000/svg">
<title>{{.Alt}}</title>
{{range .Bars}}<text x="0" y="{{.TY}}">{{.Label}}</text>
<rect x="170" y="{{.Y}}" width="{{.W}}" height="20" fill="#2f7d4f" rx="2"></rect>
<text x="{{.X}}" y="{{.TY}}">{{.Value}}</text>
{{end}}</svg>`))

// Stage is one step of a fix's way to users: from the previous stage's time to At.
type Stage struct {
	Name string     // "fix seen on the mirror", "rebuilt", …
	At   *time.Time // nil: not recorded
}

// Track is one CVE's stages, in order; the first is the starting point (published).
type Track struct {
	Label  string
	Stages []Stage
}

// stageColors tell the segments apart; each has 4.5:1 contrast against white.
var stageColors = []string{"#8a5a00", "#1f5f99", "#2f7d4f", "#6b3fa0", "#a4343a"}

// Legend names the colour of each stage after the first, as Timeline draws them.
func Legend(stages []string) template.HTML {
	var b strings.Builder
	b.WriteString(`<p class="legend">`)
	for i, s := range stages {
		fmt.Fprintf(&b, `<span style="background:%s"></span>%s`, stageColors[i%len(stageColors)], template.HTMLEscapeString(s))
	}
	b.WriteString(`</p>`)
	return template.HTML(b.String())
}

// Timeline draws each track as consecutive segments, one per stage, whose lengths grow with
// the logarithm of the time between stages (minutes and months on one line), each labelled
// with that time; a stage not recorded is named in a note and the next one is measured from
// the last recorded. Durations are also in the alt text, so nothing is only visual.
func Timeline(title string, tracks []Track, duration func(time.Duration) string) template.HTML {
	const left, row = 150, 46
	type seg struct {
		X, W, Y, TX, TY int
		Color, Label    string
	}
	type track struct {
		Label, Note string
		Y, NX       int
		Segs        []seg
	}
	var out []track
	var alt []string
	for i, tr := range tracks {
		y := i*row + 6
		t := track{Label: tr.Label, Y: y + 16}
		x := left
		var parts, missing []string
		var prev *time.Time
		for j, st := range tr.Stages {
			if st.At == nil {
				// A stage not recorded is named; the next one is measured from the last known.
				missing = append(missing, st.Name)
				continue
			}
			if prev == nil {
				prev = st.At
				continue
			}
			d := st.At.Sub(*prev)
			w := 30 + int(math.Log1p(math.Max(d.Minutes(), 0))*12)
			label := duration(d)
			t.Segs = append(t.Segs, seg{X: x, W: w, Y: y, TX: x + 2, TY: y + 34, Color: stageColors[(j-1)%len(stageColors)], Label: label})
			parts = append(parts, st.Name+" after "+label)
			x += w + 2
			prev = st.At
		}
		if len(missing) > 0 {
			t.Note = strings.Join(missing, ", ") + " not recorded"
			parts = append(parts, t.Note)
		}
		t.NX = x + 6
		out = append(out, t)
		alt = append(alt, tr.Label+": "+strings.Join(parts, ", "))
	}
	h := len(tracks)*row + 8
	return render(timelineSVG, map[string]any{"Alt": title + ". " + strings.Join(alt, "; "), "H": h, "Tracks": out})
}

var timelineSVG = template.Must(template.New("timeline").Parse(`<svg class="timeline" role="img" aria-label="{{.Alt}}" width="900" height="{{.H}}" viewBox="0 0 900 {{.H}}" xmlns="http://www.w3.org/2000/svg">
<title>{{.Alt}}</title>
{{range .Tracks}}<text x="0" y="{{.Y}}" font-weight="600">{{.Label}}</text>
{{range .Segs}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="18" fill="{{.Color}}"></rect>
<text x="{{.TX}}" y="{{.TY}}" font-size="11">{{.Label}}</text>
{{end}}{{if .Note}}<text x="{{.NX}}" y="{{.Y}}" fill="#5a6272">{{.Note}}</text>
{{end}}{{end}}</svg>`))

// Point is a count at a time.
type Point struct {
	At time.Time
	N  int
}

// Steps draws a count over time as a step line (the count holds until the next point), with
// the first and last dates on the axis and every value labelled.
func Steps(title string, pts []Point) template.HTML {
	const left, width, top, height = 60, 760, 16, 120
	if len(pts) == 0 {
		return ""
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	maxN := 1
	for _, p := range pts {
		maxN = max(maxN, p.N)
	}
	x := func(t time.Time) int {
		if !t1.After(t0) {
			return left + width/2
		}
		return left + int(float64(t.Sub(t0))/float64(t1.Sub(t0))*width)
	}
	y := func(n int) int { return top + height - n*height/maxN }
	var path strings.Builder
	type label struct {
		X, Y int
		N    int
	}
	var labels []label
	var alt []string
	for i, p := range pts {
		px, py := x(p.At), y(p.N)
		if i == 0 {
			fmt.Fprintf(&path, "M%d %d", px, py)
		} else {
			fmt.Fprintf(&path, " H%d V%d", px, py)
		}
		labels = append(labels, label{X: px + 3, Y: py - 4, N: p.N})
		alt = append(alt, fmt.Sprintf("%s: %d", p.At.UTC().Format("2006-01-02 15:04"), p.N))
	}
	fmt.Fprintf(&path, " H%d", left+width)
	return render(stepsSVG, map[string]any{
		"Alt": title + ". " + strings.Join(alt, ", "), "Path": path.String(), "Labels": labels,
		"Base": top + height, "Left": left, "Right": left + width, "Max": maxN, "Top": top + 4,
		"From": t0.UTC().Format("2006-01-02 15:04"), "To": t1.UTC().Format("2006-01-02 15:04"), "AxisY": top + height + 18,
	})
}

var stepsSVG = template.Must(template.New("steps").Parse(`<svg class="steps" role="img" aria-label="{{.Alt}}" width="900" height="170" viewBox="0 0 900 170" xmlns="http://www.w3.org/2000/svg">
<title>{{.Alt}}</title>
<line x1="{{.Left}}" y1="{{.Base}}" x2="{{.Right}}" y2="{{.Base}}" stroke="#5a6272"></line>
<text x="0" y="{{.Top}}" fill="#5a6272">{{.Max}}</text>
<text x="0" y="{{.Base}}" fill="#5a6272">0</text>
<path d="{{.Path}}" fill="none" stroke="#1f5f99" stroke-width="2"></path>
{{range .Labels}}<text x="{{.X}}" y="{{.Y}}" font-size="11">{{.N}}</text>
{{end}}<text x="{{.Left}}" y="{{.AxisY}}" fill="#5a6272">{{.From}}</text>
<text x="{{.Right}}" y="{{.AxisY}}" fill="#5a6272" text-anchor="end">{{.To}}</text>
</svg>`))
