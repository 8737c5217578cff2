package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/attest"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/testkit"
)

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func freshDownloader(t *testing.T) *cache.Downloader {
	t.Helper()
	ch, err := cache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &cache.Downloader{Cache: ch, Retries: -1}
}

// mirrorCopy serves a copy of files from another address: a second machine's mirror.
func mirrorCopy(t *testing.T, files map[string][]byte) string {
	t.Helper()
	files = maps.Clone(files)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestAlpineLock(t *testing.T) {
	srv, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello, apkBusybox)
	o := Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl}
	ctx := context.Background()
	built, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := Resolve(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLock(o, plans)
	if err != nil {
		t.Fatal(err)
	}
	if l.Distro != "alpine" || len(l.Archs) != 1 {
		t.Fatalf("lock %+v", l)
	}
	a := l.Archs[0]
	for _, repo := range []string{"main", "community"} {
		uri := srv.URL + "/v3.22/" + repo + "/x86_64/APKINDEX.tar.gz"
		found := false
		for _, r := range a.Releases {
			if r.URI == uri {
				found = true
				if r.SHA256 != sumHex(srv.Files["v3.22/"+repo+"/x86_64/APKINDEX.tar.gz"]) || r.Suite != repo || r.Codename != "v3.22" || r.Archive != "alpine" {
					t.Errorf("index %+v", r)
				}
			}
		}
		if !found {
			t.Errorf("lock lacks index %s: %+v", uri, a.Releases)
		}
	}
	var names []string
	for _, p := range a.Packages {
		names = append(names, p.Name)
		file := "v3.22/main/x86_64/" + p.Filename
		if p.SHA256 != sumHex(srv.Files[file]) || p.URI != srv.URL+"/"+file || !strings.HasPrefix(p.Checksum, "Q1") ||
			p.Repository != srv.URL+"/v3.22/main/x86_64/APKINDEX.tar.gz" || p.Source != p.Name {
			t.Errorf("package %+v", p)
		}
	}
	if strings.Join(names, " ") != "hello musl" || len(a.Cuts) != 1 || a.Cuts[0].To != "/bin/sh" {
		t.Errorf("packages %v, cuts %+v", names, a.Cuts)
	}

	path := filepath.Join(t.TempDir(), "spartan.lock.json")
	if err := WriteLock(path, l); err != nil {
		t.Fatal(err)
	}
	read, err := ReadLock(path, s, LockStrict)
	if err != nil {
		t.Fatal(err)
	}
	// Another machine: its own (empty) cache and a mirror at another address that no longer
	// serves any index. The locked build reads no index and gives the same image.
	files := maps.Clone(srv.Files)
	for p := range files {
		if strings.HasSuffix(p, "APKINDEX.tar.gz") {
			delete(files, p)
		}
	}
	other := mirrorCopy(t, files)
	srv.Files = map[string][]byte{}
	out, err := BuildLocked(ctx, Options{Spec: s, Mirrors: Mirrors{Alpine: other}, Downloader: freshDownloader(t)}, read)
	if err != nil {
		t.Fatal(err)
	}
	if out.Images[0].Digest != built.Images[0].Digest {
		t.Errorf("locked build %s, resolved build %s", out.Images[0].Digest, built.Images[0].Digest)
	}

	t.Run("package replaced on the mirror", func(t *testing.T) {
		evil, err := testkit.APK{Name: "hello", Version: "2.1-r0", Depends: apkHello.Depends}.Build(mustAPKKey(t))
		if err != nil {
			t.Fatal(err)
		}
		files["v3.22/main/x86_64/hello-2.1-r0.apk"] = evil.File
		fresh := freshDownloader(t)
		_, err = BuildLocked(ctx, Options{Spec: s, Mirrors: Mirrors{Alpine: mirrorCopy(t, files)}, Downloader: fresh}, read)
		// The locked size refuses it before its SHA-256 can.
		if err == nil || !strings.Contains(err.Error(), "hello-2.1-r0.apk") || !strings.Contains(err.Error(), "expected") {
			t.Fatalf("error %v", err)
		}
		if blobs, _ := filepath.Glob(filepath.Join(fresh.Cache.Dir, "blobs", "sha256", "*")); len(blobs) != 0 {
			t.Errorf("refused package left %v in the cache", blobs)
		}
	})
	t.Run("a Debian lock", func(t *testing.T) {
		deb := *l
		deb.Distro = ""
		p := filepath.Join(t.TempDir(), "spartan.lock.json")
		if err := WriteLock(p, &deb); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLock(p, s, LockStrict); err == nil || !strings.Contains(err.Error(), "spec builds alpine") {
			t.Fatalf("error %v", err)
		}
	})
}

func mustAPKKey(t *testing.T) *testkit.APKKey {
	t.Helper()
	k, err := testkit.NewAPKKey("evil.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAlpineProvenanceRebuild(t *testing.T) {
	srv, s, dl := alpineFixture(t, alpineSpec, apkMusl, apkHello, apkBusybox)
	o := Options{Spec: s, Mirrors: Mirrors{Alpine: srv.URL}, Downloader: dl, Version: "test"}
	out, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	img := out.Images[0]
	docs, err := o.Documents(img, time.Now(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Predicate attest.Provenance }
	if err := json.Unmarshal(docs.Provenance, &st); err != nil {
		t.Fatal(err)
	}
	deps := map[string]attest.ResourceDescriptor{}
	for _, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		deps[d.URI] = d
	}
	for _, f := range []string{"v3.22/main/x86_64/APKINDEX.tar.gz", "v3.22/community/x86_64/APKINDEX.tar.gz", "v3.22/main/x86_64/hello-2.1-r0.apk", "v3.22/main/x86_64/musl-1.2.5-r10.apk"} {
		d, ok := deps[srv.URL+"/"+f]
		if !ok || d.Digest["sha256"] != sumHex(srv.Files[f]) {
			t.Errorf("provenance lacks %s or has the wrong digest: %+v", f, d)
		}
	}
	if d := deps[srv.URL+"/v3.22/main/x86_64/hello-2.1-r0.apk"]; d.Name != "hello-2.1-r0.apk" || d.Annotations[AnnotationPackage] != "hello" ||
		d.Annotations[AnnotationVersion] != "2.1-r0" || d.Annotations[AnnotationArch] != "x86_64" || !strings.HasPrefix(d.Annotations[AnnotationAPKChecksum], "Q1") {
		t.Errorf(".apk descriptor %+v", d)
	}
	if len(deps) != 4 {
		t.Errorf("%d dependencies, want 2 indexes and 2 packages: %v", len(deps), deps)
	}
	if !strings.Contains(string(docs.SPDX), sumHex(srv.Files["v3.22/main/x86_64/musl-1.2.5-r10.apk"])) {
		t.Error("the SPDX SBOM lacks the .apk's sha256")
	}

	// Rebuild from the provenance alone: a fresh cache, the indexes gone from the mirror.
	plan, err := PlanFromProvenance(&st.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	for p := range srv.Files {
		if strings.HasSuffix(p, "APKINDEX.tar.gz") {
			delete(srv.Files, p)
		}
	}
	cfg, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	plan.Epoch = &cfg.Created.Time
	again, err := BuildPlans(context.Background(), Options{Spec: s, Downloader: freshDownloader(t)}, []*Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	if again.Images[0].Digest != img.Digest {
		t.Errorf("rebuilt %s, built %s", again.Images[0].Digest, img.Digest)
	}
}
