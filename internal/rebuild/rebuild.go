// Package rebuild builds an image again from its signed provenance alone and tells whether
// the result is the same image: `spartan rebuild --verify`. The provenance's signature is
// checked first; what it records — the spec (by path and SHA-256) and the exact .debs (URI and
// SHA-256) — is all the build gets: nothing is resolved again.
package rebuild

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

// Options say how to rebuild.
type Options struct {
	Key *ecdsa.PublicKey // the key the provenance must be signed with
	// Spec is the spec file when it is not at the recorded path; "" finds it with Locate.
	Spec string
	// Locate turns the recorded spec path into a file; nil: LocateSpec from the working
	// directory.
	Locate func(recorded string) string
	// BuildOptions gives the build options for a spec file and variant ("" for the base), as
	// the command's flags (mirrors, cache, keyrings) make them.
	BuildOptions func(spec, variant string) (build.Options, error)
	// Verify makes a rebuilt digest that differs from the recorded one an error.
	Verify bool
	Name   string    // the target as the user named it, for messages
	Log    io.Writer // one line per platform: rebuilt and recorded digests
}

// Result is the rebuilt artifact's digest.
type Result struct {
	Digest   string // rebuilt
	Recorded string // the target's
}

// Reproduced says whether the rebuild gave the target back, bit for bit.
func (r *Result) Reproduced() bool { return r.Digest == r.Recorded }

// recorded is what one platform image's signed provenance says about its build.
type recorded struct {
	digest  string
	plan    *build.Plan
	created time.Time
	spec    attest.SpecRef
	variant string
}

// Rebuild rebuilds t (an image, or an index and each of its images) from the provenance
// attached to it.
func Rebuild(ctx context.Context, t *registry.Target, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	digests, err := t.Children()
	if err != nil {
		return nil, err
	}
	if digests == nil {
		digests = []string{t.Digest}
	}
	var recs []recorded
	for _, d := range digests {
		r, err := readProvenance(ctx, t, o.Key, d)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	first := recs[0]
	path := o.Spec
	if path == "" {
		locate := o.Locate
		if locate == nil {
			locate = func(p string) string { return LocateSpec(p, "") }
		}
		path = locate(first.spec.Path)
	}
	variant := first.variant
	if variant == "runtime" {
		variant = ""
	}
	bo, err := o.BuildOptions(path, variant)
	if err != nil {
		return nil, fmt.Errorf("rebuild: the spec recorded as %s: %w (give it with --spec)", first.spec.Path, err)
	}
	if want := first.spec.Digest["sha256"]; bo.Spec.Digest() != want {
		return nil, fmt.Errorf("rebuild: %s has sha256 %s, the image was built from %s: check out the commit the provenance names", path, bo.Spec.Digest(), want)
	}
	plans := make([]*build.Plan, len(recs))
	bo.Archs = nil
	for i, r := range recs {
		// Each recorded image's creation time is the epoch its files were clamped to.
		r.plan.Epoch = &recs[i].created
		plans[i] = r.plan
		bo.Archs = append(bo.Archs, r.plan.Arch)
	}
	out, err := build.BuildPlans(ctx, bo, plans)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	got, err := out.Digest()
	if err != nil {
		return nil, err
	}
	for i, im := range out.Images {
		fmt.Fprintf(log, "%s: rebuilt %s, recorded %s\n", im.Plan.Arch, im.Digest, recs[i].digest)
		if o.Verify && im.Digest != recs[i].digest {
			return nil, fmt.Errorf("rebuild --verify: %s image is %s, not %s: the build is not reproducible here", im.Plan.Arch, im.Digest, recs[i].digest)
		}
	}
	res := &Result{Digest: got, Recorded: t.Digest}
	if o.Verify && !res.Reproduced() {
		return nil, fmt.Errorf("rebuild --verify: rebuilt %s, %s is %s", got, o.Name, t.Digest)
	}
	return res, nil
}

// readProvenance returns the verified SLSA provenance of one platform image.
func readProvenance(ctx context.Context, t *registry.Target, pub *ecdsa.PublicKey, digest string) (recorded, error) {
	r := recorded{digest: digest}
	a, err := sign.Attested(ctx, t.Store, pub, digest, "SLSA provenance", attest.PredicateSLSA)
	if err != nil {
		return r, err
	}
	var p attest.Provenance
	if err := json.Unmarshal(a.Statement.Predicate, &p); err != nil {
		return r, fmt.Errorf("%s: provenance: %w", digest, err)
	}
	if r.plan, err = build.PlanFromProvenance(&p); err != nil {
		return r, fmt.Errorf("%s: %w", digest, err)
	}
	r.spec = p.BuildDefinition.ExternalParameters.Spec
	r.variant = p.BuildDefinition.ExternalParameters.Variant
	img, err := t.Image(digest)
	if err != nil {
		return r, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return r, fmt.Errorf("%s: config: %w", digest, err)
	}
	r.created = cfg.Created.Time
	return r, nil
}

// LocateSpec finds a recorded spec path: relative to the top of the git checkout dir is in
// ("" for the working directory) when there is one, else to the working directory.
func LocateSpec(p, dir string) string {
	if filepath.IsAbs(p) {
		return p
	}
	cmd := exec.Command("git", "rev-parse", "--show-toplevel")
	cmd.Dir = dir
	if top, err := cmd.Output(); err == nil {
		return filepath.Join(strings.TrimSpace(string(top)), p)
	}
	return p
}
