package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/spec"
)

// TestLockRoundTrip: lock, then build --locked with the repository's indexes gone, gives the
// digest of a normal build; editing the spec makes the lock stale.
func TestLockRoundTrip(t *testing.T) {
	srv, repo := fakeArchive(t, "1.0")
	dir := t.TempDir()
	s := writeSpec(t, dir, srv.URL, repo)
	o := options(t, s, t.TempDir())
	out, err := Build(context.Background(), o)
	must(t, err)
	want, err := out.Digest()
	must(t, err)

	plans := []*Plan{out.Images[0].Plan}
	l, err := NewLock(o, plans)
	must(t, err)
	path := LockPath(s)
	if path != filepath.Join(dir, "spartan.lock.json") {
		t.Errorf("lock path %s", path)
	}
	must(t, WriteLock(path, l))

	la := l.Archs[0]
	if la.Arch != "amd64" || len(la.Releases) != 1 || len(la.Packages) != 4 || len(la.Cuts) == 0 {
		t.Fatalf("lock %+v", la)
	}
	rel := la.Releases[0]
	if rel.URI != srv.URL+"/dists/trixie/InRelease" || len(rel.SHA256) != 64 || rel.Date.IsZero() {
		t.Errorf("release %+v", rel)
	}
	app := la.Packages[0]
	if app.Name != "app" || app.Version != "1.0" || app.Filename == "" || app.Repository != rel.URI || app.URI != srv.URL+"/"+app.Filename || app.Size == 0 {
		t.Errorf("package %+v", app)
	}

	// The mirror no longer serves its indexes: a locked build does not need them.
	srv.Missing = map[string]bool{"/dists/trixie/InRelease": true}
	if _, err := Build(context.Background(), options(t, s, t.TempDir())); err == nil {
		t.Fatal("a normal build worked without InRelease: the test proves nothing")
	}
	read, err := ReadLock(path, s)
	must(t, err)
	fresh := options(t, s, t.TempDir())
	fresh.NoLayerCache = true
	locked, err := BuildLocked(context.Background(), fresh, read)
	must(t, err)
	got, err := locked.Digest()
	must(t, err)
	if got != want {
		t.Fatalf("locked build %s, normal build %s", got, want)
	}
	if len(locked.Images[0].Plan.Result.Cuts) != len(out.Images[0].Plan.Result.Cuts) {
		t.Error("cuts lost in the lock")
	}

	// An edited spec makes the lock stale, and says so.
	yaml, _ := os.ReadFile(s.File)
	must(t, os.WriteFile(s.File, []byte(strings.Replace(string(yaml), "packages: [app, ca-certificates, tzdata]", "packages: [app, ca-certificates]", 1)), 0o644))
	edited, err := spec.Load(dir)
	must(t, err)
	_, err = ReadLock(path, edited)
	if !errors.Is(err, ErrStaleLock) || !strings.Contains(err.Error(), "spartan lock") {
		t.Fatalf("stale lock: err = %v", err)
	}

	// Another architecture than the lock holds is refused.
	o2 := options(t, s, t.TempDir())
	o2.Archs = []string{"arm64"}
	if _, err := read.Plans(o2); err == nil || !strings.Contains(err.Error(), "arm64") {
		t.Fatalf("arch not in lock: err = %v", err)
	}
}

func TestLockPath(t *testing.T) {
	base := &spec.Spec{File: "/x/images/python/spartan.yaml"}
	if got := LockPath(base); got != "/x/images/python/spartan.lock.json" {
		t.Error(got)
	}
	other := &spec.Spec{File: "/x/app.yaml", VariantName: "dev"}
	if got := LockPath(other); got != "/x/app.dev.lock.json" {
		t.Error(got)
	}
}
