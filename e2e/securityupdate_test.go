//go:build e2e

package e2e

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// imageLayer is one layer of a built image: its name (the history Spartan writes), its
// compressed digest and size, and the versions of the packages whose dpkg record it holds.
type imageLayer struct {
	name     string
	digest   string
	size     int64
	versions map[string]string // package → version, from var/lib/dpkg/status.d
}

type archived struct {
	layers     []imageLayer
	configSize int64
	created    string
}

// readArchive reads the docker-archive `spartan build --archive` writes for one platform.
func readArchive(t *testing.T, path string) archived {
	t.Helper()
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.History) != len(ls) {
		t.Fatalf("%s: %d history entries for %d layers", path, len(cfg.History), len(ls))
	}
	out := archived{configSize: m.Config.Size, created: cfg.Created.UTC().String()}
	for i, l := range ls {
		// "spartan: <layer> (<packages>)"
		f := strings.Fields(cfg.History[i].CreatedBy)
		if len(f) < 2 || f[0] != "spartan:" {
			t.Fatalf("%s: layer %d history %q is not Spartan's", path, i, cfg.History[i].CreatedBy)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		versions, err := statusVersions(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: layer %s: %v", path, f[1], err)
		}
		out.layers = append(out.layers, imageLayer{name: f[1], digest: m.Layers[i].Digest.String(), size: m.Layers[i].Size, versions: versions})
	}
	return out
}

// statusVersions reads the Version of every status.d record in a layer tar.
func statusVersions(r io.Reader) (map[string]string, error) {
	const dir = "var/lib/dpkg/status.d/"
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(h.Name, "./")
		pkg, ok := strings.CutPrefix(name, dir)
		if !ok || h.Typeflag != tar.TypeReg || strings.HasSuffix(pkg, ".md5sums") || strings.Contains(pkg, "/") {
			continue
		}
		sc := bufio.NewScanner(tr)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Version:"); ok {
				out[pkg] = strings.TrimSpace(v)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
}

var oldImages sync.Map // spec folder → *built

// buildOldImage builds images/<name> (amd64) without the security suite — the image as it was
// before today's security updates — into an archive, once per run; it returns the archive.
func buildOldImage(t *testing.T, name string) string {
	t.Helper()
	v, _ := oldImages.LoadOrStore(name, &built{})
	b := v.(*built)
	b.once.Do(func() {
		spec, err := os.ReadFile(filepath.Join(repoRoot, "images", name, "spartan.yaml"))
		if err != nil {
			b.err = err
			return
		}
		if strings.Contains(string(spec), "\nrepositories:") {
			b.err = fmt.Errorf("images/%s names its own repositories: the old image drops the security suite by naming the main archive alone", name)
			return
		}
		dir := filepath.Join(workDir, "security-update", name)
		writeFile(t, filepath.Join(dir, "spartan.yaml"), string(spec)+"repositories:\n  - archive: main\n")
		b.archive = filepath.Join(workDir, "security-update", name+"-old.tar")
		r := spartan(t, nil, "build", dir, "--arch", "amd64", "--archive", b.archive)
		b.elapsed = r.elapsed
		if r.err != nil {
			b.err = fmt.Errorf("build %s without the security suite: %v\n%s", name, r.err, tail(r.stderr))
			return
		}
		b.digest = lastLine(r.stdout)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.archive
}

// TestSecurityUpdateLayers builds the python, node and java images without the security suite
// and as the catalog does (the harness's shared builds, with it), on today's archive. The
// layers that changed must be exactly those holding the updated packages plus spartan-rootfs,
// every package must stay in its layer, and the bytes a puller of the old image downloads must
// stay within 1.2× of those layers' compressed size. Pushing the new image to a registry that
// holds the old one must upload only the changed layers and the config.
func TestSecurityUpdateLayers(t *testing.T) {
	host := startRegistry(t)
	for _, name := range []string{"python", "node", "java"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			oldArchive := buildOldImage(t, name)
			newImg := buildImage(t, name)
			old, cur := readArchive(t, oldArchive), readArchive(t, newImg.archive)

			oldVersions := map[string]string{}
			for _, l := range old.layers {
				maps.Copy(oldVersions, l.versions)
			}
			holding := map[string]bool{}
			var updates []string
			for _, l := range cur.layers {
				for _, p := range slices.Sorted(maps.Keys(l.versions)) {
					if p != "spartan-rootfs" && l.versions[p] != oldVersions[p] {
						updates = append(updates, p+" "+oldVersions[p]+" → "+l.versions[p])
						holding[l.name] = true
					}
				}
			}
			if len(updates) == 0 {
				t.Skipf("the security suite has no update for any package of the %s image today: nothing to measure", name)
			}
			t.Logf("%s: security updates: %s", name, strings.Join(updates, "; "))

			if len(old.layers) != len(cur.layers) {
				t.Fatalf("%d layers became %d", len(old.layers), len(cur.layers))
			}
			var changed []string
			var download, least, full int64
			for i, o := range old.layers {
				n := cur.layers[i]
				if o.name != n.name {
					t.Fatalf("layer %d was %s, is %s: the update moved groups between layers", i, o.name, n.name)
				}
				if a, b := slices.Sorted(maps.Keys(o.versions)), slices.Sorted(maps.Keys(n.versions)); !slices.Equal(a, b) {
					t.Errorf("layer %s held %v, now %v: the update moved packages between layers", n.name, a, b)
				}
				full += n.size
				if holding[n.name] || n.name == "spartan-rootfs" {
					least += n.size
				}
				if o.digest != n.digest {
					changed = append(changed, n.name)
					download += n.size
					if !holding[n.name] && n.name != "spartan-rootfs" {
						t.Errorf("layer %s changed, but holds no updated package", n.name)
					}
				} else if holding[n.name] {
					t.Errorf("layer %s holds an updated package, but did not change", n.name)
				}
			}
			t.Logf("%s: %d of %d layers changed (%s): download %d bytes; layers holding the update + spartan-rootfs %d bytes; full image %d bytes (created %s → %s)",
				name, len(changed), len(cur.layers), strings.Join(changed, ", "), download, least, full, old.created, cur.created)
			if float64(download) > 1.2*float64(least) {
				t.Errorf("a puller downloads %d bytes, more than 1.2 × the %d bytes of the layers holding the update", download, least)
			}

			// The registry holds the old image; pushing the new one sends only what changed.
			repo := host + "/security-update/" + name
			must(t, spartan(t, nil, "push", oldArchive, repo+":old"), "push the old "+name+" image")
			r := must(t, spartan(t, nil, "push", newImg.archive, repo+":new"), "push the updated "+name+" image")
			m := pushRE.FindStringSubmatch(r.stderr)
			if m == nil {
				t.Fatalf("push did not report its upload: %s", r.stderr)
			}
			got, _ := strconv.ParseInt(m[1], 10, 64)
			blobs, _ := strconv.Atoi(m[2])
			present, _ := strconv.Atoi(m[3])
			t.Logf("%s: %s", name, pushLine(r.stderr))
			want := download + cur.configSize
			if got != want || blobs != len(changed)+1 || present != len(cur.layers)-len(changed) {
				t.Errorf("push uploaded %d bytes in %d blobs (%d present), want the %d changed layers and the config: %d bytes in %d blobs (%d present)",
					got, blobs, present, len(changed), want, len(changed)+1, len(cur.layers)-len(changed))
			}
		})
	}
}
