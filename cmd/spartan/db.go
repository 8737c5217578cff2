package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/scan"
	"github.com/spartan-images/spartan/internal/vuln"
)

// dbPath is the vulnerability database a command uses: --db, else <cache dir>/vuln.db.
func (g *globals) dbPath(flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(g.cacheDir, vuln.DefaultFile)
}

// optionalVulnDB opens the vulnerability database for the commands that use it when there is
// one (vuln.OpenOptional): nil when there is none. close is never nil.
func (g *globals) optionalVulnDB(flag string) (db scan.Lookup, closeFn func(), err error) {
	d, err := vuln.OpenOptional(g.dbPath(flag), flag != "", nil)
	if err != nil || d == nil {
		return nil, func() {}, err
	}
	return d, func() { d.Close() }, nil
}

func newDBCmd(g *globals) *cobra.Command {
	var dbFile string
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the vulnerability database (Debian Security Tracker, OSV)",
	}
	cmd.PersistentFlags().StringVar(&dbFile, "db", "", "vulnerability database file (default <cache dir>/"+vuln.DefaultFile+")")

	var url string
	update := &cobra.Command{
		Use:   "update",
		Short: "Download the Debian Security Tracker feed and import it (conditional: unchanged feeds are not downloaded again)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				url = os.Getenv(vuln.EnvTrackerURL)
			}
			if url == "" {
				url = vuln.DefaultTrackerURL
			}
			u := &vuln.Updater{HTTP: &http.Client{Timeout: 10 * time.Minute}, UserAgent: "spartan/" + version}
			res, err := u.Update(cmd.Context(), g.dbPath(dbFile), url)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if res.NotModified {
				_, err = fmt.Fprintf(w, "tracker feed unchanged since %s (sha256 %s)\n", res.Meta.Imported.Format(time.RFC3339), res.Meta.SHA256)
				return err
			}
			return printMeta(cmd, res.Meta)
		},
	}
	update.Flags().StringVar(&url, "url", "", "tracker feed URL (env "+vuln.EnvTrackerURL+"; default "+vuln.DefaultTrackerURL+")")

	importCmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a saved Debian Security Tracker JSON feed (for sites without network)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := vuln.ImportTrackerFile(g.dbPath(dbFile), args[0], time.Now())
			if err != nil {
				return err
			}
			return printMeta(cmd, m)
		},
	}
	importOSV := &cobra.Command{
		Use:   "import-osv DIR|FILE",
		Short: "Import OSV Debian records (a directory of .json records, one record, or a .zip of them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := vuln.ImportOSV(g.dbPath(dbFile), args[0], time.Now())
			if err != nil {
				return err
			}
			return printMeta(cmd, m)
		},
	}
	importSecDB := &cobra.Command{
		Use:   "import-secdb FILE...",
		Short: "Import Alpine secdb files (main.json, community.json of one or more branches; .yaml too)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, skipped, err := vuln.ImportSecDB(g.dbPath(dbFile), args, time.Now())
			if err != nil {
				return err
			}
			for _, s := range skipped {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", s)
			}
			return printMeta(cmd, m)
		},
	}
	info := &cobra.Command{
		Use:   "info",
		Short: "Show the database's sources, digests and import times",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := vuln.Open(g.dbPath(dbFile))
			if err != nil {
				return err
			}
			defer db.Close()
			metas, err := db.Meta()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database %s\n", db.Path)
			for _, m := range metas {
				if err := printMeta(cmd, m); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.AddCommand(update, importCmd, importOSV, importSecDB, info)
	return cmd
}

func printMeta(cmd *cobra.Command, m vuln.Meta) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "source\t%s\n", m.Source)
	fmt.Fprintf(tw, "from\t%s\n", m.URL)
	fmt.Fprintf(tw, "sha256\t%s\n", m.SHA256)
	fmt.Fprintf(tw, "imported\t%s\n", m.Imported.Format(time.RFC3339))
	if m.ETag != "" {
		fmt.Fprintf(tw, "etag\t%s\n", m.ETag)
	}
	fmt.Fprintf(tw, "entries\t%d (%d records)\n", m.Packages, m.Records)
	return tw.Flush()
}
