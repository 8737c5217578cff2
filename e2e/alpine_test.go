//go:build e2e

package e2e

import (
	"archive/tar"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

// TestAlpineImage builds an Alpine image from a generated, RSA-signed Alpine-format repository
// served on localhost, holding Debian's real musl runtime (from the host's musl package) and a
// program linked against it with musl-gcc; runs it in podman as 65532 with no shell; checks
// that syft lists the same apk packages as Spartan's SBOM, and that a secdb record written
// for one of them is flagged by spartan scan.
func TestAlpineImage(t *testing.T) {
	t.Parallel()
	musl, err := os.ReadFile("/lib/x86_64-linux-musl/libc.so")
	if err != nil {
		t.Fatalf("Debian's musl runtime: %v (run e2e/setup.sh)", err)
	}
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		t.Fatal("musl-gcc not installed: run e2e/setup.sh")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.c")
	writeFile(t, src, "#include <stdio.h>\n#include <unistd.h>\nint main(void){printf(\"hello from musl as %d\\n\", (int)getuid());return 0;}\n")
	bin := filepath.Join(dir, "hello")
	must(t, run(t, nil, "musl-gcc", "-O2", "-o", bin, src), "musl-gcc")
	helloBin, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	key, err := testkit.NewAPKKey("spartan-e2e-1.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []testkit.APK{
		{Name: "musl", Version: "1.2.3-r1", Origin: "musl", License: "MIT", Provides: []string{"so:libc.musl-x86_64.so.1=1"},
			Files: []testkit.File{
				{Path: "lib/", Type: tar.TypeDir},
				{Path: "lib/ld-musl-x86_64.so.1", Body: string(musl), Mode: 0o755},
				{Path: "lib/libc.musl-x86_64.so.1", Type: tar.TypeSymlink, Link: "ld-musl-x86_64.so.1"},
			}},
		{Name: "hello", Version: "1.0-r0", License: "MIT", Depends: []string{"so:libc.musl-x86_64.so.1", "/bin/sh"},
			Files: []testkit.File{{Path: "usr/bin/", Type: tar.TypeDir}, {Path: "usr/bin/hello", Body: string(helloBin), Mode: 0o755}}},
		{Name: "busybox", Version: "1.36.1-r0", Provides: []string{"/bin/sh", "cmd:sh"},
			Files: []testkit.File{{Path: "bin/", Type: tar.TypeDir}, {Path: "bin/sh", Body: "not a shell", Mode: 0o755}}},
	}
	srv := testkit.ServeAPK(t,
		&testkit.APKRepo{Key: key, Prefix: "v3.22/main/", Packages: pkgs},
		&testkit.APKRepo{Key: key, Prefix: "v3.22/community/", Packages: []testkit.APK{{Name: "extra", Version: "1-r0"}}})
	specDir := filepath.Join(dir, "spec")
	writeFile(t, filepath.Join(specDir, key.Name), string(key.PublicPEM()))
	writeFile(t, filepath.Join(specDir, "spartan.yaml"), `name: hello-alpine
distro: alpine
release: v3.22
packages: [hello]
entrypoint: [/usr/bin/hello]
repositories:
  - archive: main
    keyring: `+key.Name+`
tags: [spartan/hello-alpine:e2e]
`)
	archive := filepath.Join(dir, "hello-alpine.tar")
	r := must(t, spartan(t, nil, "-v", "--alpine-mirror", srv.URL, "build", specDir, "--arch", "amd64", "--archive", archive), "spartan build (alpine)")
	if !strings.Contains(r.stderr, "relation=/bin/sh") {
		t.Errorf("the /bin/sh cut is not logged:\n%s", tail(r.stderr))
	}
	must(t, podman(t, "load", "-i", archive), "podman load")
	t.Cleanup(func() { podman(t, "rmi", "-f", "spartan/hello-alpine:e2e") })
	out := must(t, podman(t, "run", "--rm", "spartan/hello-alpine:e2e"), "podman run")
	if strings.TrimSpace(out.stdout) != "hello from musl as 65532" {
		t.Errorf("podman run printed %q", out.stdout)
	}
	if sh := podman(t, "run", "--rm", "--entrypoint", "/bin/sh", "spartan/hello-alpine:e2e", "-c", "true"); sh.err == nil {
		t.Error("the image has a shell")
	}

	// syft reads /lib/apk/db/installed; it must see what Spartan's SBOM lists.
	syft := goTool(t, syftModule, syftVersion)
	sy := must(t, run(t, []string{"SYFT_CHECK_FOR_APP_UPDATE=false"}, syft, "docker-archive:"+archive, "-o", "json", "-q"), "syft")
	var doc struct {
		Artifacts []struct{ Name, Version, Type string } `json:"artifacts"`
	}
	if err := json.Unmarshal([]byte(sy.stdout), &doc); err != nil {
		t.Fatalf("syft output: %v", err)
	}
	syftPkgs := map[string]bool{}
	for _, a := range doc.Artifacts {
		if a.Type == "apk" {
			syftPkgs[a.Name+" "+a.Version] = true
		}
	}
	sb := must(t, spartan(t, nil, "sbom", archive, "--format", "spdx"), "spartan sbom")
	var spdx struct {
		Packages []struct {
			Name, VersionInfo string
			ExternalRefs      []struct{ ReferenceLocator string } `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(sb.stdout), &spdx); err != nil {
		t.Fatalf("spartan sbom output: %v", err)
	}
	ours := map[string]bool{}
	for _, p := range spdx.Packages {
		for _, ref := range p.ExternalRefs {
			if strings.HasPrefix(ref.ReferenceLocator, "pkg:apk/alpine/") {
				ours[p.Name+" "+p.VersionInfo] = true
			}
		}
	}
	want := map[string]bool{"hello 1.0-r0": true, "musl 1.2.3-r1": true}
	if !mapsEqual(syftPkgs, ours) || !mapsEqual(ours, want) {
		t.Errorf("syft sees %v, Spartan's SBOM lists %v, want %v", keys(syftPkgs), keys(ours), keys(want))
	}
	t.Logf("syft and Spartan's SBOM agree on the apk packages %v", keys(ours))

	// A secdb record for hello: the scan must flag it.
	secdb := filepath.Join(dir, "main.json")
	writeFile(t, secdb, `{"distroversion": "v3.22", "reponame": "main", "packages": [
  {"pkg": {"name": "hello", "secfixes": {"1.0-r1": ["CVE-2099-0001"]}}}]}`)
	db := filepath.Join(dir, "vuln.db")
	must(t, spartan(t, nil, "db", "import-secdb", "--db", db, secdb), "spartan db import-secdb")
	sc := spartan(t, nil, "scan", archive, "--db", db, "--format", "json")
	if !strings.Contains(sc.stdout, `"cve": "CVE-2099-0001"`) || !strings.Contains(sc.stdout, `"fixed_version": "1.0-r1"`) {
		t.Errorf("scan did not flag CVE-2099-0001 (err %v):\n%s\n%s", sc.err, tail(sc.stdout), tail(sc.stderr))
	}
	t.Logf("build %s, podman run %q, scan flags CVE-2099-0001 in hello 1.0-r0", r.elapsed.Round(1e6), strings.TrimSpace(out.stdout))
}
