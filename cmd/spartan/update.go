package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/update"
	"github.com/spartan-images/spartan/internal/vuln"
)

func (g *globals) timelinePath(flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(g.cacheDir, timeline.DefaultFile)
}

func newUpdateCmd(g *globals) *cobra.Command {
	var variant, archs, dbFile, timelineFile, ociDir, signKey, pushPrefix, appsFile string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "update [SPEC...]",
		Short: "Re-resolve specs against the archive, show the package bumps and the CVEs they fix, rewrite the locks, rebuild what changed",
		Long: `Update resolves each spec (default: every images/*/spartan.yaml under the current
directory) against the current archive and compares the result with its lock. It prints, per
image, each package that moved and the CVEs the move fixes — from the vulnerability database
(records whose fixed version lies between the old and the new version) and from the new
package's changelog (CVE ids in the entries since the old version). Images that changed are
rebuilt (written to --oci-dir DIR/<name>, signed and pushed when asked), then their lock is
rewritten, and everything is appended to the timeline (spartan timeline IMAGE).
With --apps FILE (lines "BASE IMAGE [TO]": a spec's image name, an application image built
FROM it, where the rebased application goes), the applications on each rebuilt image are
rebased onto it (as spartan rebase does), signed and pushed likewise, and recorded in the
timeline as rebased with the CVEs the rebuild fixed.
The last line per rebuilt image or rebased application on standard output is "<image> <digest>".`,
		RunE: func(cmd *cobra.Command, args []string) error {
			specs := args
			if len(specs) == 0 {
				var err error
				if specs, err = filepath.Glob(filepath.Join("images", "*", "spartan.yaml")); err != nil {
					return err
				}
				if len(specs) == 0 {
					return errors.New("no specs given and no images/*/spartan.yaml here: name the specs to update")
				}
			}
			if signKey != "" && ociDir == "" && pushPrefix == "" {
				return errors.New("--sign-key needs somewhere to store the signatures: --oci-dir DIR or --push-prefix PREFIX")
			}
			var err error
			u := &update.Updater{VulnDB: g.dbPath(dbFile), Timeline: g.timelinePath(timelineFile), Run: update.RunID(time.Now()),
				LayoutDir: ociDir, PushPrefix: pushPrefix, Client: registry.New("spartan/" + version),
				DryRun: dryRun, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
			if appsFile != "" {
				if u.Apps, err = update.ReadApps(appsFile); err != nil {
					return err
				}
			}
			if signKey != "" && !dryRun {
				k, err := publish.LoadKey(signKey)
				if err != nil {
					return err
				}
				u.Signer = k
			}
			db, err := vuln.OpenOptional(u.VulnDB, dbFile != "", func(missing error) {
				fmt.Fprintf(cmd.ErrOrStderr(), "no vulnerability database (%v): CVEs come from the changelogs only; run `spartan db update`\n", missing)
			})
			if err != nil {
				return err
			}
			if db != nil {
				u.DB = db
				defer db.Close()
			}
			return u.UpdateAll(cmd.Context(), specs, func(sp string) (build.Options, error) { return g.options(sp, variant, archs) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&variant, "variant", "", "variant of the specs (default: the base, runtime)")
	f.StringVar(&archs, "arch", "", "comma-separated Debian architectures, overriding the specs")
	f.StringVar(&dbFile, "db", "", "vulnerability database file (default <cache dir>/"+vuln.DefaultFile+"; without one, CVEs come from changelogs only)")
	f.StringVar(&timelineFile, "timeline", "", "timeline file to append to (default <cache dir>/"+timeline.DefaultFile+")")
	f.StringVar(&ociDir, "oci-dir", "", "write each rebuilt image as an OCI layout to DIR/<image name>")
	f.StringVar(&signKey, "sign-key", "", "sign each rebuilt image with this cosign key and attach its SBOMs, provenance and VEX (needs --oci-dir or --push-prefix)")
	f.StringVar(&pushPrefix, "push-prefix", "", "push each rebuilt image to PREFIX/<name>:<tag of its first spec tag, else latest>")
	f.StringVar(&appsFile, "apps", "", "file of application images to rebase onto the images rebuilt: lines \"BASE IMAGE [TO]\" (docs/timeline.md)")
	f.BoolVar(&dryRun, "dry-run", false, "show the bumps and fixes only: no rebuild, no lock or timeline written")
	return cmd
}
