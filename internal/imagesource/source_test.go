package imagesource

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// image is a one-layer image for arch/variant, built as `spartan build` builds them.
func image(t *testing.T, arch, variant string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := "for " + arch + variant
	must(t, tw.WriteHeader(&tar.Header{Name: "etc/arch", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
	_, err := tw.Write([]byte(body))
	must(t, err)
	must(t, tw.Close())
	img, err := oci.Image([]oci.Layer{{Name: "l", Tar: buf.Bytes()}}, oci.Config{Arch: arch, Variant: variant})
	must(t, err)
	return img
}

// configName identifies an image by its config: a docker-archive re-encodes the manifest.
func configName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.ConfigName()
	must(t, err)
	return d
}

func testRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

type fixture struct {
	amd, arm64, armhf, armel v1.Image
	idx                      v1.ImageIndex
	// local sources
	single, multi, signed, dockerArchive, ociArchive, ociArchiveSingle string
	notLayout, junk, plainTar, truncated, missing, sbomJSON            string
	// registry references
	remoteSingle, remoteMulti, remoteMissing, unreachable, forbidden string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{amd: image(t, "amd64", ""), arm64: image(t, "arm64", "v8"), armhf: image(t, "arm", "v7"), armel: image(t, "arm", "v5")}
	var err error
	f.idx, err = oci.Index([]v1.Image{f.amd, f.arm64, f.armhf, f.armel}, nil)
	must(t, err)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	f.single, f.multi, f.signed = p("single"), p("multi"), p("signed")
	must(t, oci.WriteLayout(f.single, f.amd, "example/x:1"))
	must(t, oci.WriteLayout(f.multi, f.idx, "example/x:1"))
	must(t, oci.WriteLayout(f.signed, f.idx, "example/x:1"))
	d, err := f.idx.Digest()
	must(t, err)
	st, err := oci.OpenLayout(f.signed)
	must(t, err)
	must(t, st.PutImage(context.Background(), "sha256-"+d.Hex+".sig", image(t, "amd64", "sig")))

	f.dockerArchive, f.ociArchive, f.ociArchiveSingle = p("arm64.tar"), p("multi.tar"), p("single-oci.tar")
	must(t, oci.WriteArchive(f.dockerArchive, f.arm64, []string{"example/x:1"}))
	must(t, oci.WriteOCIArchive(f.ociArchive, f.idx, []string{"example/x:1"}))
	must(t, oci.WriteOCIArchive(f.ociArchiveSingle, f.amd, []string{"example/x:1"}))

	f.notLayout = p("plain")
	must(t, os.MkdirAll(f.notLayout, 0o755))
	f.junk = p("notes.txt")
	must(t, os.WriteFile(f.junk, []byte("hello, not an image\n"), 0o644))
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	must(t, tw.WriteHeader(&tar.Header{Name: "README", Mode: 0o644, Typeflag: tar.TypeReg}))
	must(t, tw.Close())
	f.plainTar = p("docs.tar")
	must(t, os.WriteFile(f.plainTar, tarball.Bytes(), 0o644))
	whole, err := os.ReadFile(f.ociArchive)
	must(t, err)
	f.truncated = p("cut.tar")
	must(t, os.WriteFile(f.truncated, whole[:len(whole)/2+100], 0o644))
	f.sbomJSON = p("sbom.json")
	must(t, os.WriteFile(f.sbomJSON, []byte(`{"spdxVersion": "SPDX-2.3"}`), 0o644))
	f.missing = p("missing")

	host := testRegistry(t)
	f.remoteSingle, f.remoteMulti, f.remoteMissing = host+"/spartan/x:single", host+"/spartan/x:multi", host+"/spartan/x:nope"
	single, err := name.ParseReference(f.remoteSingle, name.Insecure)
	must(t, err)
	must(t, remote.Write(single, f.arm64))
	multi, err := name.ParseReference(f.remoteMulti, name.Insecure)
	must(t, err)
	must(t, remote.WriteIndex(multi, f.idx))

	// A registry that refuses everyone.
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"access denied"}]}`, http.StatusForbidden)
	}))
	t.Cleanup(deny.Close)
	f.forbidden = strings.TrimPrefix(deny.URL, "http://") + "/private/x:1"

	// A loopback port nobody listens on: the registry is down.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	f.unreachable = l.Addr().String() + "/spartan/x:1"
	must(t, l.Close())
	return f
}

func TestOpen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, src string
		kind      Kind
		index     bool
		err       string
	}{
		{"layout with one image", f.single, KindLayout, false, ""},
		{"layout with an index", f.multi, KindLayout, true, ""},
		{"oci: prefix", LayoutPrefix + f.multi, KindLayout, true, ""},
		{"signed layout", f.signed, KindLayout, true, ""},
		{"docker-archive", f.dockerArchive, KindDockerArchive, false, ""},
		{"multi-arch oci-archive", f.ociArchive, KindOCIArchive, true, ""},
		{"oci-archive of one image", f.ociArchiveSingle, KindOCIArchive, false, ""},
		{"registry image", f.remoteSingle, KindRegistry, false, ""},
		{"registry index", f.remoteMulti, KindRegistry, true, ""},
		{"missing path", f.missing, "", false, "missing: no such file or directory"},
		{"missing relative path", "./no-such-dir", "", false, "no such file or directory"},
		{"missing oci: dir", LayoutPrefix + f.missing, "", false, "no such directory"},
		{"oci: on a file", LayoutPrefix + f.dockerArchive, "", false, "not a directory"},
		{"directory, not a layout", f.notLayout, "", false, "not an OCI image layout (no index.json)"},
		{"text file", f.junk, "", false, "not an image: neither a directory nor a tar archive"},
		{"SBOM, not an image", f.sbomJSON, "", false, "not an image: neither a directory nor a tar archive"},
		{"tar of something else", f.plainTar, "", false, "neither an oci-archive (no oci-layout) nor a docker-archive (no manifest.json)"},
		{"truncated oci-archive", f.truncated, "", false, "truncated or damaged"},
		{"registry tag missing", f.remoteMissing, "", false, "no such image in"},
		{"registry down", f.unreachable, "", false, "is unreachable"},
		{"registry refuses", f.forbidden, "", false, "refused access: log in with `podman login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.src)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				// Every error names the source as the user gave it.
				if !strings.Contains(err.Error(), strings.TrimPrefix(tt.src, LayoutPrefix)) {
					t.Errorf("error does not name %s: %v", tt.src, err)
				}
				return
			}
			must(t, err)
			defer s.Close()
			if s.Kind != tt.kind {
				t.Errorf("kind %s, want %s", s.Kind, tt.kind)
			}
			if _, isIndex := s.Artifact.(v1.ImageIndex); isIndex != tt.index {
				t.Errorf("index = %v, want %v", isIndex, tt.index)
			}
			if d, err := oci.Digest(s.Artifact); err != nil || d != s.Digest {
				t.Errorf("digest %s, artifact's %s (%v)", s.Digest, d, err)
			}
		})
	}
	// Nothing unpacked is left behind once closed.
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "spartan-oci-archive-*")); len(left) > 0 {
		t.Errorf("unpacked oci-archives left: %q", left)
	}
}

func TestImage(t *testing.T) {
	f := newFixture(t)
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	armv7 := v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	armv6 := v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}
	s390x := v1.Platform{OS: "linux", Architecture: "s390x"}
	tests := []struct {
		src, arch string
		host      v1.Platform
		want      v1.Image
		picked    string // "" for a single image: nothing to pick
		err       string
	}{
		// An index resolves to the host's platform unless --arch names another.
		{f.multi, "", amd64, f.amd, "linux/amd64", ""},
		{f.multi, "", arm64, f.arm64, "linux/arm64/v8", ""},
		{f.multi, "", armv7, f.armhf, "linux/arm/v7", ""},
		{f.multi, "", armv6, f.armel, "linux/arm/v5", ""}, // an armv6 host runs v5, not v7
		{f.multi, "", s390x, nil, "", "no image for this host's platform linux/s390x; the index has linux/amd64, linux/arm/v5, linux/arm/v7, linux/arm64/v8: choose one with --arch"},
		{f.multi, "arm64", amd64, f.arm64, "linux/arm64/v8", ""},
		{f.multi, "amd64", arm64, f.amd, "linux/amd64", ""},
		{f.multi, "armhf", amd64, f.armhf, "linux/arm/v7", ""},
		{f.multi, "armel", amd64, f.armel, "linux/arm/v5", ""},
		{f.multi, "linux/arm/v5", amd64, f.armel, "linux/arm/v5", ""},
		{f.multi, "arm", amd64, nil, "", "2 different images for linux/arm (linux/arm/v5, linux/arm/v7)"},
		{f.multi, "s390x", amd64, nil, "", "no image for platform linux/s390x; the index has linux/amd64, linux/arm/v5, linux/arm/v7, linux/arm64/v8"},
		{f.signed, "", amd64, f.amd, "linux/amd64", ""},
		{f.ociArchive, "", arm64, f.arm64, "linux/arm64/v8", ""},
		{f.ociArchive, "armhf", amd64, f.armhf, "linux/arm/v7", ""},
		{f.remoteMulti, "", amd64, f.amd, "linux/amd64", ""},
		{f.remoteMulti, "", arm64, f.arm64, "linux/arm64/v8", ""},
		{f.remoteMulti, "ppc64el", amd64, nil, "", "no image for platform linux/ppc64le"},
		// A single image is the image, whatever the host; --arch only checks it.
		{f.single, "", arm64, f.amd, "", ""},
		{f.single, "amd64", arm64, f.amd, "", ""},
		{f.single, "arm64", amd64, nil, "", "the image is for linux/amd64, not linux/arm64"},
		{f.dockerArchive, "", amd64, f.arm64, "", ""},
		{f.dockerArchive, "arm64", amd64, f.arm64, "", ""},
		{f.dockerArchive, "amd64", amd64, nil, "", "the image is for linux/arm64/v8, not linux/amd64"},
		{f.remoteSingle, "", amd64, f.arm64, "", ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.src)+"/"+tt.arch+"/"+tt.host.String(), func(t *testing.T) {
			s, err := Open(context.Background(), tt.src)
			must(t, err)
			defer s.Close()
			img, pick, err := resolve(s.Artifact, tt.arch, tt.host)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			must(t, err)
			if configName(t, img) != configName(t, tt.want) {
				t.Errorf("got another image")
			}
			switch {
			case tt.picked == "" && pick != nil:
				t.Errorf("picked %s from a single image", pick)
			case tt.picked != "" && (pick == nil || pick.Platform.String() != tt.picked):
				t.Errorf("picked %v, want %s", pick, tt.picked)
			case pick != nil && pick.Default != (tt.arch == ""):
				t.Errorf("Default = %v for --arch %q", pick.Default, tt.arch)
			}
		})
	}
}

// TestImageHostDefault goes through the exported door on this machine: without --arch, a
// multi-arch registry index gives the host's image and says so.
func TestImageHostDefault(t *testing.T) {
	f := newFixture(t)
	s, err := Open(context.Background(), f.remoteMulti)
	must(t, err)
	want := map[string]v1.Image{"amd64": f.amd, "arm64": f.arm64}[Host().Architecture]
	img, pick, err := s.Image("")
	if want == nil {
		if err == nil || !strings.Contains(err.Error(), "choose one with --arch") {
			t.Fatalf("host %s: err %v", Host(), err)
		}
		return
	}
	must(t, err)
	if configName(t, img) != configName(t, want) || pick == nil || pick.Platform.Architecture != Host().Architecture || !pick.Default {
		t.Fatalf("host %s: picked %v", Host(), pick)
	}
	if got := pick.String(); !strings.Contains(got, "the host's platform; the index has linux/amd64, linux/arm/v5, linux/arm/v7, linux/arm64/v8") {
		t.Errorf("pick reads %q", got)
	}
}

func TestOnlyPlatformOfIndex(t *testing.T) {
	s390 := image(t, "s390x", "")
	idx, err := oci.Index([]v1.Image{s390}, nil)
	must(t, err)
	img, pick, err := resolve(idx, "", v1.Platform{OS: "linux", Architecture: "amd64"})
	must(t, err)
	if configName(t, img) != configName(t, s390) || pick.String() != "linux/s390x (the only platform; the index has linux/s390x)" {
		t.Fatalf("picked %v", pick)
	}
}

// TestPlatformFromConfig: an index whose descriptors carry no platform (and that also lists a
// signature image) is resolved from the image configs.
func TestPlatformFromConfig(t *testing.T) {
	amd, arm := image(t, "amd64", ""), image(t, "arm64", "")
	sig := mutate.ConfigMediaType(empty.Image, "application/vnd.dev.cosign.simplesigning.v1+json")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd}, mutate.IndexAddendum{Add: arm}, mutate.IndexAddendum{Add: sig},
		mutate.IndexAddendum{Add: image(t, "unknown", ""), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}})
	img, pick, err := resolve(idx, "", v1.Platform{OS: "linux", Architecture: "arm64"})
	must(t, err)
	if configName(t, img) != configName(t, arm) || len(pick.Among) != 2 {
		t.Fatalf("picked %v", pick)
	}
}

func TestTagsAndTargets(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		src       string
		tags      []string // nil: the kind cannot carry signatures
		canTarget bool
	}{
		{f.signed, []string{"example/x:1", "sig"}, true},
		{f.remoteMulti, []string{"multi", "single"}, true},
		{f.dockerArchive, nil, false},
		{f.ociArchive, nil, false},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.src), func(t *testing.T) {
			s, err := Open(ctx, tt.src)
			must(t, err)
			defer s.Close()
			tags, err := s.Tags(ctx)
			must(t, err)
			if len(tags) != len(tt.tags) || (tt.tags == nil) != (tags == nil) {
				t.Errorf("tags %q, want %d like %q", tags, len(tt.tags), tt.tags)
			}
			for i := range min(len(tags), len(tt.tags)) {
				if !strings.Contains(tags[i], tt.tags[i]) {
					t.Errorf("tag %q, want one like %q", tags[i], tt.tags[i])
				}
			}
			tg, err := s.Target()
			if tt.canTarget != (err == nil) {
				t.Fatalf("Target: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "signatures and attestations live next to an image in a registry or an OCI layout") {
				t.Errorf("Target error: %v", err)
			}
			if tg != nil && tg.Digest != s.Digest {
				t.Errorf("target digest %s, source %s", tg.Digest, s.Digest)
			}
		})
	}
}

// TestSignLayoutPushOpenRemote is the supply chain's path through this package: sign in a
// layout offline, push the layout with its attachments, open the pushed reference and verify.
func TestSignLayoutPushOpenRemote(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	priv, _, err := sign.GenerateKeyPair([]byte("pw"))
	must(t, err)
	key, err := sign.DecryptPrivateKey(priv, []byte("pw"))
	must(t, err)

	dir := filepath.Join(t.TempDir(), "oci")
	must(t, oci.WriteLayout(dir, f.idx, "spartan/test:1"))
	ls, err := Open(ctx, LayoutPrefix+dir)
	must(t, err)
	lt, err := ls.Target()
	must(t, err)
	if lt.Repo != "index.docker.io/spartan/test" {
		t.Errorf("layout identity %q", lt.Repo)
	}
	d1, err := f.amd.Digest()
	must(t, err)
	stmt, err := sign.NewStatement("https://slsa.dev/provenance/v1", "spartan/test", d1.String(), []byte(`{}`))
	must(t, err)
	must(t, lt.Sign(ctx, sign.Signer{Key: key}, []sign.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", Statement: stmt}}))

	atts, err := ls.Attachments(ctx)
	must(t, err)
	if len(atts) != 6 { // 5 .sig (index + 4 images) + 1 .att
		t.Fatalf("%d attachments in the layout, want 6", len(atts))
	}
	host := testRegistry(t)
	ref, err := registry.ParseReference(host + "/spartan/test:1")
	must(t, err)
	c := registry.New("test")
	d, _, err := c.Push(ctx, &registry.Source{Artifact: ls.Artifact, Attachments: atts}, ref)
	must(t, err)

	rs, err := Open(ctx, ref.String(), WithClient(c))
	must(t, err)
	if rs.Digest != d || rs.Digest != ls.Digest || rs.Tag != "1" {
		t.Fatalf("pushed %s, remote %s (tag %q), layout %s", d, rs.Digest, rs.Tag, ls.Digest)
	}
	rt, err := rs.Target()
	must(t, err)
	children, err := rt.Children()
	must(t, err)
	for _, dg := range append([]string{rt.Digest}, children...) {
		if err := sign.VerifySignature(ctx, rt.Store, &key.PublicKey, dg); err != nil {
			t.Fatalf("%s: %v", dg, err)
		}
	}
	got, _, err := sign.VerifyAttestations(ctx, rt.Store, &key.PublicKey, d1.String())
	if err != nil || len(got) != 1 {
		t.Fatalf("attestations: %d, %v", len(got), err)
	}
}

// TestLayoutOfOtherTools: a layout whose index.json lists several images directly (not one
// index) is refused with what to do.
func TestLayoutOfOtherTools(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	must(t, err)
	must(t, p.AppendImage(image(t, "amd64", "")))
	must(t, p.AppendImage(image(t, "arm64", "")))
	if _, err := Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "holds 2 different images or indexes") {
		t.Fatalf("err %v", err)
	}
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		src  string
		want bool
	}{
		{"oci:out", true},
		{"./out", true},
		{"/srv/images/app", true},
		{"app.tar", true},
		{dir, true},
		{"127.0.0.1:5000/team/app:1", false},
		{"team/app@sha256:" + strings.Repeat("a", 64), false},
		{"app", false},
	} {
		if got := Local(tt.src); got != tt.want {
			t.Errorf("Local(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}
