//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/registry"
)

// isolatedPodman runs podman with a storage of its own under the run's work dir. Images are
// stored once per image ID and podman records one manifest digest per image: with the
// storage the other tests share, an identical base pulled earlier from elsewhere (a
// reproducible build is identical) would lend the application the digest of that other pull
// in its base annotation.
func isolatedPodman(t *testing.T, name string) func(args ...string) result {
	t.Helper()
	root := filepath.Join(workDir, "podman-"+name)
	// podman refuses a runroot path longer than 50 characters: it gets a short directory of
	// its own, whatever the length of TMPDIR and the work dir's name.
	runRoot, err := os.MkdirTemp("", "sp-run-")
	if err != nil {
		t.Fatal(err)
	}
	if len(runRoot) > 50 {
		t.Fatalf("podman runroot %s is longer than podman's 50 characters: set TMPDIR to a shorter directory", runRoot)
	}
	t.Cleanup(func() { os.RemoveAll(runRoot) })
	return func(args ...string) result {
		t.Helper()
		return run(t, nil, "podman", append([]string{"--root", root, "--runroot", runRoot}, args...)...)
	}
}

// remoteImage reads ref's manifest and config from the registry.
func remoteImage(t *testing.T, ref string) (digest string, layers []string, cfg *v1.ConfigFile, ann map[string]string) {
	t.Helper()
	s, err := imagesource.Remote(context.Background(), ref, registry.New("e2e"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := s.Image("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		layers = append(layers, l.Digest.String())
	}
	if cfg, err = img.ConfigFile(); err != nil {
		t.Fatal(err)
	}
	return s.Digest, layers, cfg, m.Annotations
}

// TestRebaseApp: an application built with `podman build` FROM the python image as it was
// before today's security updates (the security update test's old build) and pushed; the
// current python image is pushed over the base's tag; `spartan rebase --onto` moves the
// application onto it without a rebuild. The result runs, cosign verifies its signature, its
// attested SBOM lists the new base's versions, and its layers are the new base's followed by
// the application's own, unchanged. An application whose own layer writes the package
// database, one not built on the named old base and a new base of another architecture are
// refused, each saying why.
func TestRebaseApp(t *testing.T) {
	t.Parallel()
	host := startRegistry(t)
	oldArchive := buildOldImage(t, "python")
	cur := buildImage(t, "python")
	dir := filepath.Join(workDir, "rebase")
	env := []string{"COSIGN_PASSWORD=e2e"}
	sp := func(args ...string) result { t.Helper(); return spartan(t, env, args...) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, run(t, env, "sh", "-c", "cd "+dir+" && "+spartanBin+" keygen"), "keygen")
	key, pub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")

	base := host + "/spartan/python:3.13"
	must(t, sp("push", oldArchive, base), "push the old python base")
	_, oldLayers, _, _ := remoteImage(t, base)

	podman := isolatedPodman(t, "rebase")
	// The application: a COPY'd script on the base, built and pushed with podman.
	writeFile(t, filepath.Join(dir, "app", "app.py"), "import ssl, sys\nprint('hello from python', sys.version.split()[0], 'with', ssl.OPENSSL_VERSION)\n")
	// One instruction: with podman's layer cache (its default) and several instructions,
	// buildah records an intermediate image's digest as the base's (docs/rebase.md).
	writeFile(t, filepath.Join(dir, "app", "Containerfile"), "FROM "+base+"\nCOPY app.py /app/app.py\n")
	app := host + "/shop/app:1"
	must(t, podman("build", "--tls-verify=false", "-t", app, filepath.Join(dir, "app")), "podman build the application")
	must(t, podman("push", "--tls-verify=false", app), "podman push the application")
	appDigest, appLayers, _, appAnn := remoteImage(t, app)
	t.Logf("application %s: base annotations %s=%q %s=%q", appDigest, "base.name", appAnn["org.opencontainers.image.base.name"],
		"base.digest", appAnn["org.opencontainers.image.base.digest"])
	own := appLayers[len(oldLayers):]

	// An application whose own layer adds a package record, as apt-get install would.
	writeFile(t, filepath.Join(dir, "dpkg", "extra"), "Package: extra\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n")
	writeFile(t, filepath.Join(dir, "dpkg", "Containerfile"), "FROM "+base+"\nCOPY extra /var/lib/dpkg/status.d/extra\n")
	withPkg := host + "/shop/with-package:1"
	must(t, podman("build", "--tls-verify=false", "-t", withPkg, filepath.Join(dir, "dpkg")), "podman build the application with a package")
	must(t, podman("push", "--tls-verify=false", withPkg), "podman push the application with a package")

	// The base is rebuilt: its tag moves on to today's image.
	must(t, sp("push", cur.archive, base), "push the current python base")
	_, newLayers, newCfg, _ := remoteImage(t, base)

	tl := filepath.Join(dir, "timeline.jsonl")
	r := must(t, sp("rebase", app, "--onto", base, "--sign-key", key, "--timeline", tl), "spartan rebase")
	digest := lastLine(r.stdout)
	t.Logf("spartan rebase %s --onto %s --sign-key: %s (wall clock, signing, SBOMs and push included)\n%s", app, base, r.elapsed, r.stderr)

	gotDigest, got, cfg, ann := remoteImage(t, app)
	if gotDigest != digest || digest == appDigest {
		t.Fatalf("%s is %s; rebase printed %s (the application was %s)", app, gotDigest, digest, appDigest)
	}
	if want := append(slices.Clone(newLayers), own...); !slices.Equal(got, want) {
		t.Errorf("layers\n%v\nwant the new base's then the application's own\n%v", got, want)
	}
	for _, kv := range newCfg.Config.Env {
		if !slices.Contains(cfg.Config.Env, kv) {
			t.Errorf("env lacks the new base's %s: %v", kv, cfg.Config.Env)
		}
	}
	if ann["org.opencontainers.image.base.name"] != base || ann["org.opencontainers.image.base.digest"] == "" {
		t.Errorf("base annotations of the result: %v", ann)
	}

	out := must(t, podman("run", "--rm", "--tls-verify=false", host+"/shop/app@"+digest, "/app/app.py"), "run the rebased application")
	if !strings.Contains(out.stdout, "hello from python 3.13") {
		t.Errorf("the rebased application printed %q", out.stdout)
	}

	v := must(t, cosign(t, "verify", "--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry", app), "cosign verify the rebased application")
	if !strings.Contains(v.stdout, digest) {
		t.Errorf("cosign verify does not name %s:\n%s", digest, v.stdout)
	}
	must(t, cosign(t, "verify-attestation", "--key", pub, "--type", "slsaprovenance1", "--insecure-ignore-tlog=true", "--allow-http-registry", app), "cosign verify-attestation slsaprovenance1")
	a := must(t, cosign(t, "verify-attestation", "--key", pub, "--type", "spdxjson", "--insecure-ignore-tlog=true", "--allow-http-registry", app), "cosign verify-attestation spdxjson")
	sbom := spdxVersions(t, a.stdout)
	newVersions := map[string]string{}
	for _, l := range readArchive(t, cur.archive).layers {
		maps.Copy(newVersions, l.versions)
	}
	oldVersions := map[string]string{}
	for _, l := range readArchive(t, oldArchive).layers {
		maps.Copy(oldVersions, l.versions)
	}
	var updated []string
	for _, p := range slices.Sorted(maps.Keys(newVersions)) {
		if p != "spartan-rootfs" && sbom[p] != newVersions[p] {
			t.Errorf("the SBOM lists %s %q, the new base has %s", p, sbom[p], newVersions[p])
		}
		if p != "spartan-rootfs" && oldVersions[p] != newVersions[p] {
			updated = append(updated, p+" "+oldVersions[p]+" → "+newVersions[p])
		}
	}
	t.Logf("the rebase carried %d package updates: %s", len(updated), strings.Join(updated, "; "))
	if len(updated) == 0 {
		// Without an update the new base's layers are the old ones and nothing above proves
		// that a rebase carries new versions into the application.
		t.Errorf("the python base built without and with the security suite has the same package versions: the rebase carried no update")
	}

	// Refusals, each with its reason.
	arm := filepath.Join(workDir, "rebase", "static-arm64.tar")
	must(t, sp("build", filepath.Join(repoRoot, "images", "static"), "--arch", "arm64", "--archive", arm), "build static for arm64")
	static := buildImage(t, "static")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a package installed on top", []string{"rebase", withPkg, "--onto", base, "--to", host + "/shop/refused:1"},
			"changes the package database (/var/lib/dpkg/status.d/extra)"},
		{"not built on the old base", []string{"rebase", host + "/shop/app@" + appDigest, "--old-base", static.archive, "--onto", base, "--to", host + "/shop/refused:1"},
			"is not the old base's (sha256:"},
		{"a new base of another architecture", []string{"rebase", host + "/shop/app@" + appDigest, "--old-base", oldArchive, "--onto", arm, "--to", host + "/shop/refused:1"},
			"the new base is linux/arm64/v8, the application is linux/amd64: rebase onto the new base's linux/amd64 image"},
	} {
		r := sp(tc.args...)
		if r.err == nil || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: err %v, stderr %q; want a refusal saying %q", tc.name, r.err, r.stderr, tc.want)
		} else {
			t.Logf("%s: %s", tc.name, strings.TrimSpace(r.stderr))
		}
	}
}

// spdxVersions reads the package versions of the SPDX SBOM in cosign verify-attestation's
// output (one DSSE envelope per line).
func spdxVersions(t *testing.T, out string) map[string]string {
	t.Helper()
	for _, st := range attested(t, out) {
		var p struct {
			Packages []struct {
				Name        string `json:"name"`
				VersionInfo string `json:"versionInfo"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(st.Predicate, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Packages) == 0 {
			continue
		}
		out := map[string]string{}
		for _, pkg := range p.Packages {
			out[pkg.Name] = pkg.VersionInfo
		}
		return out
	}
	t.Fatalf("no SPDX attestation in cosign's output:\n%s", tail(out))
	return nil
}

// platformLayers reads the layer digests of ref's image for platform (os/arch).
func platformLayers(t *testing.T, ref, platform string) []string {
	t.Helper()
	s, err := imagesource.Remote(context.Background(), ref, registry.New("e2e"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := s.Image(platform)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest.String())
	}
	return out
}

// TestRebaseIndex: an application built by podman for amd64 and arm64 FROM the base image as
// it was without the security suite (a two-platform index) is rebased, platform by platform,
// onto today's two-platform base: each platform image of the result is that platform's new
// base layers followed by the application's own, each platform finding its own old base from
// its annotations.
func TestRebaseIndex(t *testing.T) {
	t.Parallel()
	host := startRegistry(t)
	dir := filepath.Join(workDir, "rebase-index")
	spec, err := os.ReadFile(filepath.Join(repoRoot, "images", "base", "spartan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "old", "spartan.yaml"), string(spec)+"repositories:\n  - archive: main\n")
	base := host + "/spartan/base:13"
	must(t, spartan(t, nil, "build", filepath.Join(dir, "old"), "--arch", "amd64,arm64", "--push", base), "build and push the old base for amd64 and arm64")
	oldAMD, oldARM := platformLayers(t, base, "linux/amd64"), platformLayers(t, base, "linux/arm64")

	podman := isolatedPodman(t, "rebase-index")
	writeFile(t, filepath.Join(dir, "app", "hello.txt"), "hello\n")
	writeFile(t, filepath.Join(dir, "app", "Containerfile"), "FROM "+base+"\nCOPY hello.txt /srv/hello.txt\n")
	app := host + "/shop/multi:1"
	must(t, podman("build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64", "--manifest", app, filepath.Join(dir, "app")), "podman build the application for two platforms")
	must(t, podman("manifest", "push", "--all", "--tls-verify=false", app, "docker://"+app), "podman manifest push the application")
	appAMD, appARM := platformLayers(t, app, "linux/amd64"), platformLayers(t, app, "linux/arm64")

	must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images", "base"), "--arch", "amd64,arm64", "--push", base), "build and push today's base for amd64 and arm64")
	r := must(t, spartan(t, nil, "rebase", app, "--onto", base, "--timeline", filepath.Join(dir, "timeline.jsonl")), "spartan rebase the two-platform application")
	t.Logf("spartan rebase of a two-platform application: %s\n%s", r.elapsed, r.stderr)
	for _, tc := range []struct {
		platform     string
		oldBase, app []string
	}{{"linux/amd64", oldAMD, appAMD}, {"linux/arm64", oldARM, appARM}} {
		want := append(platformLayers(t, base, tc.platform), tc.app[len(tc.oldBase):]...)
		if got := platformLayers(t, app, tc.platform); !slices.Equal(got, want) {
			t.Errorf("%s: layers\n%v\nwant the new base's then the application's own\n%v", tc.platform, got, want)
		}
	}
}
