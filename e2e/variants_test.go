//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// buildVariant builds images/<name> --variant <variant> (amd64) into an archive and loads it
// into podman, once per run.
func buildVariant(t *testing.T, name, variant string) *built {
	t.Helper()
	v, _ := images.LoadOrStore(name+"@"+variant, &built{})
	b := v.(*built)
	b.once.Do(func() {
		b.archive = filepath.Join(workDir, name+"-"+variant+".tar")
		r := spartan(t, nil, "-v", "build", filepath.Join(repoRoot, "images", name), "--variant", variant, "--arch", "amd64", "--archive", b.archive)
		b.elapsed = r.elapsed
		if r.err != nil {
			b.err = r.err
			t.Logf("build %s --variant %s:\n%s", name, variant, tail(r.stderr))
			return
		}
		b.digest = lastLine(r.stdout)
		if l := podman(t, "load", "-i", b.archive); l.err != nil {
			b.err = l.err
			t.Logf("podman load: %s", l.stderr)
		}
	})
	if b.err != nil {
		t.Fatalf("variant %s of %s: %v", variant, name, b.err)
	}
	return b
}

// TestDevVariantsAptInstall is the build-stage promise of every -dev image: apt-get install
// works against the signed sources the image was built from, and the database stays sound.
// python's also gets a working venv with pip.
func TestDevVariantsAptInstall(t *testing.T) {
	for _, tc := range []struct{ name, tag, extra, want string }{
		{"python", "spartan/python:3.13-dev", "RUN python3 -m venv /tmp/v && /tmp/v/bin/pip --version\n", "pip "},
		{"static", "spartan/static:dev", "RUN go version && go env CGO_ENABLED\n", "go version go1."},
		{"base", "spartan/base:dev", "", ""},
		{"cc", "spartan/cc:dev", "", ""},
		{"java", "spartan/java:21-dev", "RUN javac -version\n", "javac 21"},
		{"java25", "spartan/java:25-dev", "RUN javac -version\n", "javac 25"},
		{"nginx", "spartan/nginx:1.26-dev", "RUN nginx -t\n", "test is successful"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buildVariant(t, tc.name, "dev")
			dir := filepath.Join(workDir, tc.name+"-dev-apt")
			writeFile(t, filepath.Join(dir, "Containerfile"), "FROM "+tc.tag+"\n"+
				"RUN apt-get update && apt-get install -y --no-install-recommends jq && jq --version\n"+
				tc.extra+
				"RUN dpkg --audit && apt-get check && dpkg -s jq | grep -q '^Status: install ok installed$' && echo database-ok\n")
			// The build container reaches the mirror through the host's network.
			r := must(t, podman(t, "build", "--pull=never", "--no-cache", "--network", "host", "-t", "spartan-e2e/"+tc.name+"-dev-apt", dir), "podman build FROM "+tc.tag)
			out := r.stdout + r.stderr
			wants := []string{"jq-1.", "database-ok"}
			if tc.want != "" {
				wants = append(wants, tc.want)
			}
			for _, want := range wants {
				if !strings.Contains(out, want) {
					t.Errorf("build output lacks %q:\n%s", want, tail(out))
				}
			}
			id := must(t, podman(t, "run", "--rm", "--entrypoint", "id", tc.tag, "-u"), "id in "+tc.tag)
			if strings.TrimSpace(id.stdout) != "0" {
				t.Errorf("%s runs as uid %q, want 0", tc.tag, id.stdout)
			}
		})
	}
}

// TestDebugVariantsHaveBusybox: every -debug image is its runtime image plus /busybox, with
// the entrypoint and user unchanged, while the runtime image still has no shell.
func TestDebugVariantsHaveBusybox(t *testing.T) {
	for _, tc := range []struct{ name, tag, runtime string }{
		{"python", "spartan/python:3.13-debug", "spartan/python:3.13"},
		{"base", "spartan/base:debug", "spartan/base:latest"},
		{"cc", "spartan/cc:debug", "spartan/cc:latest"},
		{"static", "spartan/static:debug", "spartan/static:latest"},
		{"java", "spartan/java:21-debug", "spartan/java:21"},
		{"java25", "spartan/java:25-debug", "spartan/java:25"},
		{"nginx", "spartan/nginx:1.26-debug", "spartan/nginx:1.26"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buildVariant(t, tc.name, "debug")
			r := must(t, podman(t, "run", "--rm", "--entrypoint", "/busybox/sh", tc.tag, "-c", "echo ok; id -u; echo $PATH"), "busybox sh in "+tc.tag)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 3 || lines[0] != "ok" || lines[1] != "65532" || !strings.HasSuffix(lines[2], ":/busybox") {
				t.Errorf("%s: %q", tc.tag, r.stdout)
			}
			dbg := must(t, podman(t, "image", "inspect", "--format", "{{json .Config.Entrypoint}}", tc.tag), "inspect "+tc.tag)
			buildImage(t, tc.name)
			rt := must(t, podman(t, "image", "inspect", "--format", "{{json .Config.Entrypoint}}", tc.runtime), "inspect "+tc.runtime)
			if dbg.stdout != rt.stdout {
				t.Errorf("entrypoint %s differs from the runtime's %s", dbg.stdout, rt.stdout)
			}
			for _, sh := range []string{"/bin/sh", "/busybox/sh"} {
				if r := podman(t, "run", "--rm", "--entrypoint", sh, tc.runtime, "-c", "echo shell"); r.err == nil || strings.Contains(r.stdout, "shell") {
					t.Errorf("%s in %s ran: %s", sh, tc.runtime, r.stdout)
				}
			}
		})
	}
}
