//go:build e2e

// Package e2e runs Spartan against the real Debian archive (the mirror comes from SPARTAN_MIRROR
// or the host's apt sources), a real container engine (podman with runc) and, for the supply
// chain, a real registry. Run it with `bash e2e/run.sh`; it is excluded from `go test ./...`.
package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/sign"
)

var (
	repoRoot   string // the checkout
	workDir    string // scratch space for this run
	spartanBin string // built once in TestMain
	cacheDir   string // one cold cache for the whole run, so the first build is a cold one
	confFile   string // containers.conf for podman
)

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	if code == 0 {
		code = m.Run()
	}
	os.RemoveAll(workDir)
	os.Exit(code)
}

func setup() (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 1, err
	}
	repoRoot = filepath.Dir(wd)
	if workDir, err = os.MkdirTemp("", "spartan-e2e-"); err != nil {
		return 1, err
	}
	spartanBin = filepath.Join(workDir, "spartan")
	cmd := exec.Command("go", "build", "-o", spartanBin, "./cmd/spartan")
	cmd.Dir = repoRoot
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return 1, fmt.Errorf("build spartan: %w", err)
	}
	cacheDir = filepath.Join(workDir, "cache")
	// podman on these hosts: no default ulimits (the cgroup setup rejects them) and runc.
	confFile = filepath.Join(workDir, "containers.conf")
	if err := os.WriteFile(confFile, []byte("[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\n"), 0o644); err != nil {
		return 1, err
	}
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 1, fmt.Errorf("%s not installed: run e2e/setup.sh (bash e2e/run.sh does)", tool)
		}
	}
	return 0, nil
}

// result is a finished command.
type result struct {
	stdout, stderr string
	err            error
	elapsed        time.Duration
}

func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+confFile)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	return result{stdout: out.String(), stderr: errb.String(), err: err, elapsed: time.Since(start)}
}

func must(t *testing.T, r result, what string) result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", what, r.err, tail(r.stdout), tail(r.stderr))
	}
	return r
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// spartan runs the CLI with the run's cache.
func spartan(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return run(t, env, spartanBin, append([]string{"--cache", cacheDir}, args...)...)
}

// lastLine is the digest `spartan build` prints last.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func podman(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, nil, "podman", args...)
}

// built is an image built once per run and shared by the tests that need it.
type built struct {
	once    sync.Once
	archive string
	digest  string
	elapsed time.Duration
	err     error
}

var images sync.Map // spec folder → *built

// buildImage builds images/<name> (amd64) into an archive once and loads it into podman.
func buildImage(t *testing.T, name string) *built {
	t.Helper()
	v, _ := images.LoadOrStore(name, &built{})
	b := v.(*built)
	b.once.Do(func() {
		b.archive = filepath.Join(workDir, name+".tar")
		r := spartan(t, nil, "-v", "build", filepath.Join(repoRoot, "images", name), "--arch", "amd64", "--archive", b.archive)
		b.elapsed = r.elapsed
		if r.err != nil {
			b.err = fmt.Errorf("build %s: %v\n%s", name, r.err, tail(r.stderr))
			return
		}
		b.digest = lastLine(r.stdout)
		if l := podman(t, "load", "-i", b.archive); l.err != nil {
			b.err = fmt.Errorf("podman load %s: %v\n%s", name, l.err, l.stderr)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// attested decodes the in-toto statements in `cosign verify-attestation` output, one DSSE
// envelope per line (other lines are skipped).
func attested(t *testing.T, out string) []*sign.Statement {
	t.Helper()
	var sts []*sign.Statement
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var env struct{ Payload string }
		if json.Unmarshal([]byte(line), &env) != nil || env.Payload == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatalf("DSSE payload: %v", err)
		}
		st, err := sign.ParseStatement(raw)
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	return sts
}
