package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/alpine/resolve"
	"github.com/spartan-images/spartan/internal/spec"
)

// Every Alpine catalog spec and variant parses, and its packages resolve under its profile's
// policy against the real, signed v3.17 main index (the newest real index available offline;
// the specs target v3.22).
func TestCatalogResolvesOnRealIndex(t *testing.T) {
	data, err := os.ReadFile("../apkindex/testdata/APKINDEX-3.17-main-aarch64.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Default()
	if err != nil {
		t.Fatal(err)
	}
	idx, err := apkindex.Read(bytes.NewReader(data), kr, "v3.17 main aarch64")
	if err != nil {
		t.Fatal(err)
	}
	specs, _ := filepath.Glob("../../../images/alpine/*/spartan.yaml")
	if len(specs) != 3 {
		t.Fatalf("Alpine catalog: %v", specs)
	}
	policies := map[spec.Profile]resolve.Policy{spec.Runtime: resolve.RuntimePolicy(), spec.Debug: resolve.DebugPolicy(), spec.Dev: resolve.DevPolicy()}
	for _, file := range specs {
		base, err := spec.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, variant := range []string{"", "debug", "dev"} {
			s, err := base.Variant(variant)
			if err != nil {
				t.Fatalf("%s %s: %v", file, variant, err)
			}
			if s.Distro != "alpine" || s.Release != "v3.22" {
				t.Errorf("%s: distro %s release %s", file, s.Distro, s.Release)
			}
			pkgs := s.Packages
			if variant == "dev" {
				// go and py3-pip are in community; the real index at hand is main's.
				pkgs = nil
				for _, p := range s.Packages {
					if p != "go" && p != "py3-pip" {
						pkgs = append(pkgs, p)
					}
				}
			}
			res, err := resolve.Resolve(idx.Packages, resolve.Request{Packages: pkgs, Exclude: s.Exclude, Allow: s.Allow,
				Policy: policies[s.Profile], Arch: "aarch64"})
			if err != nil {
				t.Errorf("%s %s: %v", file, variant, err)
				continue
			}
			for _, sel := range res.Packages {
				if s.Profile == spec.Runtime && (sel.Pkg.Name == "busybox" || sel.Pkg.Name == "apk-tools") {
					t.Errorf("%s runtime closure holds %s", file, sel.Pkg.Name)
				}
			}
			t.Logf("%s %s: %d packages, %d cuts", filepath.Base(filepath.Dir(file)), variant, len(res.Packages), len(res.Cuts))
		}
	}
}
