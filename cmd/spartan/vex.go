package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/vex"
	"github.com/spartan-images/spartan/internal/vuln"
)

func newVEXCmd(g *globals) *cobra.Command {
	var dbFile, arch, cutsFile, timestamp, author, output string
	cmd := &cobra.Command{
		Use:   "vex TARGET",
		Short: "Write an OpenVEX document for an image or SBOM: fixed, not affected, affected (with the action), under investigation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ts := time.Now()
			if timestamp != "" {
				var err error
				if ts, err = time.Parse(time.RFC3339, timestamp); err != nil {
					return fmt.Errorf("--timestamp %q: want RFC 3339 (2026-01-02T15:04:05Z)", timestamp)
				}
			} else if epoch, err := sourceDateEpoch(); err != nil {
				return err
			} else if epoch != nil {
				ts = *epoch
			}
			var cuts []string
			if cutsFile != "" {
				var err error
				if cuts, err = vex.ReadCuts(cutsFile); err != nil {
					return err
				}
			}
			db, err := vuln.Open(g.dbPath(dbFile))
			if err != nil {
				return err
			}
			defer db.Close()
			inv, err := loadInventory(cmd, args[0], arch, g.scanOptions()...)
			if err != nil {
				return err
			}
			ms, err := scan.Matches(db, inv)
			if err != nil {
				return err
			}
			doc, err := vex.Build(db, inv, ms, vex.Options{Author: author, Timestamp: ts, Tooling: "spartan " + version, Cut: cuts})
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				return doc.Write(cmd.OutOrStdout())
			}
			f, err := os.Create(output)
			if err != nil {
				return fmt.Errorf("--output: %w", err)
			}
			if err := doc.Write(f); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dbFile, "db", "", "vulnerability database file (default <cache dir>/"+vuln.DefaultFile+")")
	f.StringVar(&arch, "arch", "", "platform to describe in a multi-arch image (amd64, arm64…; default: the host's)")
	f.StringVar(&cutsFile, "cuts", "", "`spartan resolve --json` output whose cut packages get component_not_present statements (an SBOM target carries its own)")
	f.StringVar(&timestamp, "timestamp", "", "document timestamp, RFC 3339 (default SOURCE_DATE_EPOCH, else now)")
	f.StringVar(&author, "author", "spartan", "document author")
	f.StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}
