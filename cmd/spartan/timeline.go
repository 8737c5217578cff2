package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/vuln"
)

func newTimelineCmd(g *globals) *cobra.Command {
	var timelineFile, dbFile, target, arch string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "timeline IMAGE",
		Short: "Show how fast each CVE fix reached an image: published, fix seen on the mirror, rebuilt, pushed, and latency statistics",
		Long: `Timeline reads the events spartan update appended (--timeline, default
<cache dir>/timeline.jsonl) for IMAGE (the spec's name; name:variant for a variant) and prints,
per CVE fixed, when it was published (when a source gives a date), when the fixed version was
first on the mirror (the Date of the InRelease that carried it), when the image was rebuilt,
signed and pushed, with the latencies, then the median and 95th percentile from fix seen to
rebuilt. With a vulnerability database, the CVEs still open in the current image (the last
rebuilt layout, or --target) are listed by age.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			events, err := timeline.Read(g.timelinePath(timelineFile))
			if err != nil {
				return err
			}
			rep := timeline.Build(events, args[0])
			if target == "" {
				for _, e := range slices.Backward(events) {
					if e.Image == args[0] && e.Event == timeline.Rebuilt && e.Layout != "" {
						target = e.Layout
						break
					}
				}
			}
			var open []timeline.Open
			scanned := false
			if _, err := os.Stat(target); target != "" && err == nil {
				db, err := vuln.OpenOptional(g.dbPath(dbFile), dbFile != "", nil)
				if err != nil {
					return err
				}
				if db != nil {
					defer db.Close()
					rep, err := runScan(cmd, db, target, arch, g.scanOptions()...)
					if err != nil {
						return err
					}
					open, scanned = timeline.OpenCVEs(rep), true
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				out := struct {
					timeline.Report
					Open []timeline.Open   `json:",omitempty"`
					Ages []timeline.Bucket `json:",omitempty"`
				}{Report: rep}
				if scanned {
					out.Open, out.Ages = open, timeline.ByAge(open, time.Now())
				}
				return enc.Encode(out)
			}
			if err := rep.WriteText(w); err != nil {
				return err
			}
			if scanned {
				fmt.Fprintf(w, "\nopen CVEs in %s: %d\n", target, len(open))
				for _, b := range timeline.ByAge(open, time.Now()) {
					fmt.Fprintf(w, "  %-13s %d\n", b.Label, b.Count)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&timelineFile, "timeline", "", "timeline file (default <cache dir>/"+timeline.DefaultFile+")")
	f.StringVar(&dbFile, "db", "", "vulnerability database for the open CVEs (default <cache dir>/"+vuln.DefaultFile+")")
	f.StringVar(&target, "target", "", "image to scan for open CVEs (default: the layout of the last rebuild)")
	f.StringVar(&arch, "arch", "", "platform to scan in a multi-arch layout (default: the host's)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
