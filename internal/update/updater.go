package update

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/rebase"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/timeline"
	"github.com/spartan-images/spartan/internal/vuln"
)

// Updater is `spartan update`: per spec, resolve again, compare with the lock, name the CVEs
// the bumps fix, rebuild what changed, publish it, then rewrite the lock and extend the
// timeline.
//
// The order decides what a failure leaves behind. The versions seen on the mirror are recorded
// first, even if the rebuild then fails: that is when the fix was there. The lock and the
// rebuilt/signed/pushed events are written only once the image is published, so that after a
// failed build, signature or push the next run rebuilds (the same digest) and tries again, and
// the timeline records the fix once, with its push.
type Updater struct {
	DB       *vuln.DB // nil: CVEs come from the changelogs only
	VulnDB   string   // the database's file, for the VEX attestation of signed images
	Timeline string   // file the events are appended to
	Run      string   // this invocation's id in the timeline (RunID)

	LayoutDir  string         // write each rebuilt image as an OCI layout to LayoutDir/<name>[-<variant>]
	PushPrefix string         // push each rebuilt image to PushPrefix/<name>:<tag>
	Signer     publish.Signer // sign and attest each rebuilt image; nil: unsigned
	Client     *registry.Client
	Pusher     publish.Pusher // nil: Client

	// Apps are the application images built on the images update rebuilds, by base
	// (ReadApps): after a rebuild of a base its applications are rebased onto it, signed and
	// pushed like it, and the timeline records them rebased with the CVEs they got.
	Apps map[string][]App

	DryRun         bool // show the bumps and fixes only
	Stdout, Stderr io.Writer
}

// RunID names one invocation in the timeline: it ties a fix to its rebuild and push.
func RunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// UpdateAll updates each spec in turn, options giving a spec's build options. A spec that
// fails is reported on Stderr and the others still run; the error names the ones that failed.
func (u *Updater) UpdateAll(ctx context.Context, specs []string, options func(spec string) (build.Options, error)) error {
	history, err := timeline.Read(u.Timeline)
	if err != nil {
		return err
	}
	var failed []string
	for _, sp := range specs {
		o, err := options(sp)
		if err == nil {
			history, err = u.Update(ctx, o, history)
		}
		if err != nil {
			fmt.Fprintf(u.Stderr, "update %s: %v\n", sp, err)
			failed = append(failed, sp)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d specs failed: %s", len(failed), len(specs), strings.Join(failed, ", "))
	}
	return nil
}

// Update handles one spec and returns history with the events it appended.
func (u *Updater) Update(ctx context.Context, o build.Options, history []timeline.Event) ([]timeline.Event, error) {
	image := ImageName(o.Spec)
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
	bumps := Diff(old, cur)
	changed := Changed(old, cur, bumps)
	finder := Finder{DB: u.DB, Release: o.Spec.Release}
	if o.Downloader != nil {
		finder.Fetch = o.Downloader.FetchAll
	}
	if err := finder.Fixes(ctx, cur, bumps); err != nil {
		return history, err
	}
	WriteSummary(u.Stdout, image, bumps, changed)
	if u.DryRun {
		return history, nil
	}

	seen := SeenEvents(u.Run, time.Now().UTC(), cur, bumps, history)
	if err := timeline.Append(u.Timeline, seen); err != nil {
		return history, err
	}
	history = append(history, seen...)
	if !changed {
		return history, nil
	}

	po, ref, err := u.publishOptions(o.Spec)
	if err != nil {
		return history, err
	}
	b := publish.Built{Options: o, Started: time.Now()}
	if b.Output, err = build.BuildPlans(ctx, o, plans); err != nil {
		return history, err
	}
	b.Finished = time.Now()
	rebuilt := b.Finished.UTC()
	res, err := publish.Publish(ctx, b, po)
	if err != nil {
		return history, err
	}
	var events []timeline.Event
	events = append(events, FixedEvents(u.Run, image, rebuilt, bumps, history)...)
	events = append(events, timeline.Event{Time: rebuilt, Event: timeline.Rebuilt, Run: u.Run, Image: image, Digest: res.Digest, Layout: po.Layout})
	now := time.Now().UTC()
	if res.Signed {
		events = append(events, timeline.Event{Time: now, Event: timeline.Signed, Run: u.Run, Image: image, Digest: res.Digest})
	}
	if res.Pushed {
		events = append(events, timeline.Event{Time: now, Event: timeline.Pushed, Run: u.Run, Image: image, Digest: res.Digest, Ref: ref})
	}
	if err := build.WriteLock(lockPath, cur); err != nil {
		return history, err
	}
	if err := timeline.Append(u.Timeline, events); err != nil {
		return history, err
	}
	fmt.Fprintf(u.Stdout, "%s %s\n", image, res.Digest)
	return u.rebaseApps(ctx, image, o.Version, po, ref, append(history, events...))
}

// rebaseApps moves the applications built on image onto its rebuild, which went to ref or
// po.Layout. An application that fails is reported on Stderr and the others still run; the
// error names those that failed (`spartan rebase` does one again).
func (u *Updater) rebaseApps(ctx context.Context, image, version string, po publish.Options, ref string, history []timeline.Event) ([]timeline.Event, error) {
	apps := u.Apps[image]
	if len(apps) == 0 {
		return history, nil
	}
	onto := ref
	if onto == "" && po.Layout != "" {
		onto = imagesource.LayoutPrefix + po.Layout
	}
	if onto == "" {
		return history, fmt.Errorf("%d applications on %s to rebase, but the rebuilt image went nowhere they can read it from: give --oci-dir or --push-prefix", len(apps), image)
	}
	pushed := rebase.Pushed(history, image, u.Run)
	var failed []string
	for _, a := range apps {
		res, err := rebase.Rebase(ctx, rebase.Options{App: a.Image, Onto: onto, To: a.To, Pushed: pushed,
			Signer: u.Signer, Client: u.Client, Version: version, Log: u.Stderr})
		if err != nil {
			fmt.Fprintf(u.Stderr, "rebase %s onto %s: %v\n", a.Image, onto, err)
			failed = append(failed, a.Image)
			continue
		}
		events := rebase.Events(history, u.Run, a.Image, time.Now().UTC(), res)
		if err := timeline.Append(u.Timeline, events); err != nil {
			return history, err
		}
		history = append(history, events...)
		fmt.Fprintf(u.Stdout, "%s %s\n", a.Image, res.Digest)
	}
	if len(failed) > 0 {
		return history, fmt.Errorf("%d of %d applications on %s were not rebased: %s", len(failed), len(apps), image, strings.Join(failed, ", "))
	}
	return history, nil
}

// publishOptions says where one spec's rebuilt image goes: its own layout under LayoutDir,
// its own repository under PushPrefix (ref, as the timeline records it).
func (u *Updater) publishOptions(s *spec.Spec) (po publish.Options, ref string, err error) {
	po = publish.Options{Signer: u.Signer, VulnDB: u.VulnDB, Client: u.Client, Pusher: u.Pusher, Log: u.Stderr}
	if u.LayoutDir != "" {
		po.Layout = filepath.Join(u.LayoutDir, filepath.FromSlash(s.Name))
		if s.VariantName != "" && s.VariantName != "runtime" {
			po.Layout += "-" + s.VariantName
		}
	}
	if u.PushPrefix != "" {
		ref = PushRef(u.PushPrefix, s)
		if po.Ref, err = registry.ParseReference(ref); err != nil {
			return po, "", fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return po, ref, nil
}

// PushRef is where an image of s goes under prefix: PREFIX/<name>:<the tag of its first spec
// tag, else latest>.
func PushRef(prefix string, s *spec.Spec) string {
	tag := "latest"
	if len(s.Tags) > 0 {
		if i := strings.LastIndex(s.Tags[0], ":"); i > 0 && !strings.Contains(s.Tags[0][i:], "/") {
			tag = s.Tags[0][i+1:]
		}
	}
	return strings.TrimSuffix(prefix, "/") + "/" + s.Name + ":" + tag
}
