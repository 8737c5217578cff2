package build

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spartan-images/spartan/internal/debian/resolve"
)

// Resolution is what `spartan resolve` reports for one architecture; its JSON is the format
// of `spartan resolve --json`, which `spartan vex --cuts` reads back.
type Resolution struct {
	Arch     string            `json:"arch"`
	Packages []ResolvedPackage `json:"packages"`
	Cuts     []ResolvedCut     `json:"cuts"`
}

// ResolvedPackage is one package a plan installs, and why.
type ResolvedPackage struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Architecture  string   `json:"architecture"`
	Source        string   `json:"source"`
	Size          int64    `json:"size"`
	InstalledSize int64    `json:"installedSize"` // bytes
	SHA256        string   `json:"sha256"`
	Suite         string   `json:"suite"`
	Why           []string `json:"why"`
}

// ResolvedCut is a dependency the hardening profile cut.
type ResolvedCut struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Relation string `json:"relation"`
	Reason   string `json:"reason"`
}

// resolvedCuts reports a resolution's cuts, Debian's or Alpine's (the same type).
func resolvedCuts(cuts []resolve.Cut) []ResolvedCut {
	out := make([]ResolvedCut, 0, len(cuts))
	for _, c := range cuts {
		out = append(out, ResolvedCut{From: c.From, To: c.To, Relation: c.Relation, Reason: c.Reason})
	}
	return out
}

// Resolutions reports plans made by Resolve.
func Resolutions(plans []*Plan) []Resolution {
	var out []Resolution
	for _, p := range plans {
		r := Resolution{Arch: p.Arch, Packages: []ResolvedPackage{}}
		for _, s := range p.SortedPackages() {
			suite := ""
			if s.Pkg.Origin != nil {
				suite = s.Pkg.Origin.Source.Suite
			}
			r.Packages = append(r.Packages, ResolvedPackage{
				Name: s.Pkg.Name, Version: s.Pkg.Version, Architecture: s.Pkg.Architecture,
				Source: s.Pkg.Source, Size: s.Pkg.Size, InstalledSize: s.Pkg.InstalledSize * 1024,
				SHA256: s.Pkg.SHA256, Suite: suite, Why: s.Why,
			})
		}
		r.Cuts = resolvedCuts(p.Result.Cuts)
		out = append(out, r)
	}
	return out
}

// WriteResolutions prints the resolutions for people: a table of packages per architecture,
// the totals, then the cuts.
func WriteResolutions(w io.Writer, rs []Resolution) error {
	for _, r := range rs {
		var total, inst int64
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "PACKAGE\tVERSION\tSIZE\tINSTALLED\tSUITE\tWHY\n")
		for _, p := range r.Packages {
			total += p.Size
			inst += p.InstalledSize
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, human(p.Size), human(p.InstalledSize), p.Suite, strings.Join(p.Why, ", "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %d packages, %s download, %s installed\n", r.Arch, len(r.Packages), human(total), human(inst))
		for _, c := range r.Cuts {
			fmt.Fprintf(w, "cut: %s → %s (%s): %s\n", c.From, c.To, c.Relation, c.Reason)
		}
	}
	return nil
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
