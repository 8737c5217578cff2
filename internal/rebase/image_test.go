package rebase

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/timeline"
)

// layer is a gzip layer holding files (path → body; a path ending in / is a directory).
func layer(t *testing.T, files ...string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		path, body, _ := strings.Cut(f, "=")
		h := &tar.Header{Name: path, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(path, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil && h.Size > 0 {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// image stacks layers on base (nil: empty), each with a history entry, and sets the config.
func image(t *testing.T, base v1.Image, arch string, cfg v1.Config, layers map[string]v1.Layer, order ...string) v1.Image {
	t.Helper()
	if base == nil {
		base = mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1)
	}
	img := base
	for _, n := range order {
		var err error
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layers[n], History: v1.History{CreatedBy: n}}); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", arch, cfg
	// An ENV line, as a Containerfile's, is history without a layer.
	cf.History = append(cf.History, v1.History{CreatedBy: "ENV", EmptyLayer: true})
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

type fixture struct {
	oldBase, newBase, app v1.Image
	appLayer              v1.Layer
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ls := map[string]v1.Layer{
		"libc-old": layer(t, "usr/lib/libc.so.6=old", "var/lib/dpkg/status.d/libc6=Package: libc6\nVersion: 2.41-1\n"),
		"libc-new": layer(t, "usr/lib/libc.so.6=new", "var/lib/dpkg/status.d/libc6=Package: libc6\nVersion: 2.41-2\n"),
		"python":   layer(t, "usr/bin/python3=python"),
		"rootfs":   layer(t, "etc/passwd=root:x:0:0::/root:/sbin/nologin\n"),
		"app":      layer(t, "app/", "app/main.py=print('hello')\n"),
	}
	oldBase := image(t, nil, "amd64", v1.Config{Env: []string{"PATH=/usr/bin", "SSL_CERT_FILE=/old.crt", "LANG=C.UTF-8"},
		User: "65532", Entrypoint: []string{"/usr/bin/python3"}, Labels: map[string]string{"io.spartan.release": "trixie", "stale": "x"}},
		ls, "libc-old", "python", "rootfs")
	newBase := image(t, nil, "amd64", v1.Config{Env: []string{"PATH=/usr/bin", "SSL_CERT_FILE=/new.crt", "PYTHONDONTWRITEBYTECODE=1"},
		User: "65532", Entrypoint: []string{"/usr/bin/python3"}, Labels: map[string]string{"io.spartan.release": "trixie-new"}},
		ls, "libc-new", "python", "rootfs")
	app := image(t, oldBase, "amd64", v1.Config{Env: []string{"PATH=/usr/bin", "SSL_CERT_FILE=/old.crt", "LANG=C.UTF-8", "APP_MODE=prod"},
		User: "65532", Entrypoint: []string{"/usr/bin/python3"}, Cmd: []string{"/app/main.py"},
		Labels: map[string]string{"io.spartan.release": "trixie", "stale": "x", "app": "shop"}},
		ls, "app")
	return fixture{oldBase: oldBase, newBase: newBase, app: app, appLayer: ls["app"]}
}

func TestImage(t *testing.T) {
	f := newFixture(t)
	got, err := Image(f.app, f.oldBase, f.newBase)
	if err != nil {
		t.Fatal(err)
	}
	appDigest, _ := f.appLayer.Digest()
	if want := append(testkit.LayerDigests(t, f.newBase), appDigest.String()); !slices.Equal(testkit.LayerDigests(t, got), want) {
		t.Errorf("layers %v, want the new base's then the application's %v", testkit.LayerDigests(t, got), want)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	newCf, _ := f.newBase.ConfigFile()
	appID, _ := f.appLayer.DiffID()
	if want := append(slices.Clone(newCf.RootFS.DiffIDs), appID); !slices.Equal(cf.RootFS.DiffIDs, want) {
		t.Errorf("diff_ids %v, want %v", cf.RootFS.DiffIDs, want)
	}
	var hist []string
	for _, h := range cf.History {
		hist = append(hist, h.CreatedBy)
	}
	// The new base's history (its three layers and its ENV), then the application's own.
	if want := []string{"libc-new", "python", "rootfs", "ENV", "app", "ENV"}; !slices.Equal(hist, want) {
		t.Errorf("history %v, want %v", hist, want)
	}
	// Inherited values follow the base; the application's own stay; LANG went with the old base.
	if want := []string{"PATH=/usr/bin", "SSL_CERT_FILE=/new.crt", "APP_MODE=prod", "PYTHONDONTWRITEBYTECODE=1"}; !slices.Equal(cf.Config.Env, want) {
		t.Errorf("env %v, want %v", cf.Config.Env, want)
	}
	if l := cf.Config.Labels; l["io.spartan.release"] != "trixie-new" || l["app"] != "shop" || l["stale"] != "" {
		t.Errorf("labels %v", l)
	}
	if !slices.Equal(cf.Config.Cmd, []string{"/app/main.py"}) || cf.Config.User != "65532" {
		t.Errorf("cmd %v user %q", cf.Config.Cmd, cf.Config.User)
	}
	// The image is whole: its layers match its diff_ids.
	ls, err := got.Layers()
	if err != nil || len(ls) != len(cf.RootFS.DiffIDs) {
		t.Fatalf("%d layers, %v", len(ls), err)
	}
	for i, l := range ls {
		if id, _ := l.DiffID(); id != cf.RootFS.DiffIDs[i] {
			t.Errorf("layer %d diff_id %s, config says %s", i, id, cf.RootFS.DiffIDs[i])
		}
	}
}

func TestImageRefuses(t *testing.T) {
	f := newFixture(t)
	ls := map[string]v1.Layer{
		"apt": layer(t, "var/lib/dpkg/status.d/curl=Package: curl\n", "usr/bin/curl=curl"),
		"wh":  layer(t, "var/lib/dpkg/status.d/.wh.libc6="),
		"apk": layer(t, "lib/apk/db/installed=P:curl\nV:8.5.0-r0\n", "usr/bin/curl=curl"),
		"mid": layer(t, "usr/lib/extra.so=x"),
	}
	withApt := image(t, f.oldBase, "amd64", v1.Config{}, ls, "apt")
	withRemoval := image(t, f.oldBase, "amd64", v1.Config{}, ls, "wh")
	withApk := image(t, f.oldBase, "amd64", v1.Config{}, ls, "apk")
	// Built on something else: an extra layer among the base's, under the application's.
	baseLayers, _ := f.oldBase.Layers()
	mid := image(t, nil, "amd64", v1.Config{}, map[string]v1.Layer{"libc": baseLayers[0], "mid": ls["mid"], "python": baseLayers[1]}, "libc", "mid", "python")
	other := image(t, mid, "amd64", v1.Config{}, map[string]v1.Layer{"app": f.appLayer}, "app")
	arm := image(t, nil, "arm64", v1.Config{}, map[string]v1.Layer{"x": layer(t, "x=1")}, "x")
	for _, tt := range []struct {
		name                  string
		app, oldBase, newBase v1.Image
		want                  string
	}{
		{"an extra layer in the base part", other, f.oldBase, f.newBase, "layer 1 of the application (sha256:"},
		{"new base built on by the app", f.app, f.newBase, f.newBase, "is not the old base's"},
		{"apt-get on top", withApt, f.oldBase, f.newBase, "changes the package database (/var/lib/dpkg/status.d/curl)"},
		{"a package removed on top", withRemoval, f.oldBase, f.newBase, "changes the package database (/var/lib/dpkg/status.d/libc6)"},
		{"apk add on top", withApk, f.oldBase, f.newBase, "changes the package database (/lib/apk/db/installed)"},
		{"new base of another architecture", f.app, f.oldBase, arm, "the new base is linux/arm64, the application is linux/amd64"},
		{"old base of another architecture", f.app, arm, f.newBase, "the old base is linux/arm64"},
		{"fewer layers than the base", f.oldBase, f.app, f.newBase, "fewer than the old base's"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Image(tt.app, tt.oldBase, tt.newBase)
			var r *Refusal
			if !errors.As(err, &r) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a refusal saying %q", err, tt.want)
			}
		})
	}
}

func TestLayerType(t *testing.T) {
	for _, tt := range []struct{ layer, manifest, want types.MediaType }{
		{types.DockerLayer, types.OCIManifestSchema1, types.OCILayer},
		{types.OCILayer, types.DockerManifestSchema2, types.DockerLayer},
		{types.OCILayerZStd, types.OCIManifestSchema1, types.OCILayerZStd},
		{types.OCILayer, types.OCIManifestSchema1, types.OCILayer},
	} {
		if got := layerType(tt.layer, tt.manifest); got != tt.want {
			t.Errorf("layerType(%s, %s) = %s, want %s", tt.layer, tt.manifest, got, tt.want)
		}
	}
}

// TestRebaseIndex: an application index is rebased platform by platform onto the new base's
// image of the same platform.
func TestRebaseIndex(t *testing.T) {
	dir := t.TempDir()
	var olds, news, apps []v1.Image
	var want []string
	for _, arch := range []string{"amd64", "arm64"} {
		ls := map[string]v1.Layer{"old": layer(t, "lib="+arch+" old"), "new": layer(t, "lib="+arch+" new"), "app": layer(t, "app/main.py="+arch)}
		o := image(t, nil, arch, v1.Config{}, ls, "old")
		n := image(t, nil, arch, v1.Config{}, ls, "new")
		olds, news = append(olds, o), append(news, n)
		apps = append(apps, image(t, o, arch, v1.Config{}, ls, "app"))
		want = append(want, strings.Join(append(testkit.LayerDigests(t, n), testkit.LayerDigests(t, apps[len(apps)-1])[1]), " "))
	}
	write := func(name string, imgs []v1.Image) string {
		idx, err := oci.Index(imgs, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := oci.WriteLayout(p, idx, ""); err != nil {
			t.Fatal(err)
		}
		return p
	}
	res, err := Rebase(context.Background(), Options{App: write("app", apps), OldBase: write("old", olds), Onto: write("new", news), To: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Platforms {
		got = append(got, strings.Join(append(p.Base, p.App...), " "))
	}
	if !slices.Equal(got, want) {
		t.Errorf("platform layers\n%v\nwant\n%v", got, want)
	}
	src, err := imagesource.Layout(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.Artifact.(v1.ImageIndex); !ok || src.Digest != res.Digest {
		t.Errorf("the layout holds %T %s, Rebase said %s", src.Artifact, src.Digest, res.Digest)
	}
}

func TestRecorded(t *testing.T) {
	const d = "sha256:0123"
	for _, tt := range []struct {
		name, base, digest, onto string
		want                     []string
	}{
		{"registry name, pinned; the new base's repository; the name", "reg:5000/spartan/python:1", d, "reg:5000/mirror/python:2",
			[]string{"reg:5000/spartan/python@" + d, "reg:5000/mirror/python@" + d, "reg:5000/spartan/python:1"}},
		{"the same repository once", "reg:5000/spartan/python:1", d, "reg:5000/spartan/python:1",
			[]string{"reg:5000/spartan/python@" + d, "reg:5000/spartan/python:1"}},
		{"buildah's storage name", "localhost/tmp/base:latest", d, "reg:5000/spartan/python:1",
			[]string{"localhost/tmp/base@" + d, "reg:5000/spartan/python@" + d, "localhost/tmp/base:latest"}},
		{"a layout", "oci:/srv/base", d, "oci:/srv/new", []string{"oci:/srv/base"}},
		{"a name without digest", "reg:5000/spartan/python:1", "", "reg:5000/spartan/python:1", []string{"reg:5000/spartan/python:1"}},
		{"a digest without name", "", d, "reg:5000/spartan/python:1", []string{"reg:5000/spartan/python@" + d}},
		{"nothing recorded", "", "", "reg:5000/spartan/python:1", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := recorded(tt.base, tt.digest, tt.onto); !slices.Equal(got, tt.want) {
				t.Errorf("recorded(%q, %q, %q) = %v, want %v", tt.base, tt.digest, tt.onto, got, tt.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.jsonl")
	seen := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	if err := timeline.Append(path, []timeline.Event{
		{Event: timeline.Fixed, Run: "u1", Image: "python", CVE: "CVE-1", Date: &seen},
		{Event: timeline.Rebuilt, Run: "u1", Image: "python", Digest: "sha256:new"},
	}); err != nil {
		t.Fatal(err)
	}
	res := &Result{Digest: "sha256:app2", Signed: true, Pushed: true, Ref: "reg/app:1",
		NewBase: attest.Image{Name: "reg/python:1", Digest: "sha256:new"}, NewBaseDigests: []string{"sha256:new"}, OldBaseDigests: []string{"sha256:old"}}
	events, err := Record(path, "r1", "reg/app:1", res)
	if err != nil {
		t.Fatal(err)
	}
	all, err := timeline.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range all[2:] {
		kinds = append(kinds, e.Event)
	}
	if len(events) != 4 || !slices.Equal(kinds, []string{timeline.Fixed, timeline.Rebased, timeline.Signed, timeline.Pushed}) ||
		all[3].Base != "reg/python:1@sha256:new" || all[2].CVE != "CVE-1" || all[2].Image != "reg/app:1" || all[5].Ref != "reg/app:1" {
		t.Errorf("recorded %+v", all[2:])
	}
}

// TestRebaseIndexAnnotated: an index built by podman for two platforms names, in each
// platform image, the base's image of that platform (base.digest is the platform manifest's);
// each platform finds its own old base in the registry after the base's tag moved on.
func TestRebaseIndexAnnotated(t *testing.T) {
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
	var olds, news, apps []v1.Image
	for _, arch := range []string{"amd64", "arm64"} {
		ls := map[string]v1.Layer{"old": layer(t, "lib="+arch+" old"), "new": layer(t, "lib="+arch+" new"), "app": layer(t, "app/main.py="+arch)}
		o := image(t, nil, arch, v1.Config{}, ls, "old")
		od, err := o.Digest()
		if err != nil {
			t.Fatal(err)
		}
		olds, news = append(olds, o), append(news, image(t, nil, arch, v1.Config{}, ls, "new"))
		app := image(t, o, arch, v1.Config{}, ls, "app")
		apps = append(apps, mutate.Annotations(app, map[string]string{AnnotationBaseName: host + "/base:1", AnnotationBaseDigest: od.String()}).(v1.Image))
	}
	index := func(imgs []v1.Image) v1.ImageIndex {
		idx, err := oci.Index(imgs, nil)
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	push(index(olds), host+"/base:1")
	push(index(apps), host+"/app:1")
	push(index(news), host+"/base:1")
	res, err := Rebase(ctx, Options{App: host + "/app:1", Onto: host + "/base:1", Client: c})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Platforms) != 2 || res.Platforms[0].Platform != "linux/amd64" || res.Platforms[1].Platform != "linux/arm64" || len(res.OldBaseDigests) != 2 {
		t.Errorf("result %+v", res)
	}
	for i, p := range res.Platforms {
		if want := testkit.LayerDigests(t, news[i]); !slices.Equal(p.Base, want) {
			t.Errorf("%s: base layers %v, want %v", p.Platform, p.Base, want)
		}
	}
}
