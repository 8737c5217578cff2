package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
)

// resolvedPackage is the JSON shape of `spartan resolve --json`.
type resolvedPackage struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Architecture  string   `json:"architecture"`
	Source        string   `json:"source"`
	Size          int64    `json:"size"`
	InstalledSize int64    `json:"installedSize"`
	SHA256        string   `json:"sha256"`
	Suite         string   `json:"suite"`
	Why           []string `json:"why"`
}

type resolvedCut struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Relation string `json:"relation"`
	Reason   string `json:"reason"`
}

type resolvedArch struct {
	Arch     string            `json:"arch"`
	Packages []resolvedPackage `json:"packages"`
	Cuts     []resolvedCut     `json:"cuts"`
}

func newResolveCmd(g *globals) *cobra.Command {
	var variant, archs string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "resolve SPEC",
		Short: "Print the packages a spec resolves to, with version, size and why each is there",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := g.options(args[0], variant, archs)
			if err != nil {
				return err
			}
			plans, err := build.Resolve(cmd.Context(), o)
			if err != nil {
				return err
			}
			var out []resolvedArch
			for _, p := range plans {
				ra := resolvedArch{Arch: p.Arch, Packages: []resolvedPackage{}, Cuts: []resolvedCut{}}
				for _, s := range p.SortedPackages() {
					suite := ""
					if s.Pkg.Origin != nil {
						suite = s.Pkg.Origin.Source.Suite
					}
					ra.Packages = append(ra.Packages, resolvedPackage{
						Name: s.Pkg.Name, Version: s.Pkg.Version, Architecture: s.Pkg.Architecture,
						Source: s.Pkg.Source, Size: s.Pkg.Size, InstalledSize: s.Pkg.InstalledSize * 1024,
						SHA256: s.Pkg.SHA256, Suite: suite, Why: s.Why,
					})
				}
				for _, c := range p.Result.Cuts {
					ra.Cuts = append(ra.Cuts, resolvedCut{From: c.From, To: c.To, Relation: c.Relation, Reason: c.Reason})
				}
				out = append(out, ra)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			for _, ra := range out {
				var total, inst int64
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "PACKAGE\tVERSION\tSIZE\tINSTALLED\tSUITE\tWHY\n")
				for _, p := range ra.Packages {
					total += p.Size
					inst += p.InstalledSize
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, human(p.Size), human(p.InstalledSize), p.Suite, strings.Join(p.Why, ", "))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(w, "%s: %d packages, %s download, %s installed\n", ra.Arch, len(ra.Packages), human(total), human(inst))
				for _, c := range ra.Cuts {
					fmt.Fprintf(w, "cut: %s → %s (%s): %s\n", c.From, c.To, c.Relation, c.Reason)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&variant, "variant", "", "variant of the spec")
	f.StringVar(&archs, "arch", "", "comma-separated Debian architectures, overriding the spec")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
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
