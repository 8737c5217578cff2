package oci

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestPodmanLoad loads the archives into a real podman and runs them. It
// needs podman and runc and takes a while, so it only runs when
// SPARTAN_TEST_PODMAN=1. Podman gets its own storage under a temp dir, so the
// host's images are never touched.
func TestPodmanLoad(t *testing.T) {
	if os.Getenv("SPARTAN_TEST_PODMAN") != "1" {
		t.Skip("set SPARTAN_TEST_PODMAN=1 to test against a real podman")
	}
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("SPARTAN_TEST_PODMAN=1 but %s is missing: %v", tool, err)
		}
	}
	// Not t.TempDir: podman 4.3 turns layout paths into image names, which
	// must be lower case.
	work, err := os.MkdirTemp("", "spartan-oci-podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	pm := newPodman(t, work)

	images := map[string]v1.Image{}
	for _, arch := range []string{"amd64", "arm64"} {
		bin := filepath.Join(work, "hello-"+arch)
		build := exec.Command("go", "build", "-o", bin, "./testdata/hello")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build hello for %s: %v\n%s", arch, err, out)
		}
		cfg := Config{
			Arch:       arch,
			User:       "65532:65532",
			WorkingDir: "/home/nonroot",
			Env:        []string{"PATH=/", "GREETING=hi"},
			Entrypoint: []string{"/hello"},
			Created:    time.Unix(1700000000, 0),
		}
		images[arch] = mustImage(t, []Layer{{Name: "hello", Tar: helloTar(t, bin)}}, cfg)
	}
	idx, err := Index([]v1.Image{images["amd64"], images["arm64"]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "hello amd64 uid=65532 wd=/home/nonroot env=hi"

	t.Run("docker-archive", func(t *testing.T) {
		path := filepath.Join(work, "docker.tar")
		if err := WriteArchive(path, images["amd64"], []string{"spartan/hello:docker", "spartan/hello:also"}); err != nil {
			t.Fatal(err)
		}
		out := pm.run(t, "load", "-i", path)
		for _, tag := range []string{"spartan/hello:docker", "spartan/hello:also"} {
			if !strings.Contains(out, tag) {
				t.Errorf("podman load output lacks %s:\n%s", tag, out)
			}
			if got := pm.run(t, "run", "--rm", "--runtime", "runc", tag); strings.TrimSpace(got) != want {
				t.Errorf("run %s printed %q, want %q", tag, got, want)
			}
		}
	})

	t.Run("oci-archive image keeps its digest", func(t *testing.T) {
		path := filepath.Join(work, "oci.tar")
		ref := "localhost/spartan/hello:oci"
		if err := WriteOCIArchive(path, images["amd64"], []string{ref}); err != nil {
			t.Fatal(err)
		}
		pm.run(t, "load", "-i", path)
		pm.hasDigest(t, ref, mustDigest(t, images["amd64"]))
		if got := pm.run(t, "run", "--rm", "--runtime", "runc", ref); strings.TrimSpace(got) != want {
			t.Errorf("run printed %q, want %q", got, want)
		}
	})

	t.Run("oci layout", func(t *testing.T) {
		dir := filepath.Join(work, "layout")
		ref := "localhost/spartan/hello:layout"
		if err := WriteLayout(dir, idx, ref); err != nil {
			t.Fatal(err)
		}
		// podman 4.3 names images loaded from a layout directory after the
		// path, so select by ref.name with the oci transport instead.
		id := strings.TrimSpace(lastLine(pm.run(t, "pull", "oci:"+dir+":"+ref)))
		if got := pm.run(t, "run", "--rm", "--runtime", "runc", id); strings.TrimSpace(got) != want {
			t.Errorf("run printed %q, want %q", got, want)
		}
		if _, err := exec.LookPath("skopeo"); err == nil {
			raw, err := exec.Command("skopeo", "inspect", "--raw", "oci:"+dir+":"+ref).Output()
			if err != nil {
				t.Fatalf("skopeo inspect: %v", err)
			}
			if got, want := "sha256:"+sha256Hex(raw), mustDigest(t, idx); got != want {
				t.Errorf("skopeo sees %s, want %s", got, want)
			}
		}
	})

	t.Run("oci-archive index", func(t *testing.T) {
		path := filepath.Join(work, "index.tar")
		ref := "localhost/spartan/hello:multi"
		if err := WriteOCIArchive(path, idx, []string{ref}); err != nil {
			t.Fatal(err)
		}
		pm.run(t, "load", "-i", path)
		pm.hasDigest(t, ref, mustDigest(t, idx))
		// podman picks the host's platform from the index.
		if got := pm.run(t, "run", "--rm", "--runtime", "runc", ref); strings.TrimSpace(got) != want {
			t.Errorf("run printed %q, want %q", got, want)
		}
	})
}

// helloTar is a one-binary layer with the working directory the config names.
func helloTar(t *testing.T, bin string) []byte {
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeReg, Name: "hello", Mode: 0o755, Size: int64(len(body)), ModTime: mtime},
		{Typeflag: tar.TypeDir, Name: "home/", Mode: 0o755, ModTime: mtime},
		{Typeflag: tar.TypeDir, Name: "home/nonroot/", Mode: 0o700, Uid: 65532, Gid: 65532, ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// podman runs podman against private storage and configuration.
type podman struct{ args, env []string }

func newPodman(t *testing.T, work string) *podman {
	conf := filepath.Join(work, "containers.conf")
	writeFile(t, conf, "[containers]\ndefault_ulimits = []\n")
	return &podman{
		args: []string{
			"--root", filepath.Join(work, "storage"),
			"--runroot", filepath.Join(work, "run"),
			"--storage-driver", "vfs",
			"--cgroup-manager", "cgroupfs",
			"--events-backend", "none",
		},
		env: append(os.Environ(), "CONTAINERS_CONF="+conf),
	}
}

// hasDigest checks that podman recorded digest for ref, i.e. that it stored
// our manifest as is. (The image ID is the config digest, so images loaded
// from other archives of the same image share it and list their own digests.)
func (p *podman) hasDigest(t *testing.T, ref, digest string) {
	t.Helper()
	got := p.run(t, "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", ref)
	for _, line := range strings.Fields(got) {
		if strings.HasSuffix(line, "@"+digest) {
			return
		}
	}
	t.Errorf("%s: podman's digests %q lack %s", ref, got, digest)
}

func (p *podman) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("podman", append(append([]string{}, p.args...), args...)...)
	cmd.Env = p.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
