//go:build e2e

package e2e

import (
	"archive/tar"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

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

	a := &alpineRun{dir: dir, specDir: specDir, mirror: srv.URL, archive: archive, digest: lastLine(r.stdout), db: db}
	a.supplyChain(t)
	a.readSide(t, archive)
	a.update(t, srv, &testkit.APKRepo{Key: key, Prefix: "v3.22/main/", Packages: pkgs})
}

// alpineRun is what TestAlpineImage's later steps share: the spec, the mirror and the image.
type alpineRun struct {
	dir, specDir, mirror, archive, digest, db string
}

func (a *alpineRun) spartan(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return spartan(t, env, append([]string{"--alpine-mirror", a.mirror}, args...)...)
}

// supplyChain signs and pushes the image with its SBOMs and provenance, verifies them with
// spartan and cosign, rebuilds it from the provenance alone on an empty cache, and builds it
// from a lock.
func (a *alpineRun) supplyChain(t *testing.T) {
	host := startRegistry(t)
	keyDir := filepath.Join(a.dir, "keys")
	os.MkdirAll(keyDir, 0o755)
	env := []string{"COSIGN_PASSWORD=" + password}
	must(t, spartan(t, env, "keygen", "--output-key-prefix", filepath.Join(keyDir, "cosign")), "keygen")
	key, pub := filepath.Join(keyDir, "cosign.key"), filepath.Join(keyDir, "cosign.pub")
	ref := host + "/spartan/hello-alpine:e2e"
	b := must(t, a.spartan(t, env, "build", a.specDir, "--arch", "amd64", "--sign-key", key, "--push", ref), "build --sign-key --push (alpine)")
	if got := lastLine(b.stdout); got != a.digest {
		t.Errorf("signed build %s, first build %s", got, a.digest)
	}
	v := must(t, spartan(t, nil, "verify", ref, "--key", pub, "--require", "sbom,provenance"), "spartan verify (alpine)")
	t.Logf("spartan verify:\n%s", v.stderr)
	cosignArgs := []string{"--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry"}
	must(t, cosign(t, append(append([]string{"verify"}, cosignArgs...), ref)...), "cosign verify (alpine)")
	att := must(t, cosign(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, cosignArgs...), ref)...), "cosign verify-attestation slsaprovenance1 (alpine)")
	deps := provenanceDeps(t, att.stdout)
	for _, f := range []string{"/v3.22/main/x86_64/APKINDEX.tar.gz", "/v3.22/community/x86_64/APKINDEX.tar.gz",
		"/v3.22/main/x86_64/hello-1.0-r0.apk", "/v3.22/main/x86_64/musl-1.2.3-r1.apk"} {
		if len(deps[a.mirror+f]) != 64 {
			t.Errorf("the provenance does not name %s with its sha256: %v", f, deps)
		}
	}
	rb := must(t, run(t, nil, spartanBin, "--cache", t.TempDir(), "rebuild", "--verify", ref, "--key", pub,
		"--spec", filepath.Join(a.specDir, "spartan.yaml")), "rebuild --verify (alpine)")
	if !strings.HasPrefix(strings.TrimSpace(rb.stdout), "reproduced "+a.digest) {
		t.Errorf("rebuild: %s\n%s", rb.stdout, tail(rb.stderr))
	}
	lk := must(t, a.spartan(t, nil, "lock", a.specDir, "--arch", "amd64"), "spartan lock (alpine)")
	lb := must(t, run(t, nil, spartanBin, "--cache", t.TempDir(), "--alpine-mirror", a.mirror, "build", a.specDir, "--arch", "amd64", "--locked"), "build --locked (alpine)")
	if got := lastLine(lb.stdout); got != a.digest {
		t.Errorf("locked build %s, first build %s", got, a.digest)
	}
	t.Logf("signed, pushed and verified %s; rebuilt from its provenance: %s; lock %s", ref, strings.TrimSpace(rb.stdout), strings.TrimSpace(lk.stdout))
}

// provenanceDeps reads the resolved dependencies (URI → sha256) of the SLSA provenance in
// cosign verify-attestation's output.
func provenanceDeps(t *testing.T, out string) map[string]string {
	t.Helper()
	deps := map[string]string{}
	for _, st := range attested(t, out) {
		var p struct {
			BuildDefinition struct {
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
		}
		if err := json.Unmarshal(st.Predicate, &p); err != nil {
			t.Fatal(err)
		}
		for _, d := range p.BuildDefinition.ResolvedDependencies {
			deps[d.URI] = d.Digest["sha256"]
		}
	}
	return deps
}

// readSide runs audit and vex on the image.
func (a *alpineRun) readSide(t *testing.T, archive string) {
	au := spartan(t, nil, "audit", archive, "--db", a.db)
	t.Logf("spartan audit (alpine):\n%s%s", au.stdout, au.stderr)
	// Nothing by design (no shell, apk database, musl paths) may be a finding: no FATAL, no WARN.
	if au.err != nil || !strings.Contains(au.stdout+au.stderr, ": 0 FATAL, 0 WARN,") {
		t.Errorf("audit of the Alpine image: %v", au.err)
	}
	vx := must(t, spartan(t, nil, "vex", archive, "--db", a.db), "spartan vex (alpine)")
	if !strings.Contains(vx.stdout, "CVE-2099-0001") || !strings.Contains(vx.stdout, "pkg:apk/alpine/hello@1.0-r0") {
		t.Errorf("vex does not state CVE-2099-0001 for hello:\n%s", tail(vx.stdout))
	}
}

// update regenerates the repository with hello 1.0-r1 (which the secdb record says fixes
// CVE-2099-0001), runs spartan update, and expects a rebuild, the lock rewritten, the fix in
// the timeline, and compare to show the bump.
func (a *alpineRun) update(t *testing.T, srv *testkit.APKServer, main *testkit.APKRepo) {
	for i := range main.Packages {
		if p := &main.Packages[i]; p.Name == "hello" {
			p.Version = "1.0-r1"
			p.Files = append(append([]testkit.File(nil), p.Files...), testkit.File{Path: "usr/share/hello/NEWS", Body: "1.0-r1: fixes CVE-2099-0001\n"})
		}
	}
	files, err := main.Build()
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		srv.Set(p, b)
	}
	tl := filepath.Join(a.dir, "timeline.jsonl")
	layouts := filepath.Join(a.dir, "updated")
	up := must(t, a.spartan(t, nil, "update", a.specDir, "--arch", "amd64", "--db", a.db, "--timeline", tl, "--oci-dir", layouts), "spartan update (alpine)")
	t.Logf("spartan update:\n%s%s", up.stdout, up.stderr)
	lock, err := os.ReadFile(filepath.Join(a.specDir, "spartan.lock.json"))
	if err != nil || !strings.Contains(string(lock), `"version": "1.0-r1"`) {
		t.Errorf("the lock does not pin hello 1.0-r1 (%v)", err)
	}
	// The rewritten lock builds the updated image; of its layers only hello's and the
	// synthesized one (which holds the installed database) differ from the first image's.
	updated := filepath.Join(a.dir, "hello-alpine-updated.tar")
	lb := must(t, a.spartan(t, nil, "build", a.specDir, "--arch", "amd64", "--locked", "--archive", updated), "build --locked after update (alpine)")
	if !strings.Contains(up.stdout, lastLine(lb.stdout)) {
		t.Errorf("the locked build %s is not the image update made:\n%s", lastLine(lb.stdout), up.stdout)
	}
	if got := changedLayers(t, a.archive, updated); got != "hello spartan-rootfs" {
		t.Errorf("the update changed the layers %q, want hello and spartan-rootfs", got)
	}
	tlr := must(t, spartan(t, nil, "timeline", "hello-alpine", "--timeline", tl, "--db", a.db), "spartan timeline (alpine)")
	t.Logf("spartan timeline:\n%s", tlr.stdout)
	if !strings.Contains(tlr.stdout, "CVE-2099-0001") {
		t.Errorf("the timeline does not show the fix of CVE-2099-0001:\n%s", tlr.stdout)
	}
	cmp := must(t, spartan(t, nil, "compare", a.archive, "oci:"+filepath.Join(layouts, "hello-alpine"), "--db", a.db), "spartan compare (alpine)")
	t.Logf("spartan compare:\n%s", cmp.stdout)
	if !regexp.MustCompile(`CVEs \(unimportant/unknown\)\s+1\s+0\s+-1`).MatchString(cmp.stdout) {
		t.Errorf("compare does not show CVE-2099-0001 fixed by the update:\n%s", cmp.stdout)
	}
	au := spartan(t, nil, "audit", "oci:"+filepath.Join(layouts, "hello-alpine"), "--db", a.db)
	t.Logf("audit of the update:\n%s", au.stdout)
}

// changedLayers names the layers (by their history's "spartan: NAME") whose uncompressed
// digests differ between two docker-archives of the same layout.
func changedLayers(t *testing.T, before, after string) string {
	t.Helper()
	read := func(p string) ([]string, []string) {
		img, err := tarball.ImageFromPath(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		var names, ids []string
		for i, h := range cfg.History {
			names = append(names, strings.Fields(h.CreatedBy)[1])
			ids = append(ids, cfg.RootFS.DiffIDs[i].String())
		}
		return names, ids
	}
	bn, bi := read(before)
	an, ai := read(after)
	if strings.Join(bn, " ") != strings.Join(an, " ") {
		t.Fatalf("layers %v before, %v after", bn, an)
	}
	var changed []string
	for i := range bi {
		if bi[i] != ai[i] {
			changed = append(changed, an[i])
		}
	}
	return strings.Join(changed, " ")
}
