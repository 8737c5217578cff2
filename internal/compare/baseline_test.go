package compare

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/spartan-images/spartan/internal/audit"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
)

// TestBaseline: the general-purpose image comes from mmdebstrap (a stand-in that packs a
// root filesystem with a shell, run with the spec's packages and repositories), the Spartan
// one from the spec; both are measured, and the baseline is also written as an archive.
func TestBaseline(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar")
	}
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	repo.Suites["trixie"] = &testkit.Suite{Codename: "trixie", Version: "13.1", Components: map[string][]testkit.Deb{"main": {
		testbuild.OSRelease,
		{Name: "app", Version: "1.0-1", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/app", Body: "\x7fELF app", Mode: 0o755}}},
	}}}
	srv := repo.Serve(t)
	o, err := testbuild.Options(t, testbuild.WriteSpec(t, t.TempDir(), srv.URL, repo, "app", "example.com/app:1", "base-files", "app"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	for _, f := range []string{"usr/bin/bash", "usr/bin/app", "etc/os-release"} {
		if err := os.MkdirAll(filepath.Join(rootfs, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rootfs, f), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "mmdebstrap")
	script := "#!/bin/sh\necho \"$@\" > " + args + "\nfor a; do case $a in */rootfs.tar) out=$a;; esac; done\nexec tar -C " + rootfs + " -cf \"$out\" .\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "baseline.tar")
	a, b, err := Baseline(context.Background(), o, BaselineOptions{Arch: "amd64", Archive: archive, TempDir: dir, Mmdebstrap: fake, Audit: audit.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "general-purpose (mmdebstrap minbase)" || len(a.Shells) != 1 || b.Name != "spartan/app" || len(b.Shells) != 0 || b.Packages["app"] != "1.0-1" {
		t.Errorf("general %+v\nspartan %+v", a, b)
	}
	got, err := os.ReadFile(args)
	if err != nil {
		t.Fatal(err)
	}
	if want := "--variant=minbase --architectures=amd64 --include=base-files,app trixie "; string(got[:len(want)]) != want {
		t.Errorf("mmdebstrap %s", got)
	}
	if _, err := os.Stat(archive); err != nil {
		t.Errorf("baseline archive: %v", err)
	}
}
