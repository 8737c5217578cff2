package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/update"
	"github.com/spartan-images/spartan/internal/vuln"
)

func init() { commands = append(commands, newUpdateCmd) }

func (g *globals) timelinePath(flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(g.cacheDir, timeline.DefaultFile)
}

func newUpdateCmd(g *globals) *cobra.Command {
	var variant, archs, dbFile, timelineFile, ociDir, signKey, pushPrefix string
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
The last line per rebuilt image on standard output is "<image> <digest>".`,
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
			var db *vuln.DB
			if d, err := vuln.Open(g.dbPath(dbFile)); err == nil {
				db = d
				defer db.Close()
			} else if errors.Is(err, vuln.ErrNoDatabase) && dbFile == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "no vulnerability database (%v): CVEs come from the changelogs only; run `spartan db update`\n", err)
			} else {
				return err
			}
			tlPath := g.timelinePath(timelineFile)
			history, err := timeline.Read(tlPath)
			if err != nil {
				return err
			}
			run := runID(time.Now())
			var failed []string
			for _, sp := range specs {
				u := &updater{g: g, variant: variant, archs: archs, db: db, dbPath: g.dbPath(dbFile), tl: tlPath, run: run,
					ociDir: ociDir, signKey: signKey, pushPrefix: pushPrefix, dryRun: dryRun, cmd: cmd}
				h, err := u.update(sp, history)
				history = h
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "update %s: %v\n", sp, err)
					failed = append(failed, sp)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d specs failed: %s", len(failed), len(specs), strings.Join(failed, ", "))
			}
			return nil
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
	f.BoolVar(&dryRun, "dry-run", false, "show the bumps and fixes only: no rebuild, no lock or timeline written")
	return cmd
}

// runID names one invocation in the timeline: it ties a fix to its rebuild and push.
func runID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

type updater struct {
	g                           *globals
	variant, archs              string
	db                          *vuln.DB
	dbPath, tl, run             string
	ociDir, signKey, pushPrefix string
	dryRun                      bool
	cmd                         *cobra.Command
}

// update handles one spec and returns the history with the events it appended.
func (u *updater) update(specPath string, history []timeline.Event) ([]timeline.Event, error) {
	ctx := u.cmd.Context()
	stdout, stderr := u.cmd.OutOrStdout(), u.cmd.ErrOrStderr()
	o, err := u.g.options(specPath, u.variant, u.archs)
	if err != nil {
		return history, err
	}
	image := update.ImageName(o.Spec)
	plans, err := build.Resolve(ctx, o)
	if err != nil {
		return history, err
	}
	cur, err := build.NewLock(o, plans)
	if err != nil {
		return history, err
	}
	lockPath := build.LockPath(o.Spec)
	old, err := build.ReadLock(lockPath, o.Spec, build.LockTolerant)
	if err != nil {
		return history, err
	}
	bumps := update.Diff(old, cur)
	changed := update.Changed(old, cur, bumps)
	finder := update.Finder{DB: u.db, Release: o.Spec.Release, Fetch: o.Downloader.FetchAll}
	if err := finder.Fixes(ctx, cur, bumps); err != nil {
		return history, err
	}
	update.WriteSummary(stdout, image, bumps, changed)
	if u.dryRun {
		return history, nil
	}

	// What the mirror carries is recorded even if the rebuild fails: it is when the fix was there.
	seen := update.SeenEvents(u.run, time.Now().UTC(), cur, bumps, history)
	if err := timeline.Append(u.tl, seen); err != nil {
		return history, err
	}
	history = append(history, seen...)
	if !changed {
		return history, nil
	}

	sc := &supplyChain{signKey: u.signKey, log: stderr, vulnDB: u.dbPath}
	if u.ociDir != "" {
		sc.layoutDir = filepath.Join(u.ociDir, filepath.FromSlash(o.Spec.Name))
		if o.Spec.VariantName != "" && o.Spec.VariantName != "runtime" {
			sc.layoutDir += "-" + o.Spec.VariantName
		}
	}
	if u.pushPrefix != "" {
		tag := "latest"
		if len(o.Spec.Tags) > 0 {
			if i := strings.LastIndex(o.Spec.Tags[0], ":"); i > 0 && !strings.Contains(o.Spec.Tags[0][i:], "/") {
				tag = o.Spec.Tags[0][i+1:]
			}
		}
		sc.pushRef = strings.TrimSuffix(u.pushPrefix, "/") + "/" + o.Spec.Name + ":" + tag
	}
	if err := sc.prepare(); err != nil {
		return history, err
	}
	started := time.Now()
	out, err := build.BuildPlans(ctx, o, plans)
	if err != nil {
		return history, err
	}
	finished := time.Now()
	digest, err := out.Digest()
	if err != nil {
		return history, err
	}
	if sc.layoutDir != "" {
		ref := ""
		if len(out.Tags) > 0 {
			ref = out.Tags[0]
		}
		if err := os.MkdirAll(filepath.Dir(sc.layoutDir), 0o755); err != nil {
			return history, err
		}
		if err := oci.WriteLayout(sc.layoutDir, out.Artifact(), ref); err != nil {
			return history, fmt.Errorf("write OCI layout: %w", err)
		}
	}
	rebuilt := time.Now().UTC()
	var events []timeline.Event
	events = append(events, update.FixedEvents(u.run, image, rebuilt, bumps, history)...)
	events = append(events, timeline.Event{Time: rebuilt, Event: timeline.Rebuilt, Run: u.run, Image: image, Digest: digest, Layout: sc.layoutDir})
	if sc.signKey != "" || sc.pushRef != "" {
		if err := sc.run(ctx, o, out, started, finished); err != nil {
			// Lock and timeline stay as they were: the next run rebuilds (the same digest) and
			// tries again, and the timeline records the fix once, with its push.
			return history, err
		}
		now := time.Now().UTC()
		if sc.signKey != "" {
			events = append(events, timeline.Event{Time: now, Event: timeline.Signed, Run: u.run, Image: image, Digest: digest})
		}
		if sc.pushRef != "" {
			events = append(events, timeline.Event{Time: now, Event: timeline.Pushed, Run: u.run, Image: image, Digest: digest, Ref: sc.pushRef})
		}
	}
	if err := build.WriteLock(lockPath, cur); err != nil {
		return history, err
	}
	if err := timeline.Append(u.tl, events); err != nil {
		return history, err
	}
	fmt.Fprintf(stdout, "%s %s\n", image, digest)
	return append(history, events...), nil
}
