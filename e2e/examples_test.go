//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples builds each examples/<name> Containerfile with podman, exactly as its README
// says, and runs the result: the multi-stage promise of the -dev images, and the one-line
// FROM switch onto a runtime image.
func TestExamples(t *testing.T) {
	t.Run("python", func(t *testing.T) {
		buildVariant(t, "python", "dev")
		buildImage(t, "python")
		// The build stage installs python3-setuptools from the mirror: the network is the host's.
		must(t, podman(t, "build", "--pull=never", "--no-cache", "--network", "host", "-t", "spartan-e2e/example-python", filepath.Join(repoRoot, "examples", "python")), "podman build examples/python")
		r := must(t, podman(t, "run", "--rm", "spartan-e2e/example-python"), "run examples/python")
		if !strings.Contains(r.stdout, "hello-spartan 1.0.0 on Python 3.13") || !strings.Contains(r.stdout, "from /venv: uid 65532, sqlite says 42") {
			t.Fatalf("examples/python output: %s", r.stdout)
		}
		noShell(t, "spartan-e2e/example-python")
	})
	t.Run("node", func(t *testing.T) {
		buildVariant(t, "node", "dev")
		buildImage(t, "node")
		// No network at all: npm ci installs only what the lock records, a local dependency.
		must(t, podman(t, "build", "--pull=never", "--no-cache", "--network", "none", "-t", "spartan-e2e/example-node", filepath.Join(repoRoot, "examples", "node")), "podman build examples/node")
		r := must(t, podman(t, "run", "--rm", "spartan-e2e/example-node"), "run examples/node")
		if !strings.Contains(r.stdout, "hello from spartan/node on v20.") || !strings.Contains(r.stdout, "uid 65532") {
			t.Fatalf("examples/node output: %s", r.stdout)
		}
		if r := podman(t, "run", "--rm", "--entrypoint", "/usr/bin/npm", "spartan-e2e/example-node", "--version"); r.err == nil {
			t.Errorf("npm ran in the runtime stage: %s", r.stdout)
		}
		noShell(t, "spartan-e2e/example-node")
	})
	t.Run("go-static", func(t *testing.T) {
		buildImage(t, "static")
		buildVariant(t, "static", "dev")
		ctx := filepath.Join(repoRoot, "examples", "go-static")
		must(t, podman(t, "build", "--pull=never", "--no-cache", "--network", "none", "-t", "spartan-e2e/example-go-static", ctx), "podman build examples/go-static")
		r := must(t, podman(t, "run", "--rm", "spartan-e2e/example-go-static"), "run examples/go-static")
		if !strings.Contains(r.stdout, "hello from Go as uid 65532 (nonroot); noon UTC is 07:00 EST in New York") {
			t.Fatalf("examples/go-static output: %s", r.stdout)
		}
		noShell(t, "spartan-e2e/example-go-static")
	})
}

// noShell fails the test when /bin/sh runs in the image.
func noShell(t *testing.T, image string) {
	t.Helper()
	if r := podman(t, "run", "--rm", "--entrypoint", "/bin/sh", image, "-c", "echo shell"); r.err == nil || strings.Contains(r.stdout, "shell") {
		t.Errorf("/bin/sh ran in %s: %s", image, r.stdout)
	}
}
