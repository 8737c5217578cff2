//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildCustom builds a spec written to dir/spartan.yaml (amd64) into an archive and loads it.
func buildCustom(t *testing.T, dir, spec string) string {
	t.Helper()
	writeFile(t, filepath.Join(dir, "spartan.yaml"), spec)
	archive := filepath.Join(dir, "image.tar")
	must(t, spartan(t, nil, "-v", "build", dir, "--arch", "amd64", "--archive", archive), "build "+dir)
	must(t, podman(t, "load", "-i", archive), "podman load "+archive)
	return archive
}

// TestCustomBaseSharesLayers extends the catalog python image with the libraries Pillow and
// OpenCV wheels need: every package layer of python is reused byte for byte, so pulling the
// custom image after python downloads only what was added.
func TestCustomBaseSharesLayers(t *testing.T) {
	t.Parallel()
	py := readArchive(t, buildImage(t, "python").archive)
	dir := filepath.Join(workDir, "custom-python")
	custom := readArchive(t, buildCustom(t, dir, `name: spartan-e2e/python-gl
base: python
packages: [libgl1, libglib2.0-0]
`))
	have := map[string]bool{}
	var customBytes int64
	for _, l := range custom.layers {
		have[l.digest] = true
		customBytes += l.size
	}
	var shared, total int64
	var notShared []string
	for _, l := range py.layers {
		total += l.size
		if have[l.digest] {
			shared += l.size
		} else {
			notShared = append(notShared, l.name)
		}
	}
	frac := float64(shared) / float64(total)
	t.Logf("python: %d layers, %.2f MB; custom: %d layers, %.2f MB; shared %.2f MB = %.2f %% of python's layer bytes; not shared: %v",
		len(py.layers), mb(total), len(custom.layers), mb(customBytes), mb(shared), 100*frac, notShared)
	if frac < 0.9 {
		t.Errorf("the custom image shares %.1f %% of python's layer bytes, want ≥ 90 %%", 100*frac)
	}
	// spartan-rootfs is per image; it is shared too when the added packages bring no newer
	// creation time and nothing synthesized differs.
	if len(notShared) > 1 || len(notShared) == 1 && notShared[0] != "spartan-rootfs" {
		t.Errorf("layers of python not reused: %v; want at most the synthesized spartan-rootfs", notShared)
	}
	r := must(t, podman(t, "run", "--rm", "spartan-e2e/python-gl:latest", "-c",
		"import ctypes; ctypes.CDLL('libGL.so.1'); ctypes.CDLL('libglib-2.0.so.0'); print('gl ok')"), "load libGL in the custom image")
	if !strings.Contains(r.stdout, "gl ok") {
		t.Fatalf("custom image: %s", r.stdout)
	}
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// healthOf runs `podman healthcheck run` and returns its verdict ("healthy" or "unhealthy").
func healthOf(t *testing.T, ctr string) (string, result) {
	t.Helper()
	r := podman(t, "healthcheck", "run", ctr)
	out := strings.TrimSpace(r.stdout + r.stderr)
	if r.err == nil {
		return "healthy", r
	}
	if strings.Contains(out, "unhealthy") {
		return "unhealthy", r
	}
	return out, r
}

// waitHealthy retries while the server starts.
func waitHealthy(t *testing.T, ctr string) {
	t.Helper()
	var last result
	for i := 0; i < 30; i++ {
		v, r := healthOf(t, ctr)
		if v == "healthy" {
			t.Logf("%s: healthy (%s)", ctr, strings.TrimSpace(r.stdout))
			return
		}
		last = r
		time.Sleep(500 * time.Millisecond)
	}
	logs := podman(t, "logs", ctr)
	t.Fatalf("%s never became healthy: %v %s %s\nlogs: %s%s", ctr, last.err, last.stdout, last.stderr, logs.stdout, logs.stderr)
}

func runDetached(t *testing.T, name string, args ...string) {
	t.Helper()
	podman(t, "rm", "-f", name)
	must(t, podman(t, append([]string{"run", "-d", "--name", name}, args...)...), "run "+name)
	t.Cleanup(func() { podman(t, "rm", "-f", "-t", "0", name) })
}

// TestHealthcheckWithoutShell: images with no shell, curl or wget carry a HEALTHCHECK that
// spartan-probe answers: HTTP against a Python server, TCP against a static Go server, and
// unhealthy when nothing listens.
func TestHealthcheckWithoutShell(t *testing.T) {
	t.Parallel()
	pyDir := filepath.Join(workDir, "health-python")
	writeFile(t, filepath.Join(pyDir, "app", "server.py"), `import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok")
http.server.HTTPServer(("127.0.0.1", 8080), H).serve_forever()
`)
	buildCustom(t, pyDir, `name: spartan-e2e/python-health
base: python
files:
  - {src: ./app, dest: /app}
cmd: [/app/server.py]
healthcheck: {probe: "http://127.0.0.1:8080/health", interval: 5s, timeout: 3s}
`)
	inspect := must(t, podman(t, "image", "inspect", "--format", "{{json .HealthCheck}}", "spartan-e2e/python-health:latest"), "inspect")
	if !strings.Contains(inspect.stdout, "/usr/bin/spartan-probe") {
		t.Fatalf("podman does not see the HEALTHCHECK: %s", inspect.stdout)
	}
	noShell := podman(t, "run", "--rm", "--entrypoint", "/bin/sh", "spartan-e2e/python-health:latest", "-c", "true")
	if noShell.err == nil {
		t.Fatal("the image has a shell")
	}
	runDetached(t, "spartan-e2e-py-healthy", "spartan-e2e/python-health:latest")
	waitHealthy(t, "spartan-e2e-py-healthy")
	// The same image with nothing listening on the port.
	runDetached(t, "spartan-e2e-py-down", "spartan-e2e/python-health:latest", "-c", "import time; time.sleep(300)")
	if v, r := healthOf(t, "spartan-e2e-py-down"); v != "unhealthy" {
		t.Errorf("closed port: %q (%v)", v, r.err)
	}

	// A static Go server on the static image, probed over TCP.
	stDir := filepath.Join(workDir, "health-static")
	writeFile(t, filepath.Join(stDir, "src", "main.go"), `package main

import (
	"net/http"
	"os"
	"time"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	if len(os.Args) > 1 {
		time.Sleep(time.Hour) // idle: nothing listens
	}
	http.ListenAndServe("127.0.0.1:8081", nil)
}
`)
	writeFile(t, filepath.Join(stDir, "src", "go.mod"), "module server\n\ngo 1.22\n")
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(stDir, "bin", "server"), ".")
	cmd.Dir = filepath.Join(stDir, "src")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build server: %v\n%s", err, out)
	}
	buildCustom(t, stDir, `name: spartan-e2e/static-health
base: static
files:
  - {src: ./bin, dest: /app, mode: "0755"}
entrypoint: [/app/server]
healthcheck: {probe: "tcp://127.0.0.1:8081", interval: 5s}
`)
	runDetached(t, "spartan-e2e-static-healthy", "spartan-e2e/static-health:latest")
	waitHealthy(t, "spartan-e2e-static-healthy")
	runDetached(t, "spartan-e2e-static-down", "spartan-e2e/static-health:latest", "idle")
	if v, r := healthOf(t, "spartan-e2e-static-down"); v != "unhealthy" {
		t.Errorf("closed port: %q (%v)", v, r.err)
	}
	// The SBOM lists the probe beside the Debian packages.
	sbom := must(t, spartan(t, nil, "sbom", filepath.Join(stDir, "image.tar")), "sbom")
	if !strings.Contains(sbom.stdout, "spartan-probe") {
		t.Error("the SBOM does not list spartan-probe")
	}
}

// TestLegacyTimeZones: the backward names Debian 13 moved to tzdata-legacy resolve in python
// (zone files) and java (the JRE's own tzdb.dat).
func TestLegacyTimeZones(t *testing.T) {
	t.Parallel()
	buildImage(t, "python")
	r := must(t, podman(t, "run", "--rm", "spartan/python:3.13", "-c", `
import datetime, zoneinfo
for name in ("US/Eastern", "Europe/Kiev", "Asia/Calcutta"):
    z = zoneinfo.ZoneInfo(name)
    print(name, datetime.datetime(2026, 1, 15, tzinfo=z).utcoffset().total_seconds())
`), "python zoneinfo")
	for _, want := range []string{"US/Eastern -18000.0", "Europe/Kiev 7200.0", "Asia/Calcutta 19800.0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("python: %q lacks %q", r.stdout, want)
		}
	}

	buildImage(t, "java")
	buildVariant(t, "java", "dev")
	dir := filepath.Join(workDir, "java-tz")
	writeFile(t, filepath.Join(dir, "Tz.java"), `import java.util.TimeZone;
public class Tz {
    public static void main(String[] a) {
        for (String n : new String[] {"US/Eastern", "Europe/Kiev", "Asia/Calcutta"}) {
            TimeZone z = TimeZone.getTimeZone(n);
            System.out.println(n + " " + z.getID() + " " + z.getRawOffset());
        }
    }
}
`)
	writeFile(t, filepath.Join(dir, "Containerfile"), `FROM spartan/java:21-dev AS build
COPY Tz.java /src/
RUN javac -d /out /src/Tz.java
FROM spartan/java:21
COPY --from=build /out/ /app/
CMD ["-cp", "/app", "Tz"]
`)
	must(t, podman(t, "build", "--pull=never", "-t", "spartan-e2e/java-tz", dir), "podman build java-tz")
	r = must(t, podman(t, "run", "--rm", "spartan-e2e/java-tz"), "java TimeZone")
	// An unknown ID falls back to GMT with offset 0.
	for _, want := range []string{"US/Eastern US/Eastern -18000000", "Europe/Kiev Europe/Kiev 7200000", "Asia/Calcutta Asia/Calcutta 19800000"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("java: %q lacks %q", r.stdout, want)
		}
	}
}

// TestCustomBaseSecurityUpdate: the custom image of TestCustomBaseSharesLayers, built on the
// python image as it was before today's security updates (no security suite) and on today's.
// A base package update must change, in the custom image as in python, only the layers that
// hold the updated packages (and the synthesized spartan-rootfs), and the custom image's
// changed layers must be python's new layers byte for byte: whoever pulled both before
// downloads the update once.
func TestCustomBaseSecurityUpdate(t *testing.T) {
	t.Parallel()
	oldPy := readArchive(t, buildOldImage(t, "python"))
	newPy := readArchive(t, buildImage(t, "python").archive)
	oldBase := filepath.Join(workDir, "security-update", "python") // buildOldImage's spec dir
	build := func(dir, base string) archived {
		writeFile(t, filepath.Join(dir, "spartan.yaml"), "name: spartan-e2e/python-gl-update\nbase: "+base+"\npackages: [libgl1, libglib2.0-0]\n")
		archive := filepath.Join(dir, "image.tar")
		must(t, spartan(t, nil, "build", dir, "--arch", "amd64", "--archive", archive), "build "+dir)
		return readArchive(t, archive)
	}
	oldCustom := build(filepath.Join(workDir, "custom-update", "old"), oldBase)
	newCustom := build(filepath.Join(workDir, "custom-update", "new"), "python")

	// The updated packages, as python's layers record them.
	oldVersions := map[string]string{}
	for _, l := range oldPy.layers {
		for p, v := range l.versions {
			oldVersions[p] = v
		}
	}
	var updates []string
	for _, l := range newPy.layers {
		for p, v := range l.versions {
			if p != "spartan-rootfs" && oldVersions[p] != v {
				updates = append(updates, p+" "+oldVersions[p]+" → "+v)
			}
		}
	}
	if len(updates) == 0 {
		t.Skip("the security suite has no update for any package of the python image today: nothing to measure")
	}
	t.Logf("python: security updates: %s", strings.Join(updates, "; "))

	changedLayers := func(what string, old, cur archived) map[string]string {
		t.Helper()
		if len(old.layers) != len(cur.layers) {
			t.Fatalf("%s: %d layers became %d", what, len(old.layers), len(cur.layers))
		}
		changed := map[string]string{} // layer name → new digest
		for i, o := range old.layers {
			n := cur.layers[i]
			if o.name != n.name {
				t.Fatalf("%s: layer %d was %s, is %s", what, i, o.name, n.name)
			}
			updated := false
			for p, v := range n.versions {
				if p != "spartan-rootfs" && o.versions[p] != v {
					updated = true
				}
			}
			switch {
			case o.digest != n.digest && !updated && n.name != "spartan-rootfs":
				t.Errorf("%s: layer %s changed, but holds no updated package", what, n.name)
			case o.digest == n.digest && updated:
				t.Errorf("%s: layer %s holds an updated package, but did not change", what, n.name)
			}
			if o.digest != n.digest {
				changed[n.name] = n.digest
			}
		}
		return changed
	}
	pyChanged := changedLayers("python", oldPy, newPy)
	customChanged := changedLayers("custom", oldCustom, newCustom)
	t.Logf("changed layers: python %d of %d, custom %d of %d", len(pyChanged), len(newPy.layers), len(customChanged), len(newCustom.layers))
	for name, d := range customChanged {
		if name == "spartan-rootfs" {
			continue
		}
		if pd, ok := pyChanged[name]; !ok || pd != d {
			t.Errorf("custom layer %s changed to %s, which is not python's new layer %s (%q): the update is downloaded twice", name, d, name, pd)
		}
	}
	for name := range pyChanged {
		if _, ok := customChanged[name]; !ok && name != "spartan-rootfs" {
			t.Errorf("python's layer %s changed but the custom image's did not: it still carries the old package", name)
		}
	}
}
