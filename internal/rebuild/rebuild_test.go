package rebuild_test

import (
	"context"
	"crypto/ecdsa"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/rebuild"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
)

// signedLayout builds a two-architecture image from testkit's repository and signs it, with
// its provenance, into an OCI layout: what `spartan build --oci DIR --sign-key` leaves.
func signedLayout(t *testing.T) (layout, specPath string, key *ecdsa.PrivateKey) {
	t.Helper()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	app := func(arch string) testkit.Deb {
		return testkit.Deb{Name: "app", Version: "1.0-1", Arch: arch, AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/app", Body: "\x7fELF app " + arch, Mode: 0o755}}}
	}
	osr := testbuild.OSRelease
	osr.Arch = "all"
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.1", Archs: []string{"amd64", "arm64"},
		Components: map[string][]testkit.Deb{"main": {osr, app("amd64"), app("arm64")}}}
	srv := repo.Serve(t)
	specPath = testbuild.WriteSpec(t, t.TempDir(), srv.URL, repo, "app", "example.com/app:1", "base-files", "app")
	o, err := testbuild.Options(t, specPath)
	if err != nil {
		t.Fatal(err)
	}
	o.Archs = []string{"amd64", "arm64"}
	// The files' times are clamped to an epoch the provenance does not record, apart from
	// the image's creation time: rebuild must take it from there.
	epoch := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	o.Epoch = &epoch
	b := publish.Built{Options: o, Started: time.Now()}
	if b.Output, err = build.Build(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b.Finished = time.Now()
	key = testkit.SigningKey(t)
	layout = filepath.Join(t.TempDir(), "app")
	if _, err := publish.Publish(context.Background(), b, publish.Options{Layout: layout, Signer: publish.Key{Signer: sign.Signer{Key: key}}}); err != nil {
		t.Fatal(err)
	}
	return layout, specPath, key
}

func TestRebuild(t *testing.T) {
	layout, specPath, key := signedLayout(t)
	other := testkit.SigningKey(t)
	edited := filepath.Join(t.TempDir(), "spartan.yaml")
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(edited, append(data, "workdir: /srv\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(edited), "archive.asc"), mustRead(t, filepath.Join(filepath.Dir(specPath), "archive.asc")), 0o644); err != nil {
		t.Fatal(err)
	}
	options := func(version string) func(string, string) (build.Options, error) {
		return func(spec, variant string) (build.Options, error) {
			if variant != "" {
				t.Errorf("variant %q, want the base", variant)
			}
			o, err := testbuild.Options(t, spec)
			o.Version = version
			return o, err
		}
	}
	tests := []struct {
		name    string
		key     *ecdsa.PrivateKey
		spec    string
		version string // of the rebuilding spartan
		verify  bool
		wantErr string
	}{
		{name: "reproduced", key: key, spec: specPath, version: "test", verify: true},
		{name: "other spartan, no --verify", key: key, spec: specPath, version: "other"},
		{name: "other spartan", key: key, spec: specPath, version: "other", verify: true, wantErr: "is not reproducible here"},
		{name: "other key", key: other, spec: specPath, version: "test", verify: true, wantErr: "no SLSA provenance signed by this key"},
		{name: "spec edited since", key: key, spec: edited, version: "test", verify: true, wantErr: "check out the commit the provenance names"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := imagesource.Layout(layout)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := src.Target()
			if err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			res, err := rebuild.Rebuild(context.Background(), tg, rebuild.Options{Key: &tc.key.PublicKey, Spec: tc.spec, Verify: tc.verify,
				Name: "oci:" + layout, Log: &log, BuildOptions: options(tc.version)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Recorded != tg.Digest || res.Reproduced() != (tc.version == "test") {
				t.Errorf("result %+v (target %s)", res, tg.Digest)
			}
			for _, arch := range []string{"amd64: rebuilt ", "arm64: rebuilt "} {
				if !strings.Contains(log.String(), arch) {
					t.Errorf("log lacks %q:\n%s", arch, log.String())
				}
			}
		})
	}
}

// TestLocateSpec: a recorded relative path is found from the top of the git checkout, not
// from the directory the command runs in.
func TestLocateSpec(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	top := t.TempDir()
	sub := filepath.Join(top, "images", "app")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", top).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	top, _ = filepath.EvalSymlinks(top)
	if got, want := rebuild.LocateSpec("images/app/spartan.yaml", sub), filepath.Join(top, "images/app/spartan.yaml"); got != want {
		t.Errorf("in a checkout: %s, want %s", got, want)
	}
	if got := rebuild.LocateSpec("/abs/spartan.yaml", sub); got != "/abs/spartan.yaml" {
		t.Errorf("absolute: %s", got)
	}
	outside := t.TempDir()
	if got := rebuild.LocateSpec("images/app/spartan.yaml", outside); got != "images/app/spartan.yaml" {
		t.Errorf("outside a checkout: %s", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
