package rebase_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/rebase"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
)

// libfoo is a library package at version v.
func libfoo(v string) testkit.Deb {
	return testkit.Deb{Name: "libfoo1", Version: v, Source: "foo", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/lib/x86_64-linux-gnu/libfoo.so.1", Body: "\x7fELF libfoo " + v, Mode: 0o644}}}
}

// bases builds the same spec from testkit's repository twice, before and after a libfoo1
// update, as `spartan update` would, and writes both as layouts.
func bases(t *testing.T) (oldDir, newDir string) {
	t.Helper()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	suite := &testkit.Suite{Codename: "trixie", Version: "13.1", Components: map[string][]testkit.Deb{"main": {testbuild.OSRelease, libfoo("1.0-1")}}}
	repo.Suites["trixie"] = suite
	srv := repo.Serve(t)
	specPath := testbuild.WriteSpec(t, t.TempDir(), srv.URL, repo, "foo", "example.com/foo:1", "base-files", "libfoo1")
	dirs := []string{}
	for _, v := range []string{"1.0-1", "1.0-2"} {
		suite.Components["main"] = []testkit.Deb{testbuild.OSRelease, libfoo(v)}
		if err := srv.Publish(); err != nil {
			t.Fatal(err)
		}
		o, err := testbuild.Options(t, specPath)
		if err != nil {
			t.Fatal(err)
		}
		out, err := build.Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "foo-"+v)
		if err := oci.WriteLayout(dir, out.Artifact(), ""); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs[0], dirs[1]
}

// application is base with a COPY'd application layer on top, as `podman build` makes it,
// with the base annotations buildah writes when annotations is set.
func application(t *testing.T, baseDir string, annotations map[string]string) v1.Image {
	t.Helper()
	src, err := imagesource.Layout(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	base, _, err := src.Image("")
	if err != nil {
		t.Fatal(err)
	}
	app, err := mutate.Append(base, mutate.Addendum{Layer: static.NewLayer(gzipTar(t, "app/main.py", "print('hello')\n"), types.OCILayer),
		History: v1.History{CreatedBy: "/bin/sh -c #(nop) COPY file:main.py in /app/"}})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := app.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Cmd = []string{"/app/main.py"}
	if app, err = mutate.ConfigFile(app, cf); err != nil {
		t.Fatal(err)
	}
	if annotations != nil {
		app = mutate.Annotations(app, annotations).(v1.Image)
	}
	return app
}

// gzipTar is a gzip-compressed tar holding one file.
func gzipTar(t *testing.T, path, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layoutImage(t *testing.T, dir string) (*imagesource.Source, v1.Image) {
	t.Helper()
	s, err := imagesource.Layout(dir)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := s.Image("")
	if err != nil {
		t.Fatal(err)
	}
	return s, img
}

// TestRebaseLayout: an application on the old base, in a layout, rebased onto the new base
// into another layout, signed: its layers are the new base's and its own, its signature and
// attestations verify, the SBOM lists the new libfoo1 and the provenance names the three
// images.
func TestRebaseLayout(t *testing.T) {
	oldDir, newDir := bases(t)
	app := application(t, oldDir, nil)
	appDir := filepath.Join(t.TempDir(), "app")
	if err := oci.WriteLayout(appDir, app, "example.com/app:1"); err != nil {
		t.Fatal(err)
	}
	key := testkit.SigningKey(t)
	out := filepath.Join(t.TempDir(), "rebased")
	res, err := rebase.Rebase(context.Background(), rebase.Options{App: appDir, Onto: newDir, OldBase: oldDir, To: "oci:" + out,
		Signer: publish.Key{Signer: sign.Signer{Key: key}}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Signed || res.Pushed || res.Layout != out {
		t.Errorf("result %+v", res)
	}
	src, got := layoutImage(t, out)
	if src.Digest != res.Digest {
		t.Errorf("layout holds %s, Rebase said %s", src.Digest, res.Digest)
	}
	_, newBase := layoutImage(t, newDir)
	appLayers := testkit.LayerDigests(t, app)
	want := append(testkit.LayerDigests(t, newBase), appLayers[len(appLayers)-1])
	if !slices.Equal(testkit.LayerDigests(t, got), want) {
		t.Errorf("layers %v, want %v", testkit.LayerDigests(t, got), want)
	}
	if p := res.Platforms[0]; !slices.Equal(p.App, appLayers[len(appLayers)-1:]) || !slices.Equal(p.Base, testkit.LayerDigests(t, newBase)) {
		t.Errorf("platform %+v", p)
	}
	m, err := got.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations[rebase.AnnotationBaseName] != newDir || m.Annotations[rebase.AnnotationBaseDigest] != res.NewBase.Digest {
		t.Errorf("annotations %v", m.Annotations)
	}
	tg, err := src.Target()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sign.VerifySignature(ctx, tg.Store, &key.PublicKey, res.Digest); err != nil {
		t.Fatal(err)
	}
	atts, rejected, err := sign.VerifyAttestations(ctx, tg.Store, &key.PublicKey, res.Digest)
	if err != nil || len(rejected) > 0 {
		t.Fatal(err, rejected)
	}
	found := map[string]string{}
	for _, a := range atts {
		found[a.PredicateType] = string(a.Raw)
	}
	if spdx := found[attest.PredicateSPDX]; !strings.Contains(spdx, `"versionInfo":"1.0-2"`) || strings.Contains(spdx, `"versionInfo":"1.0-1"`) {
		t.Errorf("SPDX SBOM does not list libfoo1 1.0-2 alone:\n%.2000s", spdx)
	}
	var prov struct {
		Predicate attest.RebaseProvenance `json:"predicate"`
	}
	if err := json.Unmarshal([]byte(found[attest.PredicateSLSA]), &prov); err != nil {
		t.Fatal(err)
	}
	ep := prov.Predicate.BuildDefinition.ExternalParameters
	if prov.Predicate.BuildDefinition.BuildType != attest.RebaseBuildType || ep.Application != res.App || ep.OldBase != res.OldBase || ep.NewBase != res.NewBase ||
		ep.Application.Digest == "" || ep.OldBase.Digest == ep.NewBase.Digest {
		t.Errorf("provenance parameters %+v, result %+v", ep, res)
	}
}

// TestRebaseRegistry: the application in a registry names its base by annotation (the tag
// has moved on to the new base since); rebase finds the old base by the recorded digest and
// pushes the result back to the application's tag.
func TestRebaseRegistry(t *testing.T) {
	oldDir, newDir := bases(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := registry.New("test")
	ctx := context.Background()
	push := func(src, ref string) string {
		s, err := imagesource.Open(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := registry.ParseReference(ref)
		d, _, err := c.Push(ctx, &registry.Source{Artifact: s.Artifact}, r)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	oldDigest := push(oldDir, host+"/base/foo:1")
	app := application(t, oldDir, map[string]string{rebase.AnnotationBaseName: host + "/base/foo:1", rebase.AnnotationBaseDigest: oldDigest})
	appRef, _ := registry.ParseReference(host + "/team/app:1")
	if _, _, err := c.Push(ctx, &registry.Source{Artifact: app}, appRef); err != nil {
		t.Fatal(err)
	}
	push(newDir, host+"/base/foo:1") // the base's tag moves on

	res, err := rebase.Rebase(ctx, rebase.Options{App: host + "/team/app:1", Onto: host + "/base/foo:1", Client: c,
		Signer: publish.Key{Signer: sign.Signer{Key: testkit.SigningKey(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldBase.Digest != oldDigest || res.OldBase.Name != host+"/base/foo@"+oldDigest || !res.Pushed || !res.Signed || res.Ref != host+"/team/app:1" {
		t.Errorf("result %+v", res)
	}
	got, err := imagesource.Remote(ctx, host+"/team/app:1", c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != res.Digest {
		t.Errorf("the tag holds %s, rebase made %s", got.Digest, res.Digest)
	}

	if _, err := rebase.Rebase(ctx, rebase.Options{App: host + "/team/app@" + res.Digest, Onto: host + "/base/foo:1", Client: c}); err == nil ||
		!strings.Contains(err.Error(), "is named by digest, which the rebased image cannot have: say where it goes with --to") {
		t.Errorf("an application named by digest, without --to: %v", err)
	}

	// Rebasing the result again onto the same base: its annotations now name the new base.
	again, err := rebase.Rebase(ctx, rebase.Options{App: host + "/team/app:1", Onto: host + "/base/foo:1", Client: c, To: host + "/team/app:2"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != res.Digest {
		t.Errorf("rebasing onto the base it is on changed the image: %s → %s", res.Digest, again.Digest)
	}
}

func TestRebaseBadInput(t *testing.T) {
	oldDir, newDir := bases(t)
	dir := t.TempDir()
	write := func(name string, a oci.Artifact) string {
		p := filepath.Join(dir, name)
		if err := oci.WriteLayout(p, a, ""); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("app", application(t, oldDir, nil))
	onNew := write("app-on-new", application(t, newDir, nil))
	// The new base for arm64: the same layers under another architecture.
	_, nb := layoutImage(t, newDir)
	cf, _ := nb.ConfigFile()
	cf = cf.DeepCopy()
	appArch, other := cf.Architecture, "arm64"
	if appArch == other {
		other = "riscv64"
	}
	cf.Architecture = other
	armImg, err := mutate.ConfigFile(nb, cf)
	if err != nil {
		t.Fatal(err)
	}
	arm := write("arm", armImg)
	for _, tt := range []struct {
		name string
		o    rebase.Options
		want string
	}{
		{"no base annotation", rebase.Options{App: plain, Onto: newDir, To: filepath.Join(dir, "out")},
			"does not say which base it was built on (no org.opencontainers.image.base.name annotation"},
		{"not built on the old base", rebase.Options{App: onNew, Onto: newDir, OldBase: oldDir, To: filepath.Join(dir, "out")},
			"is not the old base's"},
		{"new base of another architecture", rebase.Options{App: plain, Onto: arm, OldBase: oldDir, To: filepath.Join(dir, "out")},
			"the new base is linux/" + other + ", the application is linux/" + appArch},
		{"no destination for a layout", rebase.Options{App: plain, Onto: newDir, OldBase: oldDir},
			"say where the rebased image goes with --to"},
		{"missing old base", rebase.Options{App: plain, Onto: newDir, OldBase: filepath.Join(dir, "nope"), To: filepath.Join(dir, "out")},
			"old base: image " + filepath.Join(dir, "nope") + ": no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rebase.Rebase(context.Background(), tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestRebaseIntermediateDigest: buildah's layer cache records the digest of an intermediate
// image as the base's; the recorded name still finds the old base while its tag names it, and
// once the tag has moved on rebase says it cannot find the base rather than rebasing onto the
// wrong one.
func TestRebaseIntermediateDigest(t *testing.T) {
	oldDir, newDir := bases(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := registry.New("test")
	ctx := context.Background()
	push := func(a oci.Artifact, ref string) {
		t.Helper()
		r, _ := registry.ParseReference(ref)
		if _, _, err := c.Push(ctx, &registry.Source{Artifact: a}, r); err != nil {
			t.Fatal(err)
		}
	}
	_, oldImg := layoutImage(t, oldDir)
	_, newImg := layoutImage(t, newDir)
	push(oldImg, host+"/base/foo:1")
	push(newImg, host+"/base/foo:2")
	intermediate := "sha256:" + strings.Repeat("ab", 32)
	push(application(t, oldDir, map[string]string{rebase.AnnotationBaseName: host + "/base/foo:1", rebase.AnnotationBaseDigest: intermediate}), host+"/team/app:1")

	res, err := rebase.Rebase(ctx, rebase.Options{App: host + "/team/app:1", Onto: host + "/base/foo:2", Client: c, To: host + "/team/app:2"})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldBase.Name != host+"/base/foo:1" {
		t.Errorf("old base %+v", res.OldBase)
	}
	push(newImg, host+"/base/foo:1") // the tag moves on
	_, err = rebase.Rebase(ctx, rebase.Options{App: host + "/team/app:1", Onto: host + "/base/foo:2", Client: c, To: host + "/team/app:3"})
	if err == nil || !strings.Contains(err.Error(), "none of the bases application "+host+"/team/app:1 names is the one it was built on") ||
		!strings.Contains(err.Error(), "its layers are not the bottom of the application's") || !strings.Contains(err.Error(), "name it with --old-base") {
		t.Fatalf("got %v", err)
	}
	// The timeline saw the old base pushed to that repository (and another image elsewhere):
	// that finds it.
	oldDigest, err := oldImg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pushed := []attest.Image{{Name: host + "/other/bar:1", Digest: oldDigest.String()}, {Name: host + "/base/foo:1", Digest: oldDigest.String()}}
	res, err = rebase.Rebase(ctx, rebase.Options{App: host + "/team/app:1", Onto: host + "/base/foo:2", Client: c, To: host + "/team/app:3", Pushed: pushed})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldBase.Name != host+"/base/foo@"+oldDigest.String() {
		t.Errorf("old base %+v", res.OldBase)
	}
}
