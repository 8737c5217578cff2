package update

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
	"github.com/spartan-images/spartan/internal/timeline"
)

func TestReadApps(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       map[string][]App
		err        string
	}{
		{"two bases", "# base  application  to\npython  reg/shop/web:1\npython reg/shop/api:1 reg/shop/api:rebased # staged\n\nnode oci:/srv/app\n",
			map[string][]App{"python": {{"python", "reg/shop/web:1", ""}, {"python", "reg/shop/api:1", "reg/shop/api:rebased"}}, "node": {{"node", "oci:/srv/app", ""}}}, ""},
		{"a base alone", "python\n", nil, "line 1: 1 fields; want BASE IMAGE [TO]"},
		{"too many fields", "python a b c\n", nil, "line 1: 4 fields"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "apps")
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadApps(p)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := ReadApps(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "applications file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestUpdaterRebasesApps: an application built on the pushed v1 base, without base
// annotations (as podman writes it), is rebased onto v2 when update rebuilds the base for a
// fix; it is signed and pushed to its own tag, and the timeline gives it the fix, rebased. An
// application not built on the base is refused and named, without stopping the other.
func TestUpdaterRebasesApps(t *testing.T) {
	ctx := context.Background()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	suite := &testkit.Suite{Codename: "trixie", Version: "13.8", Date: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Components: map[string][]testkit.Deb{"main": {testbuild.OSRelease, libfoo(t, "1.2-3")}}}
	repo.Suites["trixie"] = suite
	srv := repo.Serve(t)
	dir := t.TempDir()
	testbuild.WriteSpec(t, dir, srv.URL, repo, "foo", "example/foo:1", "base-files", "libfoo1")
	options := func(sp string) (build.Options, error) { return testbuild.Options(t, sp) }
	tl := filepath.Join(t.TempDir(), "timeline.jsonl")
	regSrv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(regSrv.Close)
	prefix := strings.TrimPrefix(regSrv.URL, "http://") + "/e2e"
	client := registry.New("test")
	key := testkit.SigningKey(t)
	var stdout, stderr bytes.Buffer
	updater := func(run string) *Updater {
		return &Updater{Timeline: tl, Run: run, PushPrefix: prefix, Signer: publish.Key{Signer: sign.Signer{Key: key}},
			Client: client, Stdout: &stdout, Stderr: &stderr}
	}
	if err := updater("r1").UpdateAll(ctx, []string{dir}, options); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	pushImage := func(img v1.Image, ref string) string {
		t.Helper()
		r, _ := registry.ParseReference(ref)
		d, _, err := client.Push(ctx, &registry.Source{Artifact: img}, r)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base, err := imagesource.Remote(ctx, prefix+"/foo:1", client)
	if err != nil {
		t.Fatal(err)
	}
	baseImg, _, err := base.Image("")
	if err != nil {
		t.Fatal(err)
	}
	appLayer, err := random.Layer(512, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	app, err := mutate.AppendLayers(baseImg, appLayer)
	if err != nil {
		t.Fatal(err)
	}
	appV1 := pushImage(app, prefix+"/shop:1")
	other, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	pushImage(other, prefix+"/other:1")

	suite.Date = suite.Date.Add(24 * time.Hour)
	suite.Components["main"] = []testkit.Deb{testbuild.OSRelease, libfoo(t, "1.2-3+deb13u1")}
	if err := srv.Publish(); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	u := updater("r2")
	u.Apps = map[string][]App{"foo": {{Base: "foo", Image: prefix + "/other:1"}, {Base: "foo", Image: prefix + "/shop:1"}}}
	err = u.UpdateAll(ctx, []string{dir}, options)
	if err == nil || !strings.Contains(stderr.String(), "rebase "+prefix+"/other:1 onto "+prefix+"/foo:1: ") {
		t.Fatalf("the application not built on foo was not refused: %v\n%s", err, stderr.String())
	}
	shop, err := imagesource.Remote(ctx, prefix+"/shop:1", client)
	if err != nil {
		t.Fatal(err)
	}
	if shop.Digest == appV1 || !strings.Contains(stdout.String(), prefix+"/shop:1 "+shop.Digest) {
		t.Fatalf("shop:1 is %s (was %s):\n%s\n%s", shop.Digest, appV1, stdout.String(), stderr.String())
	}
	tg, err := shop.Target()
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.VerifySignature(ctx, tg.Store, &key.PublicKey, shop.Digest); err != nil {
		t.Errorf("the rebased application: %v", err)
	}
	evs, err := timeline.Read(tl)
	if err != nil {
		t.Fatal(err)
	}
	rep := timeline.Build(evs, prefix+"/shop:1")
	if len(rep.Rows) != 1 || rep.Rows[0].CVE != "CVE-2026-0001" || !rep.Rows[0].Rebased || rep.Rows[0].Digest != shop.Digest || rep.Rows[0].Pushed == nil {
		t.Errorf("the application's timeline: %+v", rep.Rows)
	}
}
