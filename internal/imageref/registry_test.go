package imageref

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestLoadImageFromRegistry(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img := image(t, "arm64", "v8")
	ref, err := name.ParseReference(host+"/spartan/x:1", name.Insecure)
	must(t, err)
	must(t, remote.Write(ref, img))

	got, _, err := LoadImage(host+"/spartan/x:1", "arm64")
	must(t, err)
	if digest(t, got) != digest(t, img) {
		t.Fatal("registry image differs from the one pushed")
	}
	if _, _, err := LoadImage(host+"/spartan/x:1", "amd64"); err == nil {
		t.Fatal("amd64 accepted for an arm64 image")
	}
	if _, _, err := LoadImage("./no-such-dir", ""); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing local path: err = %v", err)
	}
}
