package audit

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/oci"
)

func sigTag(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return "sha256-" + d.Hex + ".sig"
}

// openTarget opens src as `spartan audit` does.
func openTarget(t *testing.T, src, arch string) *Target {
	t.Helper()
	s, err := imagesource.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	img, _, err := s.Image(arch)
	if err != nil {
		t.Fatal(err)
	}
	return NewTarget(context.Background(), s, img)
}

func auditSource(t *testing.T, src, arch string) *Report {
	t.Helper()
	r, err := Audit(openTarget(t, src, arch), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTargetKinds(t *testing.T) {
	img := testImage(t, nonroot, nil, cleanBase(), []file{reg("usr/bin/bash", 0o755, "\x7fELF\x00")})
	dir := t.TempDir()

	docker := filepath.Join(dir, "docker.tar")
	if err := tarball.WriteToFile(docker, name.MustParseReference("test/img:1"), img); err != nil {
		t.Fatal(err)
	}
	ociArchive := filepath.Join(dir, "oci.tar")
	if err := oci.WriteOCIArchive(ociArchive, img, []string{"test/img:1"}); err != nil {
		t.Fatal(err)
	}
	// A layout with a multi-arch index: the arm64 image has no shell, the amd64 one has.
	armImg := testImage(t, nonroot, nil, cleanBase())
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: armImg, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	multi := filepath.Join(dir, "multi")
	p, err := layout.Write(multi, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		src, arch string
		kind      Kind
		shell     bool
	}{
		{docker, "", imagesource.KindDockerArchive, true},
		{ociArchive, "", imagesource.KindOCIArchive, true},
		{multi, "amd64", imagesource.KindLayout, true},
		{multi, "arm64", imagesource.KindLayout, false},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.src)+"/"+tt.arch, func(t *testing.T) {
			tg := openTarget(t, tt.src, tt.arch)
			if tg.Kind != tt.kind {
				t.Errorf("kind %s, want %s", tg.Kind, tt.kind)
			}
			im, err := Read(tg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := Run(im)
			if got := has(r, "SPT-0001", "/usr/bin/bash", Warn); got != tt.shell {
				t.Errorf("shell reported = %v, want %v:\n%s", got, tt.shell, dump(r))
			}
		})
	}

}

func TestSignaturesInLayout(t *testing.T) {
	img := testImage(t, nonroot, nil, cleanBase())
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "app:1"})); err != nil {
		t.Fatal(err)
	}
	check := func(wantSig, wantAtt bool) {
		t.Helper()
		r := auditSource(t, dir, "")
		if got := has(r, "CIS-DI-0005", dir, Warn); got == wantSig {
			t.Errorf("missing-signature finding = %v, want %v:\n%s", got, !wantSig, dump(r))
		}
		if got := has(r, "SPT-0008", dir, Info); got == wantAtt {
			t.Errorf("missing-attestation finding = %v, want %v:\n%s", got, !wantAtt, dump(r))
		}
	}
	check(false, false)
	sig := testImage(t, v1.Config{}, nil, []file{reg("sig", 0o644, "sig")})
	if err := p.AppendImage(sig, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": sigTag(t, img)})); err != nil {
		t.Fatal(err)
	}
	check(true, false)
	att := strings.TrimSuffix(sigTag(t, img), ".sig") + ".att"
	if err := p.AppendImage(sig, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": att})); err != nil {
		t.Fatal(err)
	}
	check(true, true)
}

func TestRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img := testImage(t, nonroot, nil, cleanBase())
	ref := host + "/team/app:latest"
	if err := remote.Write(parseRef(t, ref), img); err != nil {
		t.Fatal(err)
	}
	r := auditSource(t, ref, "amd64")
	if r.Kind != imagesource.KindRegistry || !has(r, "DKL-DI-0006", ref, Warn) || !has(r, "CIS-DI-0005", ref, Warn) {
		t.Errorf("want latest-tag and unsigned warnings:\n%s", dump(r))
	}
	sig := testImage(t, v1.Config{}, nil, []file{reg("sig", 0o644, "sig")})
	if err := remote.Write(parseRef(t, host+"/team/app:"+sigTag(t, img)), sig); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(parseRef(t, host+"/team/app:1.0"), img); err != nil {
		t.Fatal(err)
	}
	r = auditSource(t, host+"/team/app:1.0", "amd64")
	if has(r, "DKL-DI-0006", host+"/team/app:1.0", Warn) || has(r, "CIS-DI-0005", host+"/team/app:1.0", Warn) {
		t.Errorf("signed, versioned reference still warned about:\n%s", dump(r))
	}
}

func parseRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
