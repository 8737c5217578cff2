package timeline

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spartan-images/spartan/internal/debian/version"
	"github.com/spartan-images/spartan/internal/scan"
)

// SeenKey identifies a package version of one image architecture in the Seen events.
func SeenKey(arch, pkg, ver string) string { return arch + "/" + pkg + "=" + ver }

// SeenVersions are the package versions the timeline has already recorded as seen.
func SeenVersions(events []Event) map[string]bool {
	out := map[string]bool{}
	for _, e := range events {
		if e.Event == Seen {
			out[SeenKey(e.Arch, e.Package, e.Version)] = true
		}
	}
	return out
}

// FixSeen is when a fix was first on the mirror: the earliest InRelease Date recorded for a
// version of the source package (on that architecture) at or above fixedIn. Versions between
// two runs of update that the mirror carried and dropped again are not known; the answer is
// then the first run's view, which is later than the truth, never earlier.
func FixSeen(events []Event, source, arch, fixedIn string) *time.Time {
	var best *time.Time
	for _, e := range events {
		if e.Event != Seen || e.Source != source || e.Arch != arch || e.Date == nil {
			continue
		}
		if version.Compare(e.SourceVersion, fixedIn) < 0 {
			continue
		}
		if best == nil || e.Date.Before(*best) {
			d := *e.Date
			best = &d
		}
	}
	return best
}

// Row is one CVE fixed in an image by one update run.
type Row struct {
	CVE, Package, From, To, Severity string
	FixedIn                          string // the first fixed version, as the fix's source said
	Archs                            []string
	Published, FixSeen               *time.Time
	Rebuilt, Signed, Pushed          *time.Time
	Digest, Ref                      string
	// Rebased: the image got the fix by a rebase onto a rebuilt base (Rebuilt is then when),
	// not by a rebuild of its own.
	Rebased bool
}

func sub(a, b *time.Time) (time.Duration, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	return a.Sub(*b), true
}

// Report is an image's patch history.
type Report struct {
	Image string
	Rows  []Row
	// Latencies from fix seen on the mirror to image rebuilt, over the rows that have both.
	N           int
	Median, P95 time.Duration
}

// Build collects the image's fixes from the events, with the rebuild, signature and push of the
// same run.
func Build(events []Event, image string) Report {
	type runKey struct{ run, kind string }
	done := map[runKey]Event{}
	for _, e := range events {
		if e.Image != image {
			continue
		}
		switch e.Event {
		case Rebuilt, Signed, Pushed, Rebased:
			k := runKey{e.Run, e.Event}
			if e.Event == Rebased {
				k.kind = Rebuilt
			}
			if _, ok := done[k]; !ok {
				done[k] = e
			}
		}
	}
	rep := Report{Image: image}
	index := map[string]int{}
	for _, e := range events {
		if e.Image != image || e.Event != Fixed {
			continue
		}
		k := e.Run + " " + e.CVE
		if i, ok := index[k]; ok {
			r := &rep.Rows[i]
			if !slices.Contains(r.Archs, e.Arch) {
				r.Archs = append(r.Archs, e.Arch)
			}
			if e.Date != nil && (r.FixSeen == nil || e.Date.Before(*r.FixSeen)) {
				r.FixSeen = e.Date
			}
			continue
		}
		r := Row{CVE: e.CVE, Package: e.Source, From: e.From, To: e.To, Severity: e.Severity, FixedIn: e.FixedIn, Archs: []string{e.Arch},
			Published: e.Published, FixSeen: e.Date}
		if x, ok := done[runKey{e.Run, Rebuilt}]; ok {
			t := x.Time
			r.Rebuilt, r.Digest, r.Rebased = &t, x.Digest, x.Event == Rebased
		}
		if x, ok := done[runKey{e.Run, Signed}]; ok {
			t := x.Time
			r.Signed = &t
		}
		if x, ok := done[runKey{e.Run, Pushed}]; ok {
			t := x.Time
			r.Pushed, r.Ref = &t, x.Ref
		}
		index[k] = len(rep.Rows)
		rep.Rows = append(rep.Rows, r)
	}
	var lat []time.Duration
	for _, r := range rep.Rows {
		if d, ok := sub(r.Rebuilt, r.FixSeen); ok {
			lat = append(lat, d)
		}
	}
	rep.N = len(lat)
	rep.Median, rep.P95 = Percentile(lat, 50), Percentile(lat, 95)
	return rep
}

// Percentile is the nearest-rank percentile (p in (0, 100]) of ds; 0 for none. The median of
// an even count is the mean of the two middle values.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// Open is an unfixed CVE in the current image, from a scan.
type Open struct {
	CVE, Package, Status string
	Published            *time.Time
}

// OpenCVEs are the CVEs a scan found in an image, once each.
func OpenCVEs(rep *scan.Report) []Open {
	var out []Open
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if seen[f.CVE] {
			continue
		}
		seen[f.CVE] = true
		o := Open{CVE: f.CVE, Package: f.Source, Status: f.Status}
		if t, err := time.Parse(time.RFC3339, f.Published); err == nil {
			o.Published = &t
		}
		out = append(out, o)
	}
	return out
}

// Bucket counts open CVEs of one age range.
type Bucket struct {
	Label string
	Count int
}

var ageBounds = []struct {
	label string
	upTo  time.Duration
}{
	{"< 7 days", 7 * 24 * time.Hour},
	{"7-30 days", 30 * 24 * time.Hour},
	{"30-90 days", 90 * 24 * time.Hour},
	{"90-365 days", 365 * 24 * time.Hour},
	{"> 1 year", math.MaxInt64},
}

// ByAge buckets open CVEs by the time since publication; those without a date (the tracker
// gives none) are counted apart rather than guessed.
func ByAge(opens []Open, now time.Time) []Bucket {
	out := make([]Bucket, len(ageBounds)+1)
	for i, b := range ageBounds {
		out[i].Label = b.label
	}
	out[len(ageBounds)].Label = "date unknown"
	for _, o := range opens {
		if o.Published == nil {
			out[len(ageBounds)].Count++
			continue
		}
		age := now.Sub(*o.Published)
		for i, b := range ageBounds {
			if age < b.upTo {
				out[i].Count++
				break
			}
		}
	}
	return out
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func lat(a, b *time.Time) string {
	d, ok := sub(a, b)
	if !ok {
		return "-"
	}
	return Duration(d)
}

// Duration prints a latency compactly: 42m, 3h05m, 12d4h.
func Duration(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%s%ds", neg, int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%s%dm", neg, int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%s%dh%02dm", neg, int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%s%dd%dh", neg, int(d.Hours())/24, int(d.Hours())%24)
}

// WriteText prints the report: one line per CVE, then the latency summary.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CVE\tPACKAGE\tFROM → TO\tPUBLISHED\tFIX SEEN\tREBUILT\tPUSHED\tSEEN→REBUILT\tSEEN→PUSHED\tPUBLISHED→REBUILT")
	rebases := 0
	for _, x := range r.Rows {
		rebuilt := stamp(x.Rebuilt)
		if x.Rebased {
			rebuilt += " (rebased)"
			rebases++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.CVE, x.Package, x.From, x.To,
			stamp(x.Published), stamp(x.FixSeen), rebuilt, stamp(x.Pushed),
			lat(x.Rebuilt, x.FixSeen), lat(x.Pushed, x.FixSeen), lat(x.Rebuilt, x.Published))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Rows) == 0 {
		_, err := fmt.Fprintf(w, "no CVE fixes recorded for %s\n", r.Image)
		return err
	}
	var digests []string
	for _, x := range r.Rows {
		if x.Digest != "" && !slices.Contains(digests, x.Digest) {
			digests = append(digests, x.Digest)
		}
	}
	how := "rebuilds"
	switch {
	case rebases == len(r.Rows):
		how = "rebases"
	case rebases > 0:
		how = "rebuilds and rebases"
	}
	_, err := fmt.Fprintf(w, "\n%d CVE fixes in %s (%d %s: %s)\nfix seen → rebuilt over %d: median %s, p95 %s\n",
		len(r.Rows), r.Image, len(digests), how, strings.Join(digests, ", "), r.N, Duration(r.Median), Duration(r.P95))
	return err
}
