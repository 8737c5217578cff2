package debug

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// fakeEngine answers as podman and docker would for the containers and images it holds.
type fakeEngine struct {
	installed  map[string]bool
	containers map[string]map[string]string // engine → name → "id\tname\tstatus\tuser"
	images     map[string]bool              // "engine image"
	exitCode   int                          // what the attached command exits with
	attached   [][]string                   // commands attached, name first
	stdin      []io.Reader
}

func (f *fakeEngine) LookPath(file string) (string, error) {
	if f.installed[file] {
		return "/usr/bin/" + file, nil
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

func (f *fakeEngine) Output(_ context.Context, name string, args ...string) ([]byte, error) {
	for len(args) > 0 && args[0] == "--runtime" {
		args = args[2:]
	}
	last := args[len(args)-1]
	switch {
	case name == "kubectl" && args[len(args)-4] == "pod":
		if pod := args[len(args)-3]; pod == "web" {
			return []byte("app"), nil
		}
		return nil, errors.New("E1203 memcache.go:265] client-side noise\n" + `Error from server (NotFound): pods "` + args[len(args)-3] + `" not found`)
	case args[0] == "container" && args[1] == "inspect":
		if c, ok := f.containers[name][last]; ok {
			return []byte(c + "\n"), nil
		}
		if name == "docker" {
			return nil, errors.New("Error response from daemon: No such container: " + last)
		}
		return nil, errors.New("Error: no such container " + last)
	case args[0] == "image" && args[1] == "inspect":
		if f.images[name+" "+last] {
			return []byte("sha256:1234\n"), nil
		}
		return nil, errors.New("Error: " + last + ": image not known")
	}
	return nil, fmt.Errorf("fake engine: unexpected %s %v", name, args)
}

func (f *fakeEngine) Attach(name string, args []string, stdin io.Reader, _, _ io.Writer) (int, error) {
	f.attached = append(f.attached, append([]string{name}, args...))
	f.stdin = append(f.stdin, stdin)
	return f.exitCode, nil
}

func newFake() *fakeEngine {
	return &fakeEngine{
		installed: map[string]bool{"podman": true},
		containers: map[string]map[string]string{"podman": {
			"web":     "c0ffee\tweb\trunning\t65532:65532",
			"c0ffee":  "c0ffee\tweb\trunning\t65532:65532",
			"rooted":  "beef\trooted\trunning\t",
			"stopped": "dead\tstopped\texited\t65532",
			"frozen":  "cold\tfrozen\tpaused\t65532",
		}},
		images: map[string]bool{"podman " + DefaultImage: true, "podman my/toolbox:1": true},
	}
}

func TestRun(t *testing.T) {
	podmanRun := "podman run --rm "
	ns := "--pid container:c0ffee --network container:c0ffee --ipc container:c0ffee --label spartan.debug=c0ffee "
	tests := []struct {
		name string
		o    Options
		want string // the attached command
	}{
		{"shell as the target's user", Options{Target: "web", TTY: true},
			podmanRun + "-i -t " + ns + "--user 65532:65532 " + DefaultImage},
		{"shell without a terminal", Options{Target: "web"},
			podmanRun + "-i " + ns + "--user 65532:65532 " + DefaultImage},
		{"command, by container id", Options{Target: "c0ffee", Command: []string{"ps", "-ef"}},
			podmanRun + ns + "--user 65532:65532 --entrypoint ps " + DefaultImage + " -ef"},
		{"root on request", Options{Target: "web", Root: true, Command: []string{"strace", "-p", "1"}},
			podmanRun + ns + "--user 0:0 --cap-add SYS_PTRACE --cap-add NET_ADMIN --cap-add NET_RAW --entrypoint strace " + DefaultImage + " -p 1"},
		{"a target running as root", Options{Target: "rooted", Command: []string{"id"}},
			podmanRun + "--pid container:beef --network container:beef --ipc container:beef --label spartan.debug=beef --user 0:0 --entrypoint id " + DefaultImage},
		{"another toolbox, podman's runtime", Options{Target: "web", Image: "my/toolbox:1", Runtime: "runc", Command: []string{"true"}},
			"podman --runtime runc run --rm " + ns + "--user 65532:65532 --entrypoint true my/toolbox:1"},
		{"a registry toolbox is pulled", Options{Target: "web", Image: "registry.example/spartan/toolbox:1", Command: []string{"true"}},
			podmanRun + ns + "--user 65532:65532 --entrypoint true registry.example/spartan/toolbox:1"},
		{"a toolbox on a local registry port is pulled", Options{Target: "web", Image: "localhost:5000/toolbox:1", Command: []string{"true"}},
			podmanRun + ns + "--user 65532:65532 --entrypoint true localhost:5000/toolbox:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tc.o.Stdin = strings.NewReader("")
			if err := Run(context.Background(), f, tc.o); err != nil {
				t.Fatal(err)
			}
			if len(f.attached) != 1 {
				t.Fatalf("attached %v", f.attached)
			}
			if got := strings.Join(f.attached[0], " "); got != tc.want {
				t.Errorf("ran\n  %s\nwant\n  %s", got, tc.want)
			}
			if (f.stdin[0] == nil) != (len(tc.o.Command) > 0) {
				t.Errorf("standard input passed: %v, with command %v", f.stdin[0] != nil, tc.o.Command)
			}
		})
	}
}

func TestExitStatusPassesThrough(t *testing.T) {
	f := newFake()
	f.exitCode = 3
	err := Run(context.Background(), f, Options{Target: "web", Command: []string{"false"}})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("error %v, want exit status 3", err)
	}
}

func TestDetectsTheEngineThatKnowsTheContainer(t *testing.T) {
	f := newFake()
	f.installed["docker"] = true
	f.containers["docker"] = map[string]string{"api": "d0c\t/api\trunning\t1000"}
	f.images["docker "+DefaultImage] = true
	if err := Run(context.Background(), f, Options{Target: "api", Runtime: "runc", Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	want := "docker run --rm --runtime runc --pid container:d0c --network container:d0c --ipc container:d0c --label spartan.debug=d0c --user 1000 --entrypoint true " + DefaultImage
	if got := strings.Join(f.attached[0], " "); got != want {
		t.Errorf("ran\n  %s\nwant\n  %s", got, want)
	}
}

func TestRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fakeEngine)
		o     Options
		want  []string
	}{
		{"no target", nil, Options{}, []string{"name the container"}},
		{"missing container", nil, Options{Target: "nope"}, []string{"debug nope: no such container", "podman: Error: no such container nope", "`podman ps`"}},
		{"missing in both engines", func(f *fakeEngine) { f.installed["docker"] = true }, Options{Target: "nope"},
			[]string{"podman: Error: no such container nope", "docker: Error response from daemon: No such container: nope"}},
		{"stopped container", nil, Options{Target: "stopped"}, []string{"debug stopped: the container is exited, not running", "`podman start stopped`"}},
		{"paused container", nil, Options{Target: "frozen"}, []string{"paused", "`podman unpause frozen`"}},
		{"no engine", func(f *fakeEngine) { f.installed = map[string]bool{} }, Options{Target: "web"}, []string{"no container engine installed (looked for podman, docker)"}},
		{"unknown engine", nil, Options{Target: "web", Engine: "lxc"}, []string{`engine "lxc": use podman or docker`}},
		{"named engine missing", nil, Options{Target: "web", Engine: "docker"}, []string{"docker is not installed"}},
		{"toolbox not loaded", func(f *fakeEngine) { f.images = nil }, Options{Target: "web"},
			[]string{"toolbox image spartan/toolbox:latest is not in podman", "spartan build images/toolbox", "podman load"}},
		{"a local toolbox not loaded", func(f *fakeEngine) { f.images = nil }, Options{Target: "web", Image: "localhost/spartan/toolbox:2"},
			[]string{"toolbox image localhost/spartan/toolbox:2 is not in podman"}},
		{"pod without kubectl or container", nil, Options{Target: "pod/web"}, []string{"give it with --container"}},
		{"missing pod", func(f *fakeEngine) { f.installed["kubectl"] = true }, Options{Target: "pod/nope"}, []string{`debug pod/nope: look up its first container: Error from server (NotFound): pods "nope" not found`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			err := Run(context.Background(), f, tc.o)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(f.attached) != 0 {
				t.Errorf("started %v", f.attached)
			}
		})
	}
}

func TestKubernetes(t *testing.T) {
	tests := []struct {
		name    string
		kubectl bool
		o       Options
		printed string // on standard output
		ran     string
		wantErr string
	}{
		{"shell, container looked up", true, Options{Target: "pod/web", TTY: true}, "",
			"kubectl debug pod/web --image=spartan/toolbox:latest --target=app --quiet --profile=general -i -t", ""},
		{"--kube, namespace, root, command", true, Options{Target: "web", Kube: true, Namespace: "shop", Root: true, Container: "api", Image: "registry.example/toolbox:1", Command: []string{"ps", "aux"}}, "",
			"kubectl --namespace shop debug pod/web --image=registry.example/toolbox:1 --target=api --quiet --profile=sysadmin --attach -- ps aux", ""},
		{"dry run", true, Options{Target: "pod/web", DryRun: true, Command: []string{"sh", "-c", "ls /target"}},
			"kubectl debug pod/web --image=spartan/toolbox:latest --target=app --quiet --profile=general --attach -- sh -c 'ls /target'\n", "", ""},
		{"no kubectl: the command is printed", false, Options{Target: "pod/web", Container: "app"},
			"kubectl debug pod/web --image=spartan/toolbox:latest --target=app --quiet --profile=general -i\n", "", "kubectl is not installed: run the command above"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.installed["kubectl"] = tc.kubectl
			var out strings.Builder
			tc.o.Stdout = &out
			err := Run(context.Background(), f, tc.o)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if out.String() != tc.printed {
				t.Errorf("printed %q, want %q", out.String(), tc.printed)
			}
			ran := ""
			if len(f.attached) > 0 {
				ran = strings.Join(f.attached[0], " ")
			}
			if ran != tc.ran {
				t.Errorf("ran\n  %s\nwant\n  %s", ran, tc.ran)
			}
		})
	}
}

func TestDryRunPrintsTheEngineCommand(t *testing.T) {
	f := newFake()
	f.images = nil // a dry run does not look for the toolbox
	var out strings.Builder
	if err := Run(context.Background(), f, Options{Target: "web", DryRun: true, Command: []string{"cat", "/target/etc/os-release"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	want := "podman run --rm --pid container:c0ffee --network container:c0ffee --ipc container:c0ffee --label spartan.debug=c0ffee --user 65532:65532 --entrypoint cat spartan/toolbox:latest /target/etc/os-release\n"
	if out.String() != want || len(f.attached) != 0 {
		t.Errorf("printed %q, ran %v", out.String(), f.attached)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"ls":            "ls",
		"a b":           "'a b'",
		"it's":          `'it'\''s'`,
		"":              "''",
		"--image=x/y:1": "--image=x/y:1",
		"$HOME":         "'$HOME'",
	} {
		if got := ShellQuote([]string{in}); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
