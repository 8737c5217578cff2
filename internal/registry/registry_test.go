package registry

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/oci"
	"github.com/spartan-images/spartan/internal/sign"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in, scheme string
	}{
		{"127.0.0.1:5000/spartan/python:3.13", "http"},
		{"localhost:5000/spartan/python", "http"},
		{"[::1]:5000/a/b:c", "http"},
		{"registry.example.com/spartan/python:3.13", "https"},
	}
	for _, tt := range tests {
		r, err := ParseReference(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := r.Context().Scheme(); got != tt.scheme {
			t.Errorf("%s: scheme %s, want %s", tt.in, got, tt.scheme)
		}
	}
	if _, err := ParseReference("UPPER/case:x"); err == nil {
		t.Error("invalid reference accepted")
	}
}

func testRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func layerOf(t *testing.T, content string) v1.Layer {
	t.Helper()
	return static.NewLayer([]byte(content), types.OCILayer)
}

func imageOf(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestPushUploadsOnlyMissingBlobs(t *testing.T) {
	ctx := context.Background()
	host := testRegistry(t)
	ref, err := ParseReference(host + "/spartan/test:1")
	if err != nil {
		t.Fatal(err)
	}
	a, b := layerOf(t, strings.Repeat("a", 5000)), layerOf(t, strings.Repeat("b", 7000))
	img := imageOf(t, a, b)
	c := New("test")
	_, st, err := c.Push(ctx, &Source{Artifact: img}, ref)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.RawConfigFile()
	if want := int64(5000 + 7000 + len(cfg)); st.UploadedBytes != want || st.UploadedBlobs != 3 || st.PresentBlobs != 0 {
		t.Fatalf("first push: %+v, want %d bytes in 3 blobs", st, want)
	}
	_, st, err = c.Push(ctx, &Source{Artifact: img}, ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.UploadedBytes != 0 || st.UploadedBlobs != 0 || st.PresentBlobs != 3 {
		t.Fatalf("second push: %+v, want nothing uploaded", st)
	}
	// One changed layer: only it and the new config travel.
	img2 := imageOf(t, a, layerOf(t, strings.Repeat("c", 3000)))
	_, st, err = c.Push(ctx, &Source{Artifact: img2}, ref)
	if err != nil {
		t.Fatal(err)
	}
	cfg2, _ := img2.RawConfigFile()
	if want := int64(3000 + len(cfg2)); st.UploadedBytes != want || st.UploadedBlobs != 2 || st.PresentBlobs != 1 {
		t.Fatalf("incremental push: %+v, want %d bytes in 2 blobs, 1 present", st, want)
	}
	if got := st.String(); !strings.Contains(got, "uploaded 3") || !strings.Contains(got, "(1 already present)") {
		t.Fatalf("String() = %q", got)
	}
}

func TestSignPushVerifyIndex(t *testing.T) {
	ctx := context.Background()
	host := testRegistry(t)
	key, pub := testKeys(t)
	img1, _ := random.Image(100, 1)
	img2, _ := random.Image(100, 1)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img1, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: img2, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})

	// Sign offline in a layout, then push the layout with its attachments.
	dir := filepath.Join(t.TempDir(), "oci")
	if err := oci.WriteLayout(dir, idx, "spartan/test:1"); err != nil {
		t.Fatal(err)
	}
	lt, err := New("test").Open(ctx, LayoutPrefix+dir)
	if err != nil {
		t.Fatal(err)
	}
	if lt.Repo != "index.docker.io/spartan/test" {
		t.Errorf("layout identity %q", lt.Repo)
	}
	d1, _ := img1.Digest()
	stmt, err := sign.NewStatement("https://slsa.dev/provenance/v1", "spartan/test", d1.String(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := lt.Sign(ctx, sign.Signer{Key: key}, []sign.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", Statement: stmt}}); err != nil {
		t.Fatal(err)
	}
	src, cleanup, err := OpenSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if len(src.Attachments) != 4 { // 3 .sig (index + 2 images) + 1 .att
		t.Fatalf("%d attachments in the layout, want 4", len(src.Attachments))
	}
	ref, _ := ParseReference(host + "/spartan/test:1")
	c := New("test")
	d, _, err := c.Push(ctx, src, ref)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := c.Open(ctx, ref.String())
	if err != nil {
		t.Fatal(err)
	}
	if rt.Digest != d || rt.Digest != lt.Digest {
		t.Fatalf("digests: pushed %s, remote %s, layout %s", d, rt.Digest, lt.Digest)
	}
	// Each platform image also has a per-architecture tag.
	for arch, img := range map[string]v1.Image{"amd64": img1, "arm64": img2} {
		want, _ := img.Digest()
		desc, err := c.Get(ctx, ref.Context().Tag("1-"+arch))
		if err != nil {
			t.Fatalf("tag 1-%s: %v", arch, err)
		}
		if desc.Digest != want {
			t.Errorf("tag 1-%s = %s, want %s", arch, desc.Digest, want)
		}
	}
	children, _ := rt.Children()
	for _, dg := range append([]string{rt.Digest}, children...) {
		if err := sign.VerifySignature(ctx, rt.Store, pub, dg); err != nil {
			t.Fatalf("%s: %v", dg, err)
		}
	}
	atts, _, err := sign.VerifyAttestations(ctx, rt.Store, pub, d1.String())
	if err != nil || len(atts) != 1 {
		t.Fatalf("attestations: %d, %v", len(atts), err)
	}
	// Absent tags are "none", not errors.
	if img, err := rt.Store.Image(ctx, "sha256-"+strings.Repeat("0", 64)+".sig"); img != nil || err != nil {
		t.Fatalf("absent tag: %v, %v", img, err)
	}
}

func testKeys(t *testing.T) (*ecdsa.PrivateKey, *ecdsa.PublicKey) {
	t.Helper()
	priv, _, err := sign.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := sign.DecryptPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return k, &k.PublicKey
}

func TestOpenSourceArchives(t *testing.T) {
	img := imageOf(t, layerOf(t, "x"))
	dir := t.TempDir()
	docker := filepath.Join(dir, "d.tar")
	if err := oci.WriteArchive(docker, img, []string{"spartan/x:1"}); err != nil {
		t.Fatal(err)
	}
	ociArchive := filepath.Join(dir, "o.tar")
	if err := oci.WriteOCIArchive(ociArchive, img, []string{"spartan/x:1"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{docker, ociArchive} {
		src, cleanup, err := OpenSource(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, ok := src.Artifact.(v1.Image); !ok {
			t.Fatalf("%s: %T", p, src.Artifact)
		}
		cleanup()
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a tar"), 0o644)
	if _, _, err := OpenSource(junk); err == nil {
		t.Fatal("junk accepted")
	}
}

func TestAuthFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "auth.json")
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	os.WriteFile(f, []byte(`{"auths":{"reg.example":{"auth":"`+enc("u:p")+`"},"reg.example/team/app":{"auth":"`+enc("team:secret")+`"}}}`), 0o600)
	kc := authFiles{filepath.Join(dir, "missing.json"), f}
	tests := []struct{ ref, user string }{
		{"reg.example/other/x", "u"},
		{"reg.example/team/app", "team"},
		{"elsewhere.example/x", ""},
	}
	for _, tt := range tests {
		r, _ := name.ParseReference(tt.ref)
		a, err := kc.Resolve(r.Context())
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := a.Authorization()
		if cfg.Username != tt.user || (tt.user == "" && a != authn.Anonymous) {
			t.Errorf("%s: user %q, want %q", tt.ref, cfg.Username, tt.user)
		}
	}
	os.WriteFile(f, []byte(`{`), 0o600)
	r, _ := name.ParseReference("reg.example/x")
	if _, err := kc.Resolve(r.Context()); err == nil {
		t.Error("broken auth.json accepted")
	}
}
