//go:build e2e

package e2e

import (
	"archive/tar"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNodeImage(t *testing.T) {
	b := buildImage(t, "node")
	t.Logf("node image %s built in %s", b.digest, b.elapsed)
	check := filepath.Join(repoRoot, "images", "node", "test")
	r := must(t, podman(t, "run", "--rm", "-v", check+":/check:ro", "spartan/node:20", "/check/check.js"), "run check.js")
	if !strings.Contains(r.stdout, "uid 65532 user nonroot") || !strings.Contains(r.stdout, "checks ok:") {
		t.Fatalf("check.js output:\n%s\n%s", r.stdout, r.stderr)
	}
	t.Log(strings.TrimSpace(r.stdout))
}

// TestNodeTrustsSpecCA: an https request from node to a localhost server whose certificate
// chains to a CA the spec added, with no flag or variable set at run time.
func TestNodeTrustsSpecCA(t *testing.T) {
	caPEM, port := testCA(t)
	dir, tag := specWithCA(t, "node", caPEM)
	archive := filepath.Join(workDir, "node-ca.tar")
	must(t, spartan(t, nil, "build", dir, "--arch", "amd64", "--archive", archive), "build node with CA")
	must(t, podman(t, "load", "-i", archive), "load")
	check := filepath.Join(repoRoot, "images", "node", "test")
	r := must(t, podman(t, "run", "--rm", "--network", "host", "-v", check+":/check:ro", tag, "/check/check.js", strconv.Itoa(port)), "run check.js with TLS")
	for _, want := range []string{"https.custom-ca", "process.getuid() === 65532: true"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("check.js output lacks %q:\n%s", want, r.stdout)
		}
	}
	// NODE_EXTRA_CA_CERTS keeps the CA trusted even when node is told to use its bundled store.
	js := "require('https').get({host:'127.0.0.1',servername:'localhost',port:" + strconv.Itoa(port) + "},r=>console.log('status',r.statusCode)).on('error',e=>console.log('error',e.code))"
	r = must(t, podman(t, "run", "--rm", "--network", "host", tag, "--use-bundled-ca", "-e", js), "https with --use-bundled-ca")
	if !strings.Contains(r.stdout, "status 200") {
		t.Fatalf("--use-bundled-ca: %s", r.stdout)
	}
	// And the control: without it, the bundled store alone rejects the test CA.
	r = must(t, podman(t, "run", "--rm", "--network", "host", "-e", "NODE_EXTRA_CA_CERTS=", tag, "--use-bundled-ca", "-e", js), "https control")
	if !strings.Contains(r.stdout, "error ") {
		t.Fatalf("control request with only the bundled store succeeded: %s", r.stdout)
	}
}

func TestNodeHasNoShellOrPackageManager(t *testing.T) {
	b := buildImage(t, "node")
	files := archiveFiles(t, b.archive)
	for _, p := range []string{"bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash", "usr/bin/dash", "usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/npm", "usr/bin/npx", "usr/bin/corepack", "usr/bin/openssl"} {
		if _, ok := files[p]; ok {
			t.Errorf("image contains /%s", p)
		}
	}
	for p, h := range files {
		if h.Mode&(04000|02000) != 0 && h.Typeflag == tar.TypeReg {
			t.Errorf("setuid/setgid file /%s (mode %o)", p, h.Mode)
		}
	}
	for _, p := range []string{"usr/bin/node", "usr/share/nodejs/undici/undici-fetch.js", "etc/ssl/certs/ca-certificates.crt", "var/lib/dpkg/status.d/nodejs", "usr/share/doc/nodejs/copyright"} {
		if _, ok := files[p]; !ok {
			t.Errorf("image lacks /%s", p)
		}
	}
	r := podman(t, "run", "--rm", "--entrypoint", "/bin/sh", "spartan/node:20", "-c", "echo shell")
	if r.err == nil || strings.Contains(r.stdout, "shell") {
		t.Fatalf("running /bin/sh succeeded: %s", r.stdout)
	}
}

// TestNodeDevAptAndNpm: the dev image is a build stage: apt-get install works against the
// signed sources the image was built from, and npm runs (init, a script, a local dependency).
func TestNodeDevAptAndNpm(t *testing.T) {
	buildVariant(t, "node", "dev")
	dir := filepath.Join(workDir, "node-dev")
	writeFile(t, filepath.Join(dir, "Containerfile"), "FROM spartan/node:20-dev\n"+
		"RUN apt-get update && apt-get install -y --no-install-recommends jq && jq --version\n"+
		"RUN dpkg --audit && apt-get check && echo database-ok\n"+
		"WORKDIR /app\n"+
		"RUN mkdir lib && echo 'exports.hi = () => \"hi from lib\";' > lib/index.js && echo '{\"name\":\"lib\",\"version\":\"1.0.0\"}' > lib/package.json\n"+
		"RUN npm init -y >/dev/null && npm install --offline --no-audit --no-fund ./lib && npm ls && node -e 'console.log(require(\"lib\").hi())'\n")
	r := must(t, podman(t, "build", "--pull=never", "--no-cache", "--network", "host", "-t", "spartan-e2e/node-dev", dir), "podman build FROM spartan/node:20-dev")
	out := r.stdout + r.stderr
	for _, want := range []string{"jq-1.", "database-ok", "lib@1.0.0", "hi from lib"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, tail(out))
		}
	}
}

func TestNodeDebugHasBusybox(t *testing.T) {
	buildVariant(t, "node", "debug")
	r := must(t, podman(t, "run", "--rm", "--entrypoint", "/busybox/sh", "spartan/node:20-debug", "-c", "id -u; node -e 'console.log(40+2)'"), "busybox sh in node debug")
	if got := strings.Fields(r.stdout); len(got) != 2 || got[0] != "65532" || got[1] != "42" {
		t.Fatalf("debug image: %q", r.stdout)
	}
}
