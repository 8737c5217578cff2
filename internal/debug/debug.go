// Package debug starts a toolbox beside a running container that has no shell and no tools
// of its own: `spartan debug`. The toolbox joins the target's PID, network and IPC namespaces,
// so its ps sees the target's processes, its curl reaches the target's ports on localhost,
// and the target's root filesystem is at /target (a symlink to /proc/1/root in the toolbox
// image: with the PID namespace joined, PID 1 is the target's first process). Nothing is
// written into the target, and the toolbox container is removed when it exits.
//
// Podman and docker are driven through their CLIs (whichever knows the container);
// Kubernetes pods through `kubectl debug`, which adds an ephemeral container with --target.
package debug

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// DefaultImage is the toolbox Spartan builds from images/toolbox. With podman it is found as
// localhost/spartan/toolbox:latest once the archive is loaded.
const DefaultImage = "spartan/toolbox:latest"

// Label marks toolbox containers with the target's id: `podman ps -a --filter label=spartan.debug`
// finds any left behind (none should be: they run with --rm).
const Label = "spartan.debug"

// Engines are the container engines tried, in order, when none is named.
var Engines = []string{"podman", "docker"}

// Runner runs the engine's and kubectl's commands; Exec is the real one, the tests give a
// fake that answers as podman would.
type Runner interface {
	LookPath(file string) (string, error)
	// Output runs a command and returns its standard output; a non-zero exit is an error
	// carrying the command's standard error.
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
	// Attach runs a command with the given standard streams and returns its exit status.
	Attach(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
}

// Options say what to debug and how.
type Options struct {
	// Target is a container name or id, or pod/NAME for a Kubernetes pod.
	Target string
	// Kube makes Target a pod name even without the pod/ prefix.
	Kube bool
	// Container is the pod's container to target; "" asks kubectl for the pod's first one.
	Container string
	// Namespace is the pod's namespace; "" is kubectl's current one.
	Namespace string
	// Engine is podman or docker; "" tries Engines in order and takes the one that knows Target.
	Engine string
	// Runtime is the OCI runtime for podman (its global --runtime) or docker (run --runtime).
	Runtime string
	// Image is the toolbox image; "" is DefaultImage.
	Image string
	// Root runs the toolbox as root with the capabilities debugging needs (SYS_PTRACE for
	// strace and for /target across users, NET_ADMIN and NET_RAW for tcpdump); otherwise it
	// runs as the target's user.
	Root bool
	// Command runs non-interactively instead of a shell; its exit status is returned.
	Command []string
	// TTY gives the interactive shell a terminal (standard input is one).
	TTY bool
	// DryRun prints the command that would start the toolbox instead of running it.
	DryRun bool

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// ExitError is the toolbox command's non-zero exit status, passed on as spartan's own.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("debug command exited with status %d", e.Code) }

// ExitCode is the status spartan exits with.
func (e *ExitError) ExitCode() int { return e.Code }

// Target is a running container as the engine describes it.
type Target struct {
	Engine string
	ID     string
	Name   string
	Status string // running, exited, created, paused…
	User   string // the container's user; "" is root
}

// Run starts the toolbox against o.Target and waits for it. A non-zero exit of the toolbox's
// command is an *ExitError.
func Run(ctx context.Context, r Runner, o Options) error {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Target == "" {
		return errors.New("debug: name the container (or pod/NAME) to debug")
	}
	if pod, ok := strings.CutPrefix(o.Target, "pod/"); ok || o.Kube {
		o.Target = pod
		return runKube(ctx, r, o)
	}
	t, err := Find(ctx, r, o.Engine, o.Runtime, o.Target)
	if err != nil {
		return err
	}
	if err := t.debuggable(); err != nil {
		return err
	}
	if !o.DryRun {
		if err := checkImage(ctx, r, t.Engine, o); err != nil {
			return err
		}
	}
	args := runArgs(t, o)
	if o.DryRun {
		_, err := fmt.Fprintln(o.Stdout, ShellQuote(append([]string{t.Engine}, args...)))
		return err
	}
	return attach(r, t.Engine, args, o)
}

// Find asks the engines (engine, or each of Engines that is installed) for the container named
// target and returns the first that knows it.
func Find(ctx context.Context, r Runner, engine, runtime, target string) (*Target, error) {
	engines := Engines
	if engine != "" {
		if !slices.Contains(Engines, engine) {
			return nil, fmt.Errorf("debug %s: engine %q: use %s", target, engine, strings.Join(Engines, " or "))
		}
		engines = []string{engine}
	}
	var tried []string
	for _, e := range engines {
		if _, err := r.LookPath(e); err != nil {
			if engine != "" {
				return nil, fmt.Errorf("debug %s: %s is not installed", target, e)
			}
			continue
		}
		out, err := r.Output(ctx, e, append(globalArgs(e, runtime), "container", "inspect", "--format",
			"{{.Id}}\t{{.Name}}\t{{.State.Status}}\t{{.Config.User}}", target)...)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %s", e, firstLine(err.Error())))
			continue
		}
		f := strings.Split(strings.TrimRight(string(out), "\r\n"), "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("debug %s: %s container inspect answered %q, not id, name, status and user", target, e, out)
		}
		return &Target{Engine: e, ID: f[0], Name: strings.TrimPrefix(f[1], "/"), Status: f[2], User: f[3]}, nil
	}
	if len(tried) == 0 {
		return nil, fmt.Errorf("debug %s: no container engine installed (looked for %s); for a Kubernetes pod use pod/NAME", target, strings.Join(engines, ", "))
	}
	return nil, fmt.Errorf("debug %s: no such container (%s); list the running ones with `%s ps`", target, strings.Join(tried, "; "), firstWord(tried[0]))
}

// debuggable refuses containers whose namespaces cannot be joined.
func (t *Target) debuggable() error {
	switch t.Status {
	case "running":
		return nil
	case "paused":
		return fmt.Errorf("debug %s: the container is paused; `%s unpause %s` first", t.Name, t.Engine, t.Name)
	default:
		return fmt.Errorf("debug %s: the container is %s, not running: debug joins a running container's namespaces; start it (`%s start %s`), or run its image with another entrypoint",
			t.Name, t.Status, t.Engine, t.Name)
	}
}

// checkImage makes a missing local toolbox a clear error rather than a pull of an image
// that no registry has.
func checkImage(ctx context.Context, r Runner, engine string, o Options) error {
	if _, err := r.Output(ctx, engine, append(globalArgs(engine, o.Runtime), "image", "inspect", "--format", "{{.Id}}", o.Image)...); err == nil {
		return nil
	}
	if hasRegistry(o.Image) {
		return nil // the engine pulls it
	}
	return fmt.Errorf("debug: the toolbox image %s is not in %s: build and load it (`spartan build images/toolbox --archive toolbox.tar && %s load -i toolbox.tar`), or name another with --image",
		o.Image, engine, engine)
}

// runArgs is the engine's command line for the toolbox.
func runArgs(t *Target, o Options) []string {
	args := append(globalArgs(t.Engine, o.Runtime), "run", "--rm")
	if t.Engine == "docker" && o.Runtime != "" {
		args = append(args, "--runtime", o.Runtime)
	}
	if len(o.Command) == 0 {
		args = append(args, "-i")
		if o.TTY {
			args = append(args, "-t")
		}
	}
	ns := "container:" + t.ID
	args = append(args, "--pid", ns, "--network", ns, "--ipc", ns, "--label", Label+"="+t.ID)
	if o.Root {
		args = append(args, "--user", "0:0", "--cap-add", "SYS_PTRACE", "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW")
	} else if t.User != "" {
		args = append(args, "--user", t.User)
	} else {
		args = append(args, "--user", "0:0") // the target runs as root: so does its toolbox
	}
	if len(o.Command) > 0 {
		// The toolbox's entrypoint is a shell; the command is run as given, not through it.
		args = append(args, "--entrypoint", o.Command[0], o.Image)
		return append(args, o.Command[1:]...)
	}
	return append(args, o.Image)
}

func globalArgs(engine, runtime string) []string {
	if engine == "podman" && runtime != "" {
		return []string{"--runtime", runtime}
	}
	return nil
}

// runKube debugs a pod with `kubectl debug`, or prints that command when kubectl is not here.
func runKube(ctx context.Context, r Runner, o Options) error {
	_, lookErr := r.LookPath("kubectl")
	if o.Container == "" {
		if lookErr != nil {
			return fmt.Errorf("debug pod/%s: kubectl is not installed, so the pod's container cannot be looked up: give it with --container", o.Target)
		}
		args := append(nsArgs(o), "get", "pod", o.Target, "-o", "jsonpath={.spec.containers[0].name}")
		out, err := r.Output(ctx, "kubectl", args...)
		if err != nil {
			// kubectl logs client-side noise first; its verdict is the last line.
			return fmt.Errorf("debug pod/%s: look up its first container: %s", o.Target, lastLine(err.Error()))
		}
		if o.Container = strings.TrimSpace(string(out)); o.Container == "" {
			return fmt.Errorf("debug pod/%s: the pod lists no containers", o.Target)
		}
	}
	args := kubeArgs(o)
	if o.DryRun || lookErr != nil {
		if _, err := fmt.Fprintln(o.Stdout, ShellQuote(append([]string{"kubectl"}, args...))); err != nil {
			return err
		}
		if lookErr != nil {
			return fmt.Errorf("debug pod/%s: kubectl is not installed: run the command above where it is", o.Target)
		}
		return nil
	}
	return attach(r, "kubectl", args, o)
}

// kubeArgs: an ephemeral container in the pod, sharing the target container's PID namespace
// (--target); the pod's network and IPC namespaces are shared by all its containers already.
// The general profile adds SYS_PTRACE; sysadmin (--root) makes the container privileged.
func kubeArgs(o Options) []string {
	args := append(nsArgs(o), "debug", "pod/"+o.Target, "--image="+o.Image, "--target="+o.Container, "--quiet")
	if o.Root {
		args = append(args, "--profile=sysadmin")
	} else {
		args = append(args, "--profile=general")
	}
	if len(o.Command) == 0 {
		args = append(args, "-i")
		if o.TTY {
			args = append(args, "-t")
		}
		return args
	}
	// Attached, so that the command's output and exit status come back.
	return append(append(args, "--attach", "--"), o.Command...)
}

func nsArgs(o Options) []string {
	if o.Namespace != "" {
		return []string{"--namespace", o.Namespace}
	}
	return nil
}

func attach(r Runner, name string, args []string, o Options) error {
	stdin := o.Stdin
	if len(o.Command) > 0 {
		stdin = nil // non-interactive: the command reads no terminal
	}
	code, err := r.Attach(name, args, stdin, o.Stdout, o.Stderr)
	if err != nil {
		return fmt.Errorf("debug: %s: %w", name, err)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// hasRegistry says whether ref names a registry to pull from: a first component with a dot or
// a port. Plain "localhost/…" is where podman keeps loaded and built images, not a registry.
func hasRegistry(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	return ok && strings.ContainsAny(first, ".:")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, ":")
	return w
}

// ShellQuote joins args into one line a POSIX shell reads back as the same words.
func ShellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%{}", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Exec runs real commands.
type Exec struct{}

// LookPath implements Runner.
func (Exec) LookPath(file string) (string, error) { return exec.LookPath(file) }

// Output implements Runner.
func (Exec) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return out, errors.New(msg)
		}
		return out, err
	}
	return out, nil
}

// Attach implements Runner. The command is not tied to a context: an interrupt on the
// terminal reaches the engine's client too, which stops the toolbox and removes it (--rm);
// killing the client instead could leave the container behind.
func (Exec) Attach(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if f, ok := stdin.(*os.File); ok {
		cmd.Stdin = f // the terminal itself, so that the engine can set it to raw mode
	}
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}
