package update

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/timeline"
)

// ImageName names an image in the timeline: the spec's name, with the variant when it is not
// the base ("python:dev").
func ImageName(s *spec.Spec) string {
	if s.VariantName == "" || s.VariantName == "runtime" {
		return s.Name
	}
	return s.Name + ":" + s.VariantName
}

// SeenEvents records the new package versions the timeline has not seen before, each with the
// Date of the InRelease whose index carried it: the time the version was on the mirror.
func SeenEvents(run string, now time.Time, cur *build.Lock, bumps []Bump, prior []timeline.Event) []timeline.Event {
	seen := timeline.SeenVersions(prior)
	dates := map[string]time.Time{}
	for _, a := range cur.Archs {
		for _, r := range a.Releases {
			dates[r.URI] = r.Date
		}
	}
	var out []timeline.Event
	for _, b := range bumps {
		if b.Removed() || seen[timeline.SeenKey(b.Arch, b.Name, b.New)] {
			continue
		}
		e := timeline.Event{Time: now, Event: timeline.Seen, Run: run, Arch: b.Arch, Package: b.Name, Version: b.New,
			Source: b.Source, SourceVersion: b.NewSourceVersion, Repository: b.Repository}
		if d, ok := dates[b.Repository]; ok && !d.IsZero() {
			d = d.UTC()
			e.Date = &d
		}
		seen[timeline.SeenKey(b.Arch, b.Name, b.New)] = true
		out = append(out, e)
	}
	return out
}

// FixedEvents records each CVE the bumps fix in the image, with when the fix was first seen on
// the mirror (from history, the Seen events included).
func FixedEvents(run, image string, now time.Time, bumps []Bump, history []timeline.Event) []timeline.Event {
	var out []timeline.Event
	for _, b := range bumps {
		for _, f := range b.Fixes {
			e := timeline.Event{Time: now, Event: timeline.Fixed, Run: run, Image: image, Arch: b.Arch, Package: b.Name,
				Version: b.New, Source: b.Source, CVE: f.CVE, From: b.OldSourceVersion, To: b.NewSourceVersion,
				FixedIn: f.FixedIn, Evidence: f.Evidence, Severity: f.Severity,
				Date: timeline.FixSeen(history, b.Source, b.Arch, f.FixedIn)}
			if t, err := time.Parse(time.RFC3339, f.Published); err == nil {
				t = t.UTC()
				e.Published = &t
			}
			out = append(out, e)
		}
	}
	return out
}

// WriteSummary prints an image's bumps and the CVEs each fixes, for people reading the log of
// a scheduled run.
func WriteSummary(w io.Writer, image string, bumps []Bump, changed bool) {
	if !changed {
		fmt.Fprintf(w, "%s: up to date\n", image)
		return
	}
	if len(bumps) == 0 {
		fmt.Fprintf(w, "%s: no package changes (spec or architectures changed)\n", image)
		return
	}
	fixes := 0
	for _, b := range bumps {
		fixes += len(b.Fixes)
	}
	fmt.Fprintf(w, "%s: %d package changes, %d CVE fixes\n", image, len(bumps), fixes)
	for _, b := range bumps {
		switch {
		case b.Added():
			fmt.Fprintf(w, "  %s %s: new %s\n", b.Arch, b.Name, b.New)
		case b.Removed():
			fmt.Fprintf(w, "  %s %s: removed (was %s)\n", b.Arch, b.Name, b.Old)
		default:
			fmt.Fprintf(w, "  %s %s: %s → %s\n", b.Arch, b.Name, b.Old, b.New)
		}
		for _, f := range b.Fixes {
			sev := ""
			if f.Severity != "" {
				sev = ", " + f.Severity
			}
			fmt.Fprintf(w, "    fixes %s (fixed in %s%s; from %s)\n", f.CVE, f.FixedIn, sev, strings.Join(f.Evidence, " and "))
		}
	}
}
