//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDebug runs the python runtime image as a web server and debugs it with the toolbox,
// through real podman: the toolbox sees the python process, reads the image's files under
// /target, reaches the server on localhost and passes a command's exit status on; afterwards
// no toolbox container is left and the target (image, container state, file changes) is as
// it was. A missing and a stopped container are refused.
func TestDebug(t *testing.T) {
	t.Parallel()
	buildImage(t, "python")
	buildImage(t, "toolbox")
	name := fmt.Sprintf("spartan-e2e-debug-%d", os.Getpid())
	t.Cleanup(func() { podman(t, "rm", "-f", "-t", "0", name) })
	must(t, podman(t, "run", "-d", "--name", name, "localhost/spartan/python:3.13", "-m", "http.server", "8000", "--bind", "127.0.0.1"), "start the python server")
	id := strings.TrimSpace(must(t, podman(t, "container", "inspect", "--format", "{{.Id}}", name), "inspect").stdout)
	state := func() string {
		t.Helper()
		s := must(t, podman(t, "container", "inspect", "--format", "{{.Image}} {{.ImageDigest}} {{.State.Status}} {{.State.Pid}} {{.State.StartedAt}} {{.RestartCount}}", name), "inspect target").stdout
		d := must(t, podman(t, "diff", name), "podman diff").stdout
		img := must(t, podman(t, "image", "inspect", "--format", "{{.Id}} {{.Digest}}", "localhost/spartan/python:3.13"), "inspect image").stdout
		return s + d + img
	}
	debug := func(args ...string) result {
		t.Helper()
		return spartan(t, nil, append([]string{"debug", "--runtime", "runc", name, "--"}, args...)...)
	}

	// The server may take a moment: curl retries until it answers.
	page := must(t, debug("curl", "-sS", "--retry", "20", "--retry-connrefused", "--retry-delay", "1", "http://localhost:8000/"), "curl the target's port on localhost")
	if !strings.Contains(page.stdout, "Directory listing for /") {
		t.Fatalf("the server's page:\n%s", page.stdout)
	}
	before := state()

	ps := must(t, debug("ps", "-eo", "pid,user,args"), "ps in the target's PID namespace")
	if !strings.Contains(ps.stdout, "/usr/bin/python3.13 -m http.server 8000") || !strings.Contains(ps.stdout, "nonroot") {
		t.Errorf("ps does not show the python server as nonroot:\n%s", ps.stdout)
	}
	t.Logf("spartan debug %s -- ps:\n%s", name, ps.stdout)
	file := must(t, debug("head", "-c", "40", "/target/usr/lib/python3.13/http/server.py"), "read a file of the target's root filesystem")
	if !strings.Contains(file.stdout, "HTTP server classes") {
		t.Errorf("/target/usr/lib/python3.13/http/server.py begins %q", file.stdout)
	}
	id2 := must(t, debug("id", "-u"), "id")
	if strings.TrimSpace(id2.stdout) != "65532" {
		t.Errorf("the toolbox runs as %q, not the target's user 65532", id2.stdout)
	}
	root := must(t, spartan(t, nil, "debug", "--runtime", "runc", "--root", name, "--", "sh", "-c", "id -u; timeout 1 strace -p 1 2>&1; true"), "strace as root")
	if !strings.HasPrefix(root.stdout, "0\n") || !strings.Contains(root.stdout, "Process 1 attached") {
		t.Errorf("--root: %s", root.stdout)
	}
	// Interactive: the shell reads its commands from standard input.
	sh := exec.Command(spartanBin, "debug", "--runtime", "runc", name)
	sh.Env = append(os.Environ(), "CONTAINERS_CONF="+confFile)
	sh.Stdin = strings.NewReader("cat /target/etc/os-release | grep VERSION_CODENAME\nexit\n")
	out, err := sh.Output()
	if err != nil || !strings.Contains(string(out), "VERSION_CODENAME=trixie") {
		t.Errorf("interactive shell: %v\n%s", err, out)
	}
	r := debug("sh", "-c", "exit 3")
	var exit *exec.ExitError
	if !errors.As(r.err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("a command exiting 3: spartan exited %v", r.err)
	}

	// Labelled or not: no other test runs the toolbox, so any container of it is a leftover.
	for _, filter := range []string{"label=spartan.debug=" + id, "ancestor=localhost/spartan/toolbox:latest"} {
		if left := must(t, podman(t, "ps", "-a", "-q", "--filter", filter), "ps").stdout; strings.TrimSpace(left) != "" {
			t.Errorf("toolbox containers left behind (%s): %s", filter, left)
		}
	}
	if after := state(); after != before {
		t.Errorf("the target changed:\nbefore %s\nafter  %s", before, after)
	}

	r = spartan(t, nil, "debug", "--runtime", "runc", "spartan-e2e-no-such-container", "--", "true")
	if r.err == nil || !strings.Contains(r.stderr, "no such container") {
		t.Errorf("a missing container: %v\n%s", r.err, r.stderr)
	}
	stopped := name + "-stopped"
	t.Cleanup(func() { podman(t, "rm", "-f", "-t", "0", stopped) })
	must(t, podman(t, "create", "--name", stopped, "localhost/spartan/python:3.13"), "create a stopped container")
	r = spartan(t, nil, "debug", "--runtime", "runc", stopped, "--", "true")
	if r.err == nil || !strings.Contains(r.stderr, "the container is created, not running") || !strings.Contains(r.stderr, "podman start "+stopped) {
		t.Errorf("a stopped container: %v\n%s", r.err, r.stderr)
	}
}
