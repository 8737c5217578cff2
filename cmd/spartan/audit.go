package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/vuln"
)

func newAuditCmd(g *globals) *cobra.Command {
	var arch, exitLevel, ignoreFile, format, dbFile, cveLevel string
	var list bool
	cmd := &cobra.Command{
		Use:   "audit TARGET",
		Short: "Check any image for hardening problems (root user, shells, setuid files, secrets…)",
		Long: `Audit reads an image — an OCI layout directory, a docker-archive or oci-archive file, or a
registry reference — flattens its layers and runs the checks listed in docs/audit.md (Dockle's
checkpoints where one exists). Each finding has a check id, a level (FATAL, WARN, INFO; PASS
for checks that found nothing) and the file or config field it is about.

With a vulnerability database (--db, or <cache dir>/vuln.db when it exists) check SPT-0009
lists the CVEs at or above --cve-level in the image's Debian packages: WARN when Debian has
published the fix (rebuild the image), INFO when there is no fix yet or Debian will not fix it.

The exit status is non-zero when a finding is at or above --exit-level.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if list {
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				for _, c := range audit.Checks {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Level, c.Title)
				}
				return tw.Flush()
			}
			exit, err := audit.ParseLevel(exitLevel)
			if err != nil || exit == audit.Pass {
				return fmt.Errorf("--exit-level %q: want fatal, warn or info", exitLevel)
			}
			var ig *audit.Ignore
			if ignoreFile != "" {
				if ig, err = audit.LoadIgnore(ignoreFile); err != nil {
					return err
				}
			}
			if _, err := scan.ParseSeverity(cveLevel); err != nil {
				return fmt.Errorf("--cve-level: %w", err)
			}
			db, closeDB, err := g.optionalVulnDB(dbFile)
			if err != nil {
				return err
			}
			defer closeDB()
			src, img, err := openImage(cmd.Context(), cmd.ErrOrStderr(), args[0], arch)
			if err != nil {
				return err
			}
			defer src.Close()
			rep, err := audit.Audit(audit.NewTarget(cmd.Context(), src, img), audit.Options{Vulns: db, CVELevel: cveLevel})
			if err != nil {
				return err
			}
			ig.Apply(rep)
			switch format {
			case "table":
				err = rep.WriteTable(out)
			case "json":
				err = rep.WriteJSON(out)
			case "sarif":
				err = rep.WriteSARIF(out, version)
			default:
				return fmt.Errorf("--format %q: want table, json or sarif", format)
			}
			if err != nil {
				return err
			}
			if rep.Failed(exit) {
				c := rep.Counts()
				return fmt.Errorf("audit %s: findings at or above %s (%d FATAL, %d WARN, %d INFO)", args[0], exit, c[audit.Fatal], c[audit.Warn], c[audit.Info])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&arch, "arch", "", "platform to take from a multi-arch image (amd64, arm64, linux/arm/v7…; default: the host's)")
	f.StringVar(&exitLevel, "exit-level", "fatal", "exit non-zero when a finding is at or above this level: fatal, warn or info")
	f.StringVar(&ignoreFile, "ignore", "", "file of check ids (or ID:PATH, PATH may be a glob) to ignore, one a line, # comments")
	f.StringVar(&format, "format", "table", "output format: table, json or sarif")
	f.BoolVar(&list, "list-checks", false, "list the checks and exit")
	f.StringVar(&dbFile, "db", "", "vulnerability database file for SPT-0009 (default <cache dir>/"+vuln.DefaultFile+" when it exists; without one the check is skipped)")
	f.StringVar(&cveLevel, "cve-level", audit.DefaultCVELevel, "lowest CVE severity SPT-0009 reports: unimportant, low, medium, high or critical")
	return cmd
}
