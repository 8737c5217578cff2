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
	read, err := ReadLock(path, s, LockStrict)
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
	_, err = ReadLock(path, edited, LockStrict)
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

// TestReadLockModes: the strict reader (build --locked) and the tolerant one (update) agree on
// what makes a lock unusable — bad JSON, another format version, a package entry without its
// checksum — and differ only on a missing lock and on a spec that moved on.
func TestReadLockModes(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "spartan.yaml"), []byte("name: app\npackages: [app]\n"), 0o644))
	s, err := spec.Load(dir)
	must(t, err)
	good := func() *Lock {
		return &Lock{LockVersion: LockVersion, Spec: LockSpec{Name: "app", File: "spartan.yaml", Variant: "runtime", SHA256: s.Digest()},
			Archs: []LockArch{{Arch: "amd64", Packages: []LockPackage{{Name: "app", Version: "1.0", Arch: "amd64",
				SHA256: strings.Repeat("ab", 32), Filename: "pool/main/a/app/app_1.0_amd64.deb"}}}}}
	}
	write := func(t *testing.T, edit func(l *Lock)) string {
		l := good()
		if edit != nil {
			edit(l)
		}
		path := filepath.Join(t.TempDir(), "spartan.lock.json")
		must(t, WriteLock(path, l))
		return path
	}
	corrupt := filepath.Join(t.TempDir(), "spartan.lock.json")
	must(t, os.WriteFile(corrupt, []byte(`{"lockVersion": 1, "archs": [`), 0o644))
	missing := filepath.Join(t.TempDir(), "spartan.lock.json")

	tests := []struct {
		name          string
		path          string
		strict, loose string // "" = reads; else a substring of the error
		looseIsNil    bool
		strictIsStale bool
	}{
		{name: "good", path: write(t, nil)},
		{name: "missing", path: missing, strict: "run `spartan lock` first", looseIsNil: true},
		{name: "corrupt JSON", path: corrupt, strict: "unexpected end of JSON", loose: "unexpected end of JSON"},
		{name: "other format version", path: write(t, func(l *Lock) { l.LockVersion = 99 }), strict: "format version 99", loose: "format version 99"},
		{name: "checksum cut short", path: write(t, func(l *Lock) { l.Archs[0].Packages[0].SHA256 = "abab" }), strict: `package "app" is missing`, loose: `package "app" is missing`},
		{name: "checksum not hex", path: write(t, func(l *Lock) { l.Archs[0].Packages[0].SHA256 = strings.Repeat("zz", 32) }), strict: `package "app" is missing`, loose: `package "app" is missing`},
		{name: "no filename", path: write(t, func(l *Lock) { l.Archs[0].Packages[0].Filename = "" }), strict: `package "app" is missing`, loose: `package "app" is missing`},
		{name: "spec changed", path: write(t, func(l *Lock) { l.Spec.SHA256 = strings.Repeat("0", 64) }), strict: "changed since", strictIsStale: true},
		{name: "other variant", path: write(t, func(l *Lock) { l.Spec.Variant = "dev" }), strict: "is for variant dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ReadLock(tc.path, s, LockStrict)
			switch {
			case tc.strict == "" && err != nil:
				t.Errorf("strict: %v", err)
			case tc.strict == "" && (l == nil || l.Archs[0].Packages[0].Name != "app"):
				t.Errorf("strict read %+v", l)
			case tc.strict != "" && (err == nil || !strings.Contains(err.Error(), tc.strict)):
				t.Errorf("strict: err = %v, want %q", err, tc.strict)
			case tc.strictIsStale && !errors.Is(err, ErrStaleLock):
				t.Errorf("strict: err = %v is not ErrStaleLock", err)
			}
			l, err = ReadLock(tc.path, nil, LockTolerant)
			switch {
			case tc.loose == "" && err != nil:
				t.Errorf("tolerant: %v", err)
			case tc.loose == "" && tc.looseIsNil && l != nil:
				t.Errorf("tolerant read a missing lock as %+v", l)
			case tc.loose == "" && !tc.looseIsNil && (l == nil || l.Archs[0].Packages[0].Name != "app"):
				t.Errorf("tolerant read %+v", l)
			case tc.loose != "" && (err == nil || !strings.Contains(err.Error(), tc.loose)):
				t.Errorf("tolerant: err = %v, want %q", err, tc.loose)
			}
		})
	}
}
