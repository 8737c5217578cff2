package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/atomicfile"
	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/compare"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/vuln"
)

func newCompareCmd(g *globals) *cobra.Command {
	var arch, format, htmlFile, baseline, variant, baselineArchive, dbFile string
	cmd := &cobra.Command{
		Use:   "compare A B | compare --baseline general SPEC",
		Short: "Compare two images side by side: packages, sizes, files, shells, setuid files, audit results",
		Long: `Compare measures two images (OCI layout directories, docker/oci archives or registry
references) and prints the measures side by side with the change from A to B.

With --baseline general it builds the general-purpose equivalent of a catalog image — Debian's
minbase plus the spec's packages, installed by mmdebstrap from the same mirrors — builds the
Spartan image from the spec, and compares the two (A = general-purpose, B = Spartan).

With a vulnerability database (--db, or <cache dir>/vuln.db when it exists) the report also
counts the CVEs present in each image's Debian packages by severity.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if baseline != "" {
				return cobra.ExactArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "text" && format != "markdown" {
				return fmt.Errorf("--format %q: want text or markdown", format)
			}
			db, closeDB, err := g.optionalVulnDB(dbFile)
			if err != nil {
				return err
			}
			defer closeDB()
			opts := audit.Options{Vulns: db}
			var a, b *compare.Metrics
			if baseline != "" {
				if baseline != "general" {
					return fmt.Errorf("--baseline %q: the only baseline is general (mmdebstrap minbase + the spec's packages)", baseline)
				}
				o, err := g.options(args[0], variant, "")
				if err != nil {
					return err
				}
				if arch == "" {
					arch = oci.DebianArch(imagesource.Host())
				}
				bo := compare.BaselineOptions{Arch: arch, Archive: baselineArchive, Audit: opts}
				if g.verbose > 0 {
					bo.Stderr = cmd.ErrOrStderr()
				}
				if a, b, err = compare.Baseline(ctx, o, bo); err != nil {
					return err
				}
			} else {
				if a, err = measure(cmd, args[0], arch, opts); err != nil {
					return err
				}
				if b, err = measure(cmd, args[1], arch, opts); err != nil {
					return err
				}
			}
			d := compare.Compare(a, b)
			if htmlFile != "" {
				if err := writeHTML(htmlFile, d); err != nil {
					return err
				}
			}
			if format == "markdown" {
				return d.WriteMarkdown(cmd.OutOrStdout())
			}
			return d.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&arch, "arch", "", "platform to take from multi-arch images, and to build with --baseline (default: the host's)")
	f.StringVar(&format, "format", "text", "output format: text or markdown")
	f.StringVar(&htmlFile, "html", "", "also write a self-contained HTML report (inline CSS and SVG charts) to this file")
	f.StringVar(&baseline, "baseline", "", "compare a spec's image against a baseline built for it: general")
	f.StringVar(&variant, "variant", "", "with --baseline: the spec's variant to build")
	f.StringVar(&baselineArchive, "baseline-archive", "", "with --baseline: also write the general-purpose image as a docker-archive")
	f.StringVar(&dbFile, "db", "", "vulnerability database file for the CVE rows (default <cache dir>/"+vuln.DefaultFile+" when it exists; without one they are left out)")
	return cmd
}

func measure(cmd *cobra.Command, name, arch string, o audit.Options) (*compare.Metrics, error) {
	src, img, err := openImage(cmd.Context(), cmd.ErrOrStderr(), name, arch)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	m, _, err := compare.MeasureTarget(name, audit.NewTarget(cmd.Context(), src, img), o)
	return m, err
}

func writeHTML(file string, d *compare.Diff) error {
	err := atomicfile.Write(file, 0o644, func(w io.Writer) error {
		return d.WriteHTML(w, d.A.Name+" vs "+d.B.Name)
	})
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	return nil
}
