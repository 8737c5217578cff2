//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// nginxFreePort asks the kernel for a port nothing listens on right now.
func nginxFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// nginxGet polls the URL until nginx answers or the deadline passes.
func nginxGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil {
				return resp.StatusCode, string(body)
			}
			err = rerr
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nginxRunDetached starts a container and removes it when the test ends.
func nginxRunDetached(t *testing.T, name string, args ...string) {
	t.Helper()
	podman(t, "rm", "-f", name)
	must(t, podman(t, append([]string{"run", "-d", "--name", name}, args...)...), "podman run "+name)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, podman(t, "logs", name).stderr)
		}
		podman(t, "rm", "-f", name)
	})
}

// TestNginxReadOnlyNonroot is the nginx image's promise: with a read-only root file system
// (podman's --read-only mounts tmpfs on /tmp, /var/tmp and /run) nginx starts as uid 65532,
// serves its default page on 8080 and logs requests to stdout.
func TestNginxReadOnlyNonroot(t *testing.T) {
	buildImage(t, "nginx")
	port := nginxFreePort(t)
	const name = "spartan-e2e-nginx"
	nginxRunDetached(t, name, "--read-only", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "spartan/nginx:latest")

	status, body := nginxGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	if status != http.StatusOK || !strings.Contains(body, "Welcome to nginx") {
		t.Fatalf("GET /: status %d, body:\n%s", status, body)
	}
	if status, _ := nginxGet(t, fmt.Sprintf("http://127.0.0.1:%d/missing", port)); status != http.StatusNotFound {
		t.Errorf("GET /missing: status %d, want 404", status)
	}

	ro := must(t, podman(t, "inspect", name, "--format", "{{.HostConfig.ReadonlyRootfs}}"), "inspect")
	if strings.TrimSpace(ro.stdout) != "true" {
		t.Errorf("root file system not read-only: %q", ro.stdout)
	}
	// Every process, master and workers, runs as 65532: nginx never had root to drop.
	top := must(t, podman(t, "top", name, "huser", "args"), "podman top")
	lines := strings.Split(strings.TrimSpace(top.stdout), "\n")
	var workers int
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if f[0] != "65532" {
			t.Errorf("process runs as %s, want 65532: %s", f[0], l)
		}
		if strings.Contains(l, "worker process") {
			workers++
		}
	}
	if workers == 0 {
		t.Errorf("no nginx worker process in:\n%s", top.stdout)
	}
	logs := must(t, podman(t, "logs", name), "podman logs")
	if !strings.Contains(logs.stdout, `"GET / HTTP/1.1" 200`) {
		t.Errorf("access log not on stdout:\nstdout:\n%s\nstderr:\n%s", logs.stdout, logs.stderr)
	}
	if strings.Contains(logs.stderr, "Read-only file system") || strings.Contains(logs.stderr, "[emerg]") {
		t.Errorf("nginx tried to write outside /tmp:\n%s", logs.stderr)
	}

	b := buildImage(t, "nginx")
	files := archiveFiles(t, b.archive)
	for _, p := range []string{"bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/dash", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/ss", "usr/sbin/ip", "usr/bin/ip"} {
		if _, ok := files[p]; ok {
			t.Errorf("image contains /%s", p)
		}
	}
}

// TestNginxVariants: the debug image serves the same way and proves the root is read-only
// from inside; the dev image runs as root with a working dpkg and a valid configuration.
func TestNginxVariants(t *testing.T) {
	buildVariant(t, "nginx", "debug")
	port := nginxFreePort(t)
	const name = "spartan-e2e-nginx-debug"
	nginxRunDetached(t, name, "--read-only", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "spartan/nginx:debug")
	if status, body := nginxGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); status != http.StatusOK || !strings.Contains(body, "Welcome to nginx") {
		t.Fatalf("debug GET /: status %d, body:\n%s", status, body)
	}
	w := podman(t, "exec", name, "/busybox/sh", "-c", "touch /etc/nginx/x 2>&1; id -u; ls /tmp")
	if !strings.Contains(w.stdout, "Read-only file system") {
		t.Errorf("writing /etc/nginx did not fail with EROFS:\n%s%s", w.stdout, w.stderr)
	}
	for _, want := range []string{"65532", "client_body", "proxy", "fastcgi", "uwsgi", "scgi", "nginx.pid"} {
		if !strings.Contains(w.stdout, want) {
			t.Errorf("debug exec output lacks %q:\n%s", want, w.stdout)
		}
	}

	buildVariant(t, "nginx", "dev")
	r := must(t, podman(t, "run", "--rm", "--entrypoint", "/bin/sh", "spartan/nginx:dev", "-c",
		"id -u && dpkg --audit && nginx -e stderr -t 2>&1 && command -v apt-get"), "nginx dev")
	for _, want := range []string{"0\n", "test is successful", "/usr/bin/apt-get"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dev output lacks %q:\n%s", want, r.stdout)
		}
	}
}
