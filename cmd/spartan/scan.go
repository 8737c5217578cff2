package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/vuln"
)

// errFindings makes the process exit non-zero without printing usage.
type errFindings struct {
	n   int
	min string
}

func (e errFindings) Error() string {
	return fmt.Sprintf("%d findings at or above severity %s", e.n, e.min)
}

func newScanCmd(g *globals) *cobra.Command {
	var dbFile, format, failOn, arch string
	cmd := &cobra.Command{
		Use:   "scan TARGET",
		Short: "List the CVEs that affect an image's Debian packages (OCI layout, docker archive, registry reference, or SPDX/CycloneDX SBOM)",
		Long: `Scan reads the Debian release from os-release and the installed packages from
/var/lib/dpkg/status.d/ and /var/lib/dpkg/status (or the purls of an SBOM), and matches them by
source package and release against the vulnerability database (spartan db update).
Exit status 1 with --fail-on when a finding reaches that severity.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			min := ""
			if failOn != "" {
				var err error
				if min, err = scan.ParseSeverity(failOn); err != nil {
					return fmt.Errorf("--fail-on: %w", err)
				}
			}
			db, err := vuln.Open(g.dbPath(dbFile))
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := runScan(cmd, db, args[0], arch, g.scanOptions()...)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch format {
			case "table", "":
				err = rep.WriteTable(w)
			case "json":
				err = rep.WriteJSON(w)
			case "sarif":
				err = rep.WriteSARIF(w, version)
			default:
				return fmt.Errorf("--format %q: want table, json or sarif", format)
			}
			if err != nil {
				return err
			}
			if min != "" {
				if hits := rep.AtOrAbove(min); len(hits) > 0 {
					return errFindings{n: len(hits), min: min}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dbFile, "db", "", "vulnerability database file (default <cache dir>/"+vuln.DefaultFile+")")
	f.StringVar(&format, "format", "table", "output: table, json or sarif (SARIF 2.1.0)")
	f.StringVar(&failOn, "fail-on", "", "exit 1 when a finding has this severity or higher: unimportant, low, medium, high, critical")
	f.StringVar(&arch, "arch", "", "platform to scan in a multi-arch image (amd64, arm64, linux/arm/v7…; default: the host's)")
	return cmd
}

// scanOptions: a scan keeps what each layer holds in the cache, by layer digest, so that a
// layer is inflated once (a cache that cannot be opened only costs time).
func (g *globals) scanOptions() []scan.Option {
	c, err := cache.New(g.cacheDir)
	if err != nil {
		return nil
	}
	return []scan.Option{scan.WithLayerCache(c)}
}

// runScan scans target's packages against db.
func runScan(cmd *cobra.Command, db *vuln.DB, target, arch string, opts ...scan.Option) (*scan.Report, error) {
	inv, err := loadInventory(cmd, target, arch, opts...)
	if err != nil {
		return nil, err
	}
	rep, err := scan.Scan(db, inv)
	if err != nil {
		return nil, err
	}
	if rep.Database, err = db.Meta(); err != nil {
		return nil, err
	}
	return rep, nil
}

// loadInventory reads a scan target: an SBOM file (SPDX or CycloneDX JSON), or an image.
func loadInventory(cmd *cobra.Command, target, arch string, opts ...scan.Option) (*scan.Inventory, error) {
	if inv, isSBOM, err := scan.ReadSBOMFile(target); isSBOM {
		return inv, err
	}
	src, img, err := openImage(cmd.Context(), cmd.ErrOrStderr(), target, arch)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return scan.FromImage(img, target, opts...)
}
