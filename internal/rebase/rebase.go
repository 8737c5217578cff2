// Package rebase moves an application image built FROM one base image onto another — a
// base Spartan rebuilt with security fixes — without rebuilding it: the old base's layers
// are replaced by the new base's, the application's own layers are kept byte for byte, and
// the config is re-stitched (Image). Rebase is the workflow `spartan rebase` and `spartan
// update` run: open the three images through imagesource, find the old base from the
// application's base annotations when not named, rebase every platform, attest the result
// (SBOMs read back from it, a provenance naming the application and both bases) and hand it
// to publish to write, sign and push. go-containerregistry's mutate.Rebase is the model.
package rebase

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sbom"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/timeline"
)

// Options say what to rebase onto what, and where the result goes.
type Options struct {
	App     string // the application image: anything imagesource.Open reads
	Onto    string // the new base
	OldBase string // the base App was built on; "" reads App's base annotations
	// Pushed are images the timeline saw pushed (Pushed), newest first: when OldBase is not
	// given, those in the repository of the recorded base or of the new base are candidates
	// for the old base after what the annotations name — a base tag a rebuild moved on still
	// has its old digest there.
	Pushed []attest.Image
	// To is where the result goes: a registry reference, or an OCI layout (oci:DIR, or a
	// path). "" is App itself when App is a registry reference.
	To      string
	Signer  publish.Signer // sign and attest; nil: unsigned
	Client  *registry.Client
	Version string    // Spartan's, for the provenance and SBOMs
	Log     io.Writer // progress lines
}

// Result says what Rebase made.
type Result struct {
	Digest                string // of the rebased image or index
	To                    string // where it went, as given (or defaulted)
	Layout                string // the layout directory, when To is one
	Ref                   string // the registry reference, when To is one
	Signed, Pushed        bool
	App, OldBase, NewBase attest.Image
	Platforms             []Platform
	// Every digest the bases go by: the artifact's and, for an index, its images'. The
	// timeline names a base by the one its rebuild recorded.
	OldBaseDigests, NewBaseDigests []string
}

// Platform is one platform image of the result.
type Platform struct {
	Platform string
	Digest   string
	// Base are the new base's layer digests at the bottom of the image, App the
	// application's own layer digests on top, unchanged.
	Base, App []string
}

// Rebase rebases o.App onto o.Onto and publishes the result.
func Rebase(ctx context.Context, o Options) (*Result, error) {
	started := time.Now()
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	open := func(what, src string) (*imagesource.Source, error) {
		s, err := imagesource.Open(ctx, src, imagesource.WithClient(o.Client))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return s, nil
	}
	app, err := open("application", o.App)
	if err != nil {
		return nil, err
	}
	defer app.Close()
	po, to, err := destination(o, app)
	if err != nil {
		return nil, err
	}
	newSrc, err := open("new base", o.Onto)
	if err != nil {
		return nil, err
	}
	defer newSrc.Close()
	parts, indexAnn, err := platforms(app.Artifact, log)
	if err != nil {
		return nil, fmt.Errorf("application %s: %w", o.App, err)
	}
	bases := &oldBases{o: o, app: o.App, opened: map[string]*imagesource.Source{}}
	defer bases.close()
	for _, pt := range parts {
		if pt.old, pt.oldName, err = bases.find(ctx, pt.app, indexAnn); err != nil {
			return nil, err
		}
	}

	res := &Result{To: to, Layout: po.Layout,
		App:            attest.Image{Name: o.App, Digest: app.Digest},
		OldBase:        attest.Image{Name: parts[0].oldName, Digest: parts[0].old.Digest},
		NewBase:        attest.Image{Name: o.Onto, Digest: newSrc.Digest},
		NewBaseDigests: digestsOf(newSrc)}
	for _, pt := range parts {
		for _, d := range digestsOf(pt.old) {
			if !slices.Contains(res.OldBaseDigests, d) {
				res.OldBaseDigests = append(res.OldBaseDigests, d)
			}
		}
	}
	if po.Ref != nil {
		res.Ref = po.Ref.String()
	}
	annotations := map[string]string{AnnotationBaseName: o.Onto, AnnotationBaseDigest: newSrc.Digest}

	var images []v1.Image
	var atts []sign.Attestation
	for _, pt := range parts {
		img, err := rebaseOne(pt.app, pt.platform, pt.old, newSrc, annotations)
		if err != nil {
			return nil, err
		}
		images = append(images, img)
		p, err := describe(img, newSrc)
		if err != nil {
			return nil, err
		}
		res.Platforms = append(res.Platforms, p)
		if o.Signer == nil {
			continue
		}
		a, err := attestations(img, p, to, res.App, attest.Image{Name: pt.oldName, Digest: pt.old.Digest}, res.NewBase, o.Version, started)
		if err != nil {
			return nil, err
		}
		atts = append(atts, a...)
	}
	var artifact oci.Artifact = images[0]
	if indexAnn != nil {
		ann := maps.Clone(indexAnn)
		maps.Copy(ann, annotations)
		if artifact, err = oci.Index(images, ann); err != nil {
			return nil, err
		}
	}
	var tags []string
	if app.Kind == imagesource.KindRegistry && app.Tag != "" {
		tags = []string{app.Repo + ":" + app.Tag}
	}
	po.Signer, po.Client, po.Log = o.Signer, o.Client, log
	pr, err := publish.Artifact(ctx, artifact, tags, atts, po)
	if err != nil {
		return nil, err
	}
	res.Digest, res.Signed, res.Pushed = pr.Digest, pr.Signed, pr.Pushed
	return res, nil
}

// destination turns o.To into publish options: a layout for oci:DIR or a path, else a
// registry reference.
func destination(o Options, app *imagesource.Source) (publish.Options, string, error) {
	to := o.To
	if to == "" {
		if app.Kind != imagesource.KindRegistry {
			return publish.Options{}, "", fmt.Errorf("application %s is a %s: say where the rebased image goes with --to (a registry reference, or oci:DIR)", o.App, app.Kind)
		}
		if app.Tag == "" {
			return publish.Options{}, "", fmt.Errorf("application %s is named by digest, which the rebased image cannot have: say where it goes with --to (a registry reference, or oci:DIR)", o.App)
		}
		to = o.App
	}
	if dir, ok := strings.CutPrefix(to, imagesource.LayoutPrefix); ok {
		return publish.Options{Layout: dir}, to, nil
	}
	if imagesource.Local(to) {
		return publish.Options{Layout: to}, to, nil
	}
	ref, err := registry.ParseReference(to)
	if err != nil {
		return publish.Options{}, "", fmt.Errorf("--to %s: neither oci:DIR, a path nor a registry reference: %w", to, err)
	}
	return publish.Options{Ref: ref}, to, nil
}

// oldBases finds the base each platform image of an application was built on, opening each
// candidate once.
type oldBases struct {
	o      Options
	app    string
	opened map[string]*imagesource.Source // by name, nil when it did not open
	errs   map[string]error
}

func (b *oldBases) close() {
	for _, s := range b.opened {
		s.Close()
	}
}

func (b *oldBases) open(ctx context.Context, name string) (*imagesource.Source, error) {
	if s, ok := b.opened[name]; ok {
		return s, nil
	}
	if err, ok := b.errs[name]; ok {
		return nil, err
	}
	s, err := imagesource.Open(ctx, name, imagesource.WithClient(b.o.Client))
	if err != nil {
		if b.errs == nil {
			b.errs = map[string]error{}
		}
		b.errs[name] = err
		return nil, err
	}
	b.opened[name] = s
	return s, nil
}

// find returns the base app (one platform image) was built on: --old-base when given, else
// the first of the places its OCI base annotations point at (its manifest's, else the index's
// indexAnn), then the timeline's earlier pushes to those repositories (o.Pushed), that app is
// built on — its layers are the bottom of app's, by diff_id. What the annotations say cannot
// be taken on trust: buildah records the name the base had in its local storage (localhost/…
// for FROM oci:DIR), and with its layer cache (podman build's default) the digest of the
// intermediate image before the last instruction, not the base's.
func (b *oldBases) find(ctx context.Context, app v1.Image, indexAnn map[string]string) (*imagesource.Source, string, error) {
	if b.o.OldBase != "" {
		s, err := b.open(ctx, b.o.OldBase)
		if err != nil {
			return nil, "", fmt.Errorf("old base: %w", err)
		}
		return s, b.o.OldBase, nil
	}
	m, err := app.Manifest()
	if err != nil {
		return nil, "", fmt.Errorf("application %s: %w", b.app, err)
	}
	ann := m.Annotations
	if ann[AnnotationBaseName] == "" && ann[AnnotationBaseDigest] == "" {
		ann = indexAnn
	}
	cands := recorded(ann[AnnotationBaseName], ann[AnnotationBaseDigest], b.o.Onto)
	for _, c := range pushedIn(b.o.Pushed, ann[AnnotationBaseName], b.o.Onto) {
		if !slices.Contains(cands, c) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("application %s does not say which base it was built on (no %s annotation: not every builder writes it): name it with --old-base",
			b.app, AnnotationBaseName)
	}
	var failed []string
	for _, c := range cands {
		s, err := b.open(ctx, c)
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		if err := builtOn(app, s); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s): %v", c, s.Digest, err))
			continue
		}
		return s, c, nil
	}
	return nil, "", fmt.Errorf("none of the bases application %s names is the one it was built on (%s): name it with --old-base", b.app, strings.Join(failed, "; "))
}

// part is one platform image of the application and the base it was built on.
type part struct {
	app      v1.Image
	platform string // "" for a single image: the bases are taken as they are
	old      *imagesource.Source
	oldName  string
}

// platforms are the application's platform images: the image itself, or each platform entry
// of an index, with the index's annotations (nil for an image). Index entries that are not
// platform images (attestation manifests that name the old images) are dropped, said on log.
func platforms(a oci.Artifact, log io.Writer) ([]*part, map[string]string, error) {
	switch a := a.(type) {
	case v1.Image:
		return []*part{{app: a}}, nil, nil
	case v1.ImageIndex:
		m, err := a.IndexManifest()
		if err != nil {
			return nil, nil, err
		}
		var parts []*part
		for _, d := range m.Manifests {
			if !d.MediaType.IsImage() || d.Platform == nil || d.Platform.OS == "unknown" {
				fmt.Fprintf(log, "dropping index entry %s (%s): not a platform image\n", d.Digest, d.MediaType)
				continue
			}
			img, err := a.Image(d.Digest)
			if err != nil {
				return nil, nil, err
			}
			parts = append(parts, &part{app: img, platform: d.Platform.String()})
		}
		if len(parts) == 0 {
			return nil, nil, errors.New("the index has no platform images")
		}
		ann := maps.Clone(m.Annotations)
		if ann == nil {
			ann = map[string]string{}
		}
		return parts, ann, nil
	}
	return nil, nil, errors.New("neither an image nor an index")
}

// builtOn says why app is not built on base: base's layers (its image of app's platform) are
// not the bottom of app's.
func builtOn(app v1.Image, base *imagesource.Source) error {
	cf, err := app.ConfigFile()
	if err != nil {
		return err
	}
	img, err := platformImage(base, "base", platformOf(cf))
	if err != nil {
		return err
	}
	bcf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	ids, bids := cf.RootFS.DiffIDs, bcf.RootFS.DiffIDs
	if len(bids) == 0 || len(bids) > len(ids) || !slices.Equal(ids[:len(bids)], bids) {
		return errors.New("its layers are not the bottom of the application's")
	}
	return nil
}

// pushedIn are the pushed images in the repository of base or of onto, as repo@digest.
func pushedIn(pushed []attest.Image, base, onto string) []string {
	var repos []string
	for _, n := range []string{base, onto} {
		if ref, err := name.ParseReference(n); err == nil && n != "" {
			repos = append(repos, ref.Context().Name())
		}
	}
	var out []string
	for _, p := range pushed {
		ref, err := name.ParseReference(p.Name)
		if err != nil || !slices.Contains(repos, ref.Context().Name()) {
			continue
		}
		if c := ref.Context().Name() + "@" + p.Digest; !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Pushed are the images history records as pushed (by image name when image is not "", not
// in run exceptRun), newest first: Options.Pushed.
func Pushed(history []timeline.Event, image, exceptRun string) []attest.Image {
	var out []attest.Image
	for _, e := range slices.Backward(history) {
		if e.Event == timeline.Pushed && e.Ref != "" && e.Digest != "" && (image == "" || e.Image == image) && e.Run != exceptRun {
			out = append(out, attest.Image{Name: e.Ref, Digest: e.Digest})
		}
	}
	return out
}

// recorded are the places the base annotations point at, in the order to try them: the name
// pinned to the digest (the base's tag has usually moved on to the rebuild), the digest in the
// new base's repository (where a rebuilt base lives), the name as it is.
func recorded(base, digest, onto string) []string {
	var out []string
	add := func(c string) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if digest != "" && base != "" && !imagesource.Local(base) {
		if ref, err := name.ParseReference(base); err == nil {
			add(ref.Context().Name() + "@" + digest)
		}
	}
	if digest != "" && !imagesource.Local(onto) {
		if ref, err := name.ParseReference(onto); err == nil {
			add(ref.Context().Name() + "@" + digest)
		}
	}
	if base != "" {
		add(base)
	}
	return out
}

// digestsOf are the digests a source goes by: its own and its index entries'.
func digestsOf(s *imagesource.Source) []string {
	out := []string{s.Digest}
	if idx, ok := s.Artifact.(v1.ImageIndex); ok {
		if m, err := idx.IndexManifest(); err == nil {
			for _, e := range m.Manifests {
				out = append(out, e.Digest.String())
			}
		}
	}
	return out
}

// Record appends to the timeline file at path what a rebase of the application app, in run,
// carried and did (Events), and returns those events.
func Record(path, run, app string, res *Result) ([]timeline.Event, error) {
	history, err := timeline.Read(path)
	if err != nil {
		return nil, err
	}
	events := Events(history, run, app, time.Now().UTC(), res)
	return events, timeline.Append(path, events)
}

// Events are what the timeline records of a rebase of the application app in run: the CVE
// fixes it carried from the base's rebuilds (timeline.Carried), then rebased, signed and
// pushed, as an update records a rebuild.
func Events(history []timeline.Event, run, app string, now time.Time, res *Result) []timeline.Event {
	out := timeline.Carried(history, run, app, now, res.NewBaseDigests, res.OldBaseDigests)
	out = append(out, timeline.Event{Time: now, Event: timeline.Rebased, Run: run, Image: app, Digest: res.Digest,
		Base: res.NewBase.String(), Layout: res.Layout})
	if res.Signed {
		out = append(out, timeline.Event{Time: now, Event: timeline.Signed, Run: run, Image: app, Digest: res.Digest})
	}
	if res.Pushed {
		out = append(out, timeline.Event{Time: now, Event: timeline.Pushed, Run: run, Image: app, Digest: res.Digest, Ref: res.Ref})
	}
	return out
}

// rebaseOne rebases one platform image; platform "" takes the bases as they are (single
// images) or the host's platform of an index, so that Image says what does not match.
func rebaseOne(app v1.Image, platform string, oldSrc, newSrc *imagesource.Source, annotations map[string]string) (v1.Image, error) {
	if platform == "" {
		cf, err := app.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("application config: %w", err)
		}
		platform = platformOf(cf)
	}
	oldImg, err := platformImage(oldSrc, "old base", platform)
	if err != nil {
		return nil, err
	}
	newImg, err := platformImage(newSrc, "new base", platform)
	if err != nil {
		return nil, err
	}
	img, err := Image(app, oldImg, newImg)
	if err != nil {
		return nil, fmt.Errorf("rebase %s: %w", platform, err)
	}
	m, err := app.Manifest()
	if err != nil {
		return nil, err
	}
	ann := maps.Clone(m.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	maps.Copy(ann, annotations)
	return mutate.Annotations(img, ann).(v1.Image), nil
}

// platformImage is a base's image for platform: an index's entry for it, or a single image
// as it is (Image then refuses another platform with both named).
func platformImage(s *imagesource.Source, what, platform string) (v1.Image, error) {
	if img, ok := s.Artifact.(v1.Image); ok {
		return img, nil
	}
	img, _, err := s.Image(platform)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return img, nil
}

// describe says which layers of img are the new base's and which the application's.
func describe(img v1.Image, newSrc *imagesource.Source) (Platform, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return Platform{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return Platform{}, err
	}
	m, err := img.Manifest()
	if err != nil {
		return Platform{}, err
	}
	base, err := platformImage(newSrc, "new base", platformOf(cf))
	if err != nil {
		return Platform{}, err
	}
	bm, err := base.Manifest()
	if err != nil {
		return Platform{}, err
	}
	p := Platform{Platform: platformOf(cf), Digest: d.String()}
	for i, l := range m.Layers {
		if i < len(bm.Layers) {
			p.Base = append(p.Base, l.Digest.String())
		} else {
			p.App = append(p.App, l.Digest.String())
		}
	}
	return p, nil
}

// attestations are the SBOMs of the rebased image, read back from it (the new base's
// packages are what scanners will see), and its provenance, wrapped as a build's are.
func attestations(img v1.Image, p Platform, name string, app, oldBase, newBase attest.Image, version string, started time.Time) ([]sign.Attestation, error) {
	subject, err := attest.NewSubject(name, p.Digest)
	if err != nil {
		return nil, err
	}
	inv, err := sbom.Read(img)
	if err != nil {
		return nil, fmt.Errorf("SBOM of the rebased %s image: %w", p.Platform, err)
	}
	so := sbom.Options{Name: name, ToolVersion: version}
	docs := &build.Documents{Subject: subject}
	if docs.SPDX, err = sbom.Write(inv, sbom.SPDX, so); err != nil {
		return nil, err
	}
	if docs.CycloneDX, err = sbom.Write(inv, sbom.CycloneDX, so); err != nil {
		return nil, err
	}
	docs.Provenance, err = attest.Rebase{Subject: subject, App: app, OldBase: oldBase, NewBase: newBase,
		Platform: p.Platform, SpartanVersion: version, Started: started, Finished: time.Now(),
		SBOMs: docs.SBOMDescriptors()}.Statement()
	if err != nil {
		return nil, err
	}
	return docs.Attestations()
}
