package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/cache"
)

func loadRelease(t *testing.T, e *env, suite string) *Release {
	t.Helper()
	rel, err := e.client.Release(context.Background(), e.source(suite, "main"))
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func byName(pkgs []*Package) map[string]*Package {
	m := map[string]*Package{}
	for _, p := range pkgs {
		m[p.Name] = p
	}
	return m
}

func TestPackagesFields(t *testing.T) {
	e := newEnv(t)
	rel := loadRelease(t, e, "trixie")
	pkgs, err := e.client.Packages(context.Background(), rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	m := byName(pkgs)
	if len(pkgs) != 4 || len(m) != 4 {
		t.Fatalf("got %d packages %v, want base-files, libc6, hello, tzdata", len(pkgs), m)
	}
	hello, libc, base, tz := m["hello"], m["libc6"], m["base-files"], m["tzdata"]
	if hello == nil || libc == nil || base == nil || tz == nil {
		t.Fatalf("missing packages in %v", m)
	}
	checks := []struct{ name, got, want string }{
		{"hello.Version", hello.Version, "2.10-5+b1"},
		{"hello.Source", hello.Source, "hello"},
		{"hello.SourceVersion", hello.SourceVersion, "2.10-5"},
		{"hello.Depends", hello.Depends, "libc6 (>= 2.34)"},
		{"hello.PreDepends", hello.PreDepends, "dpkg (>= 1.15)"},
		{"hello.Provides", hello.Provides, "greeter"},
		{"hello.Filename", hello.Filename, "pool/main/h/hello/hello_2.10-5+b1_amd64.deb"},
		{"hello.URL", hello.URL(), e.srv.URL + "/pool/main/h/hello/hello_2.10-5+b1_amd64.deb"},
		{"libc6.Source", libc.Source, "glibc"},
		{"libc6.SourceVersion", libc.SourceVersion, "2.41-12"},
		{"libc6.MultiArch", libc.MultiArch, "same"},
		{"libc6.Section", libc.Section, "libs"},
		{"base-files.Source", base.Source, "base-files"},
		{"base-files.Priority", base.Priority, "required"},
		{"tzdata.Architecture", tz.Architecture, "all"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !base.Essential || hello.Essential {
		t.Errorf("Essential: base-files %v, hello %v", base.Essential, hello.Essential)
	}
	if base.InstalledSize != 1 {
		t.Errorf("base-files InstalledSize = %d, want 1", base.InstalledSize)
	}
	for _, p := range pkgs {
		deb, ok := e.srv.Body("/" + p.Filename)
		if !ok {
			t.Errorf("%s: Filename %s not on the server", p.Name, p.Filename)
			continue
		}
		if p.Size != int64(len(deb)) || p.SHA256 != sha256hex(deb) {
			t.Errorf("%s: Size %d SHA256 %s, want %d %s", p.Name, p.Size, p.SHA256, len(deb), sha256hex(deb))
		}
		if p.Origin != rel {
			t.Errorf("%s: Origin not set to the release", p.Name)
		}
	}
}

// TestPackagesByHash checks that an Acquire-By-Hash release is fetched by digest, and that a
// mirror lacking the by-hash file is served from the plain path.
func TestPackagesByHash(t *testing.T) {
	tests := []struct {
		name          string
		missingByHash bool
	}{
		{"by-hash", false},
		{"by-hash missing, plain path", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rel := loadRelease(t, e, "trixie")
			fh := rel.Files["main/binary-amd64/Packages"+indexExts[0]]
			byHash := "/dists/trixie/main/binary-amd64/by-hash/SHA256/" + fh.SHA256
			plain := "/dists/trixie/main/binary-amd64/Packages" + indexExts[0]
			if tt.missingByHash {
				e.srv.Missing = map[string]bool{byHash: true}
			}
			if _, err := e.client.Packages(context.Background(), rel, "main", "amd64"); err != nil {
				t.Fatal(err)
			}
			wantPlain := 0
			if tt.missingByHash {
				wantPlain = 1
			}
			if got := e.srv.RequestsFor(byHash); got != 1 {
				t.Errorf("by-hash requests = %d, want 1", got)
			}
			if got := e.srv.RequestsFor(plain); got != wantPlain {
				t.Errorf("plain path requests = %d, want %d", got, wantPlain)
			}
		})
	}
}

func TestPackagesGzipOnly(t *testing.T) {
	t.Run("release lists only .gz", func(t *testing.T) {
		e := newEnv(t)
		rel := loadRelease(t, e, "trixie-updates")
		for name := range rel.Files {
			if !strings.HasSuffix(name, ".gz") {
				delete(rel.Files, name)
			}
		}
		pkgs, err := e.client.Packages(context.Background(), rel, "main", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) != 1 || pkgs[0].Version != "2025c-0+deb13u1" {
			t.Fatalf("got %v", pkgs)
		}
		if n := e.srv.RequestsFor("/dists/trixie-updates/main/binary-amd64/Packages.gz"); n != 1 {
			t.Errorf("Packages.gz requested %d times, want 1", n)
		}
	})
	t.Run("preferred form listed but missing on the mirror", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Missing = map[string]bool{"/dists/trixie-updates/main/binary-amd64/Packages" + indexExts[0]: true}
		rel := loadRelease(t, e, "trixie-updates")
		pkgs, err := e.client.Packages(context.Background(), rel, "main", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) != 1 || pkgs[0].Name != "tzdata" {
			t.Fatalf("got %v", pkgs)
		}
	})
}

func TestPackagesCorruptIndexDoesNotPoisonCache(t *testing.T) {
	e := newEnv(t)
	rel := loadRelease(t, e, "trixie-updates")
	e.srv.CorruptPath = "/dists/trixie-updates/main/binary-amd64/Packages" + indexExts[0]
	_, err := e.client.Packages(context.Background(), rel, "main", "amd64")
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), "main/binary-amd64/Packages"+indexExts[0]) {
		t.Fatalf("err = %v, want a sha256 mismatch naming the index", err)
	}
	fh := rel.Files["main/binary-amd64/Packages"+indexExts[0]]
	if e.cache.Has(fh.SHA256) {
		t.Error("corrupt index was kept in the cache")
	}
	if _, ok := e.cache.GetDerived("packages-" + fh.SHA256); ok {
		t.Error("a parsed index was cached for the corrupt download")
	}
	// The mirror heals; the same cache must now work.
	e.srv.CorruptPath = ""
	pkgs, err := e.client.Packages(context.Background(), rel, "main", "amd64")
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("after the mirror healed: %v, %v", pkgs, err)
	}
}

func TestPackagesRetriesTruncatedDownload(t *testing.T) {
	tests := []struct {
		name string
		set  func(e *env, path string)
	}{
		{"truncated body", func(e *env, p string) { e.srv.TruncatePath, e.srv.TruncateTimes = p, 1 }},
		{"503 twice", func(e *env, p string) { e.srv.FailTimes = map[string]int{p: 2} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rel := loadRelease(t, e, "trixie-updates")
			p := "/dists/trixie-updates/main/binary-amd64/Packages" + indexExts[0]
			tt.set(e, p)
			pkgs, err := e.client.Packages(context.Background(), rel, "main", "amd64")
			if err != nil || len(pkgs) != 1 {
				t.Fatalf("Packages = %v, %v", pkgs, err)
			}
			if n := e.srv.RequestsFor(p); n < 2 {
				t.Errorf("index requested %d times, want a retry", n)
			}
		})
	}
}

func TestPackagesMissingIndex(t *testing.T) {
	e := newEnv(t)
	rel := loadRelease(t, e, "trixie-updates")
	e.srv.Missing = map[string]bool{}
	for _, ext := range []string{".xz", ".gz", ""} {
		e.srv.Missing["/dists/trixie-updates/main/binary-amd64/Packages"+ext] = true
	}
	_, err := e.client.Packages(context.Background(), rel, "main", "amd64")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "trixie-updates") {
		t.Fatalf("err = %v, want a 404 naming the index", err)
	}
}

func TestPackagesNotInRelease(t *testing.T) {
	e := newEnv(t)
	rel := loadRelease(t, e, "trixie")
	tests := []struct{ comp, arch, want string }{
		{"main", "arm64", "architectures: amd64"},
		{"non-free", "amd64", "components: contrib main"},
		{"../main", "amd64", "invalid component"},
		{"main", "amd64/../x", "invalid component"},
	}
	for _, tt := range tests {
		t.Run(tt.comp+"/"+tt.arch, func(t *testing.T) {
			before := e.srv.Requests()
			_, err := e.client.Packages(context.Background(), rel, tt.comp, tt.arch)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if e.srv.Requests() != before {
				t.Error("a request was made for an index the release does not list")
			}
		})
	}
}

func TestPackagesParsedCacheHit(t *testing.T) {
	e := newEnv(t)
	rel := loadRelease(t, e, "trixie")
	cold, err := e.client.Packages(context.Background(), rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	e.client.Wait() // the parsed index is stored in the background
	// Remove the index blob: only the parsed form can answer now, and it must without asking
	// the server.
	fh := rel.Files["main/binary-amd64/Packages"+indexExts[0]]
	if err := os.Remove(e.cache.Path(fh.SHA256)); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Requests()
	warm := packagesAgain(t, e.cache, rel)
	if n := e.srv.Requests() - before; n != 0 {
		t.Errorf("warm load made %d requests, want 0", n)
	}
	if got, want := dump(warm), dump(cold); got != want {
		t.Errorf("warm result differs from cold:\n%s\nvs\n%s", got, want)
	}

	// A damaged or foreign entry under the same key is ignored, and the index parsed again.
	if err := e.cache.PutDerived("packages-"+fh.SHA256, []byte("spartan-packages-v0\nold")); err != nil {
		t.Fatal(err)
	}
	again := packagesAgain(t, e.cache, rel)
	if dump(again) != dump(cold) {
		t.Error("re-parsed result differs")
	}
}

// dump renders packages fully, Origin by URL, for comparisons.
func dump(pkgs []*Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		q := *p
		q.Origin = nil
		origin := "<nil>"
		if p.Origin != nil {
			origin = p.Origin.URL
		}
		fmt.Fprintf(&b, "%+v\n%s\n", q, origin)
	}
	return b.String()
}

// TestPackagesCorruptParsedCacheRebuilt damages the parsed-index cache entry on disk in ways
// that keep it plausible: the result must come from the verified index again, never from the
// damaged entry, and the entry must be rewritten whole.
func TestPackagesCorruptParsedCacheRebuilt(t *testing.T) {
	tests := map[string]func(t *testing.T, entry []byte) []byte{
		"flipped byte": func(t *testing.T, entry []byte) []byte {
			i := bytes.Index(entry, []byte("hello"))
			if i < 0 {
				t.Fatal("entry does not hold the package names")
			}
			entry[i] = 'j'
			return entry
		},
		"truncated": func(t *testing.T, entry []byte) []byte { return entry[:len(entry)-10] },
		"empty":     func(t *testing.T, entry []byte) []byte { return nil },
		// A well-formed envelope around a payload that fails the Package checks.
		"unsafe value, valid envelope": func(t *testing.T, entry []byte) []byte {
			bad := encodePackages([]*Package{{Name: "x", Version: "1", Architecture: "all",
				Filename: "../../etc/passwd", SHA256: sum1, Size: 1}})
			sum := sha256.Sum256(bad)
			return append(fmt.Appendf(nil, "spartan-derived-v1 %x %d\n", sum, len(bad)), bad...)
		},
	}
	for name, damage := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			rel := loadRelease(t, e, "trixie")
			cold, err := e.client.Packages(context.Background(), rel, "main", "amd64")
			if err != nil {
				t.Fatal(err)
			}
			e.client.Wait()
			fh := rel.Files["main/binary-amd64/Packages"+indexExts[0]]
			entry := filepath.Join(e.cache.Dir, "derived", "packages-"+fh.SHA256)
			good, err := os.ReadFile(entry)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(entry, damage(t, bytes.Clone(good)), 0o644); err != nil {
				t.Fatal(err)
			}
			again := packagesAgain(t, e.cache, rel)
			if dump(again) != dump(cold) {
				t.Errorf("result after damage differs:\n%s\nvs\n%s", dump(again), dump(cold))
			}
			rebuilt, err := os.ReadFile(entry)
			if err != nil {
				t.Fatalf("entry not rebuilt: %v", err)
			}
			if !bytes.Equal(rebuilt, good) {
				t.Error("rebuilt entry differs from the original")
			}
		})
	}
}

// packagesAgain loads rel's main/amd64 packages as the next run would: a new client over the
// same cache, whose parsed index, if it stores one, is stored before this returns.
func packagesAgain(t *testing.T, ch *cache.Cache, rel *Release) []*Package {
	t.Helper()
	c := newClient(ch)
	pkgs, err := c.Packages(context.Background(), rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	c.Wait()
	return pkgs
}
