// Package testbuild sets up builds for the tests of the workflows around build (publish,
// update, rebuild): a spec over one of testkit's signed repositories and build options with
// a download cache of their own. It lives apart from testkit because build's own tests import
// testkit, and this package imports build.
package testbuild

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
)

// OSRelease is a base-files package with Debian trixie's os-release, so that scanners and
// SBOMs know the distribution.
var OSRelease = testkit.Deb{Name: "base-files", Version: "13.8", AutoDirs: true, Essential: true, Files: []testkit.File{
	{Path: "/usr/lib/os-release", Body: "ID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n"},
}}

// WriteSpec writes dir/spartan.yaml (and the repository's key beside it) for an image name
// of packages from the trixie suite served at url, tagged tag.
func WriteSpec(t testing.TB, dir, url string, repo *testkit.Repo, name, tag string, packages ...string) string {
	t.Helper()
	write(t, filepath.Join(dir, "archive.asc"), string(repo.ArmoredPublicKey()))
	path := filepath.Join(dir, "spartan.yaml")
	write(t, path, "name: "+name+"\nrelease: trixie\nrepositories:\n  - url: "+url+"\n    suites: [trixie]\n    keyring: archive.asc\n"+
		"packages: ["+strings.Join(packages, ", ")+"]\ntags: ["+tag+"]\n")
	return path
}

// Options loads the spec at path and gives build options with a fresh download cache, as the
// CLI would with --cache in a new directory.
func Options(t testing.TB, path string) (build.Options, error) {
	t.Helper()
	s, err := spec.Load(path)
	if err != nil {
		return build.Options{}, err
	}
	c, err := cache.New(t.TempDir())
	if err != nil {
		return build.Options{}, err
	}
	return build.Options{Spec: s, Downloader: &cache.Downloader{HTTP: http.DefaultClient, Cache: c, Backoff: time.Millisecond}, Version: "test"}, nil
}

func write(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
