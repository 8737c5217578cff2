package plan_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/plan"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
)

// twoArchSpec writes a spec for amd64 and arm64 over testkit's signed repository, whose
// packages differ per architecture (so do the two images, and their creation times).
func twoArchSpec(t *testing.T) string {
	t.Helper()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	osr := testbuild.OSRelease
	osr.Arch = "all"
	app := func(arch string, day int) testkit.Deb {
		return testkit.Deb{Name: "app", Version: "1.0-1", Arch: arch, AutoDirs: true,
			Date:  time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC),
			Files: []testkit.File{{Path: "/usr/bin/app", Body: "\x7fELF app for " + arch, Mode: 0o755}}}
	}
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.1", Archs: []string{"amd64", "arm64"},
		Components: map[string][]testkit.Deb{"main": {osr, app("amd64", 2), app("arm64", 3)}}}
	srv := repo.Serve(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "archive.asc"), repo.ArmoredPublicKey(), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "spartan.yaml")
	body := "name: app\nrelease: trixie\narchs: [amd64, arm64]\nrepositories:\n  - url: " + srv.URL + "\n    suites: [trixie]\n    keyring: archive.asc\n" +
		"packages: [base-files, app]\ntags: [example.com/team/app:1, example.com/team/app:latest]\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStitchEqualsSingleMachineBuild builds each architecture on its own "worker" (its own
// download cache, a locked build pushed under the unit's key), stitches them, and checks the
// index is the one a single build of both architectures makes, signed and tagged; then that
// the plan sees everything done and a second stitch does nothing.
func TestStitchEqualsSingleMachineBuild(t *testing.T) {
	ctx := context.Background()
	path := twoArchSpec(t)
	o, err := testbuild.Options(t, path)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := build.Resolve(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := build.NewLock(o, plans)
	if err != nil {
		t.Fatal(err)
	}
	if err := build.WriteLock(build.LockPath(o.Spec), lock); err != nil {
		t.Fatal(err)
	}
	single, err := build.BuildPlans(ctx, o, plans)
	if err != nil {
		t.Fatal(err)
	}
	want, err := single.Digest()
	if err != nil {
		t.Fatal(err)
	}

	reg := newRegistry(t)
	c := registry.New("test")
	p := newPlan(t, plan.Options{Specs: []string{path}, Registry: reg + "/ci"})
	ix, err := p.Index("app")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := publish.Key{Signer: sign.Signer{Key: key}}
	if _, err := p.Stitch(ctx, ix, plan.StitchOptions{Client: c, Signer: signer}); !errors.Is(err, plan.ErrUnitMissing) {
		t.Fatalf("stitch before the units ran: %v, want ErrUnitMissing", err)
	}

	// Each worker starts from the spec and its lock alone, as `spartan build --locked
	// --arch A --push REF` does.
	for _, u := range p.Units {
		wo, err := testbuild.Options(t, path)
		if err != nil {
			t.Fatal(err)
		}
		wo.Archs = []string{u.Arch}
		l, err := build.ReadLock(build.LockPath(wo.Spec), wo.Spec, build.LockStrict)
		if err != nil {
			t.Fatal(err)
		}
		out, err := build.BuildLocked(ctx, wo, l)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := registry.ParseReference(u.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := publish.Publish(ctx, publish.Built{Options: wo, Output: out}, publish.Options{Ref: ref, Client: c, Signer: signer}); err != nil {
			t.Fatal(err)
		}
	}
	// A step whose signing fails tags nothing: no tag ever names an unsigned index.
	if _, err := p.Stitch(ctx, ix, plan.StitchOptions{Client: c, Signer: failingSigner{}}); err == nil {
		t.Fatal("stitch with a failing signer succeeded")
	}
	for _, tag := range append(ix.Tags, ix.Ref) {
		ref, err := registry.ParseReference(tag)
		if err != nil {
			t.Fatal(err)
		}
		if d, ok, err := c.Digest(ctx, ref); err != nil || ok {
			t.Errorf("signing failed, yet %s names %s (%v)", tag, d, err)
		}
	}
	res, err := p.Stitch(ctx, ix, plan.StitchOptions{Client: c, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != want || res.Skipped {
		sm, _ := single.Index.RawManifest()
		if kr, err := registry.ParseReference(ix.Ref); err == nil {
			if d, err := c.Get(ctx, kr); err == nil {
				t.Logf("single:\n%s\nstitched:\n%s", sm, d.Manifest)
			}
		}
		t.Fatalf("stitched index %s (skipped %v), single-machine build %s", res.Digest, res.Skipped, want)
	}
	for _, tag := range append(ix.Tags, ix.Ref) {
		ref, err := registry.ParseReference(tag)
		if err != nil {
			t.Fatal(err)
		}
		d, ok, err := c.Digest(ctx, ref)
		if err != nil || !ok || d != want {
			t.Errorf("%s: %s (present %v, %v), want %s", tag, d, ok, err, want)
		}
	}
	keyRef, err := registry.ParseReference(ix.Ref)
	if err != nil {
		t.Fatal(err)
	}
	store := &registry.Store{Repo: keyRef.Context(), Client: c}
	if err := sign.VerifySignature(ctx, store, &key.PublicKey, want); err != nil {
		t.Errorf("index signature: %v", err)
	}

	again := newPlan(t, plan.Options{Specs: []string{path}, Registry: reg + "/ci"})
	if err := again.Check(ctx, plan.Remote{Client: c}); err != nil {
		t.Fatal(err)
	}
	if left := again.Pending(); len(left.Units)+len(left.Indexes) != 0 {
		t.Errorf("after the pipeline, %d units and %d indexes still pending", len(left.Units), len(left.Indexes))
	}
	res, err = again.Stitch(ctx, ix, plan.StitchOptions{Client: c, Signer: signer})
	if err != nil || !res.Skipped || res.Digest != want {
		t.Errorf("second stitch: %+v, %v; want skipped with %s", res, err, want)
	}
}

type failingSigner struct{}

func (failingSigner) Sign(context.Context, *registry.Target, []sign.Attestation) error {
	return errors.New("the signing service is down")
}
