package update

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/publish"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/testkit/testbuild"
	"github.com/spartan-images/spartan/internal/timeline"
)

var (
	errSign = errors.New("signing service unavailable")
	errPush = errors.New("registry refused the upload")
)

type failingSigner struct{}

func (failingSigner) Sign(context.Context, *registry.Target, []sign.Attestation) error {
	return errSign
}

type failingPusher struct{}

func (failingPusher) Push(context.Context, *registry.Source, name.Reference) (string, registry.Stats, error) {
	return "", registry.Stats{}, errPush
}

// libfoo is version v of a library of source foo; versions after 1.2-3 fix CVE-2026-0001,
// as their changelog says.
func libfoo(t *testing.T, v string) testkit.Deb {
	changelog := "foo (1.2-3) unstable; urgency=medium\n\n  * New upstream release.\n\n -- M <m@example.invalid>  Mon, 02 Feb 2026 10:00:00 +0000\n"
	if v != "1.2-3" {
		changelog = "foo (" + v + ") trixie-security; urgency=high\n\n  * Fix CVE-2026-0001.\n\n -- M <m@example.invalid>  Mon, 02 Mar 2026 10:00:00 +0000\n\n" + changelog
	}
	return testkit.Deb{Name: "libfoo1", Version: v, Source: "foo", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/lib/x86_64-linux-gnu/libfoo.so.1", Body: "\x7fELF libfoo " + v, Mode: 0o644},
		{Path: "/usr/share/doc/libfoo1/changelog.Debian.gz", Body: gz(t, changelog)},
	}}
}

// TestUpdaterFailureOrders runs `spartan update`'s workflow against testkit's signed
// repository and an in-process registry: a first update builds, signs, pushes and locks; once
// the fix is on the mirror, a failed push and then a failed signature leave the lock and the
// registry as they were and record no rebuild, signature or push; the next run publishes and
// records the fix once, dated from when the failed run first saw it.
func TestUpdaterFailureOrders(t *testing.T) {
	ctx := context.Background()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	baseFiles := testbuild.OSRelease
	d1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	suite := &testkit.Suite{Codename: "trixie", Version: "13.8", Date: d1, Components: map[string][]testkit.Deb{"main": {baseFiles, libfoo(t, "1.2-3")}}}
	repo.Suites["trixie"] = suite
	srv := repo.Serve(t)

	dir := t.TempDir()
	testbuild.WriteSpec(t, dir, srv.URL, repo, "foo", "example/foo:1", "base-files", "libfoo1")
	options := func(sp string) (build.Options, error) { return testbuild.Options(t, sp) }
	lockPath := filepath.Join(dir, "spartan.lock.json")
	tl := filepath.Join(t.TempDir(), "timeline.jsonl")

	var writes atomic.Int64
	h := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	regSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writes.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(regSrv.Close)
	prefix := strings.TrimPrefix(regSrv.URL, "http://") + "/e2e"
	ref, err := registry.ParseReference(prefix + "/foo:1")
	if err != nil {
		t.Fatal(err)
	}
	client := registry.New("test")
	key := testkit.SigningKey(t)
	var stdout, stderr bytes.Buffer
	updater := func(run string) *Updater {
		stdout.Reset()
		stderr.Reset()
		return &Updater{Timeline: tl, Run: run, LayoutDir: filepath.Join(t.TempDir(), "out"), PushPrefix: prefix,
			Signer: publish.Key{Signer: sign.Signer{Key: key}}, Client: client, Stdout: &stdout, Stderr: &stderr}
	}
	pushed := func() string {
		t.Helper()
		d, err := client.Get(ctx, ref)
		if err != nil {
			return ""
		}
		return d.Digest.String()
	}
	eventsOf := func(run string) map[string]int {
		t.Helper()
		evs, err := timeline.Read(tl)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, e := range evs {
			if e.Run == run {
				n[e.Event]++
			}
		}
		return n
	}

	// A dry run writes nothing.
	u := updater("r0")
	u.DryRun = true
	if err := u.UpdateAll(ctx, []string{dir}, options); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dry run wrote the lock: %v", err)
	}
	if _, err := os.Stat(tl); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dry run wrote the timeline: %v", err)
	}

	// v1: no lock; built, signed, pushed, locked.
	if err := updater("r1").UpdateAll(ctx, []string{dir}, options); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	v1 := pushed()
	if v1 == "" || !strings.Contains(stdout.String(), "foo "+v1) {
		t.Fatalf("v1 not pushed (%q):\n%s", v1, stdout.String())
	}
	if n := eventsOf("r1"); n[timeline.Seen] != 2 || n[timeline.Rebuilt] != 1 || n[timeline.Signed] != 1 || n[timeline.Pushed] != 1 {
		t.Fatalf("r1 events %v", n)
	}
	lockV1, err := os.ReadFile(lockPath)
	if err != nil || !bytes.Contains(lockV1, []byte(`"version": "1.2-3"`)) {
		t.Fatalf("lock after v1: %v\n%s", err, lockV1)
	}

	// v2: the fix is on the mirror.
	suite.Date = d2
	suite.Components["main"] = []testkit.Deb{baseFiles, libfoo(t, "1.2-3+deb13u1")}
	if err := srv.Publish(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		run     string
		mutate  func(*Updater)
		want    error
		newSeen int
	}{
		{"r2", func(u *Updater) { u.Pusher = failingPusher{} }, errPush, 1},
		{"r3", func(u *Updater) { u.Signer = failingSigner{} }, errSign, 0},
	} {
		before := writes.Load()
		u := updater(tc.run)
		tc.mutate(u)
		err := u.UpdateAll(ctx, []string{dir}, options)
		if err == nil || !strings.Contains(stderr.String(), tc.want.Error()) {
			t.Fatalf("%s: err = %v, stderr:\n%s", tc.run, err, stderr.String())
		}
		if lock, _ := os.ReadFile(lockPath); !bytes.Equal(lock, lockV1) {
			t.Errorf("%s: the lock was rewritten after %v", tc.run, tc.want)
		}
		// The new version was on the mirror: that is recorded, once. Nothing else is.
		if n := eventsOf(tc.run); n[timeline.Seen] != tc.newSeen || len(n) > min(1, tc.newSeen) {
			t.Errorf("%s: events %v after %v", tc.run, n, tc.want)
		}
		if got := pushed(); got != v1 {
			t.Errorf("%s: the registry serves %s, not v1 %s", tc.run, got, v1)
		}
		if errors.Is(tc.want, errSign) && writes.Load() != before {
			t.Errorf("%s: a failed signature wrote %d times to the registry", tc.run, writes.Load()-before)
		}
		if strings.Contains(stdout.String(), "sha256:") {
			t.Errorf("%s: reported a digest after failing:\n%s", tc.run, stdout.String())
		}
	}

	// The next run publishes, rewrites the lock and records the fix with the date the failed
	// run saw it on the mirror.
	if err := updater("r4").UpdateAll(ctx, []string{dir}, options); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	v2 := pushed()
	if v2 == "" || v2 == v1 || !strings.Contains(stdout.String(), "foo "+v2) {
		t.Fatalf("v2 %q (v1 %s):\n%s", v2, v1, stdout.String())
	}
	if lock, _ := os.ReadFile(lockPath); !bytes.Contains(lock, []byte(`"version": "1.2-3+deb13u1"`)) {
		t.Errorf("lock not rewritten:\n%s", lock)
	}
	evs, err := timeline.Read(tl)
	if err != nil {
		t.Fatal(err)
	}
	var fixed []timeline.Event
	var pushes int
	for _, e := range evs {
		switch {
		case e.Event == timeline.Fixed:
			fixed = append(fixed, e)
		case e.Event == timeline.Pushed && e.Run == "r4":
			pushes++
			if e.Digest != v2 || e.Ref != prefix+"/foo:1" {
				t.Errorf("pushed %+v", e)
			}
		}
	}
	if len(fixed) != 1 || fixed[0].Run != "r4" || fixed[0].CVE != "CVE-2026-0001" || fixed[0].Date == nil || !fixed[0].Date.Equal(d2) || pushes != 1 {
		t.Errorf("fixed %+v, %d pushes", fixed, pushes)
	}
	src, err := imagesource.Remote(ctx, ref.String(), client)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := src.Target()
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.VerifySignature(ctx, tg.Store, &key.PublicKey, v2); err != nil {
		t.Errorf("v2 in the registry: %v", err)
	}
}

func TestPushRef(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		tags   []string
		want   string
	}{
		{"localhost:5000/team/", []string{"example/foo:1.2"}, "localhost:5000/team/foo:1.2"},
		{"localhost:5000/team", nil, "localhost:5000/team/foo:latest"},
		{"localhost:5000/team", []string{"localhost:5000/foo"}, "localhost:5000/team/foo:latest"},
	} {
		if got := PushRef(tc.prefix, &spec.Spec{Name: "foo", Tags: tc.tags}); got != tc.want {
			t.Errorf("PushRef(%q, %v) = %s, want %s", tc.prefix, tc.tags, got, tc.want)
		}
	}
}
