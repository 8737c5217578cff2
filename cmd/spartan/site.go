package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/site"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/vuln"
)

func newSiteCmd(g *globals) *cobra.Command {
	var catalogs, baselines []string
	var built, timelineFile, dbFile, keyFile, arch string
	cmd := &cobra.Command{
		Use:   "site OUTDIR",
		Short: "Generate the static catalog site: image pages, CVE history, patch timelines, OSV and OpenVEX feeds",
		Long: `Site writes a static site into OUTDIR (replaced as a whole; it must be new, empty or an
earlier site) from the catalog specs (--catalog, default images/; every variant), the images
built from them (--images DIR holding <name> or <name>-<variant> as an OCI layout or a .tar
archive), the patch timeline, the vulnerability database and the public key that checks the
images' attestations: index.html, one page per image with its SBOMs, provenance and OpenVEX
beside it, feeds/osv/ (one OSV record per CVE fixed in a catalog image) and catalog.json.
Pages need no network and no JavaScript; the same inputs give the same bytes (document
timestamps come from SOURCE_DATE_EPOCH, else the Unix epoch). A missing input is named on
the pages it would have filled.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := site.Catalog(catalogs, built)
			if err != nil {
				return err
			}
			for _, b := range baselines {
				if err := site.SetBaseline(entries, b); err != nil {
					return fmt.Errorf("--baseline: %w", err)
				}
			}
			o := site.Options{Entries: entries, Arch: arch, Version: version, Time: time.Unix(0, 0).UTC()}
			if epoch, err := sourceDateEpoch(); err != nil {
				return err
			} else if epoch != nil {
				o.Time = epoch.UTC()
			}
			tl := g.timelinePath(timelineFile)
			if _, err := os.Stat(tl); err == nil || timelineFile != "" {
				if o.Events, err = timeline.Read(tl); err != nil {
					return err
				}
				o.TimelineFile = tl
			}
			db, err := vuln.OpenOptional(g.dbPath(dbFile), dbFile != "", nil)
			if err != nil {
				return err
			}
			if db != nil {
				defer db.Close()
				o.DB, o.DBFile = db, g.dbPath(dbFile)
			}
			if keyFile != "" {
				if o.Key, err = sign.LoadPublicKey(keyFile); err != nil {
					return err
				}
				if o.KeyPEM, err = os.ReadFile(keyFile); err != nil {
					return fmt.Errorf("--key: %w", err)
				}
			}
			res, err := site.Generate(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			var total int64
			for _, p := range res.Pages {
				total += p.Size
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d images, %d files, %d bytes\n", res.Dir, len(entries), len(res.Pages), total)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&catalogs, "catalog", []string{"images"}, "folder of image specs (one sub-folder per image with spartan.yaml); repeatable")
	f.StringVar(&built, "images", "", "folder of built images: <name> or <name>-<variant>, as an OCI layout directory or .tar archive")
	f.StringArrayVar(&baselines, "baseline", nil, "NAME=IMAGE: the general-purpose equivalent of an image (compare --baseline-archive); repeatable")
	f.StringVar(&timelineFile, "timeline", "", "timeline file (default <cache dir>/"+timeline.DefaultFile+" when it exists)")
	f.StringVar(&dbFile, "db", "", "vulnerability database (default <cache dir>/"+vuln.DefaultFile+" when it exists)")
	f.StringVar(&keyFile, "key", "", "public key (cosign.pub) that checks the images' attestations; published on the site")
	f.StringVar(&arch, "arch", "amd64", "platform the pages describe")
	return cmd
}
