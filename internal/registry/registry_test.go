package registry

import (
	"context"
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

// TestPushIndex: an index pushed under a tag is readable by digest, and each platform image
// also gets a per-architecture tag. (Signing a layout and pushing it with its attachments is
// tested in imagesource, which opens layouts.)
func TestPushIndex(t *testing.T) {
	ctx := context.Background()
	host := testRegistry(t)
	img1, _ := random.Image(100, 1)
	img2, _ := random.Image(100, 1)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img1, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: img2, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	ref, _ := ParseReference(host + "/spartan/test:1")
	c := New("test")
	d, _, err := c.Push(ctx, &Source{Artifact: idx}, ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := c.Get(ctx, ref)
	if err != nil || desc.Digest.String() != d {
		t.Fatalf("pushed %s, registry has %v (%v)", d, desc, err)
	}
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
	tags, err := c.List(ctx, ref.Context())
	if err != nil || strings.Join(tags, " ") != "1 1-amd64 1-arm64" {
		t.Fatalf("tags %q, %v", tags, err)
	}
	// Absent tags are "none", not errors.
	st := &Store{Repo: ref.Context(), Client: c}
	if img, err := st.Image(ctx, "sha256-"+strings.Repeat("0", 64)+".sig"); img != nil || err != nil {
		t.Fatalf("absent tag: %v, %v", img, err)
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
