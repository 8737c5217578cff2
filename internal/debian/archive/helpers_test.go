package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/testkit"
)

// testNow is a day after the test kit's release date, inside any Valid-Until the tests set.
var testNow = testkit.DefaultDate.Add(24 * time.Hour)

// fixtureRepo is a small trixie-like repository: two suites, an essential package, a binary
// whose source has another version, an Architecture: all package, and by-hash on trixie.
func fixtureRepo(t *testing.T) *testkit.Repo {
	t.Helper()
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	repo.Suites["trixie"] = &testkit.Suite{
		Version:       "13.2",
		ValidUntil:    testkit.DefaultDate.Add(7 * 24 * time.Hour),
		AcquireByHash: true,
		Components: map[string][]testkit.Deb{
			"main": {
				{Name: "base-files", Version: "13.8", Essential: true, Priority: "required", Section: "admin",
					Files: []testkit.File{{Path: "/etc/debian_version", Body: "13.2\n"}}},
				{Name: "libc6", Version: "2.41-12", Source: "glibc", MultiArch: "same", Section: "libs",
					Depends: "libgcc-s1", Files: []testkit.File{{Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", Body: "ELF"}}},
				{Name: "hello", Version: "2.10-5+b1", Source: "hello (2.10-5)", Depends: "libc6 (>= 2.34)",
					PreDepends: "dpkg (>= 1.15)", Provides: "greeter"},
				{Name: "tzdata", Version: "2025b-4", Arch: "all", Priority: "required"},
			},
			"contrib": {
				{Name: "helper", Version: "1.0"},
			},
		},
	}
	repo.Suites["trixie-updates"] = &testkit.Suite{
		ValidUntil: testkit.DefaultDate.Add(7 * 24 * time.Hour),
		Components: map[string][]testkit.Deb{
			"main": {{Name: "tzdata", Version: "2025c-0+deb13u1", Arch: "all"}},
		},
	}
	return repo
}

type env struct {
	repo   *testkit.Repo
	srv    *testkit.Server
	cache  *cache.Cache
	client *Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	repo := fixtureRepo(t)
	return newEnvFor(t, repo, repo.Serve(t))
}

func newEnvFor(t *testing.T, repo *testkit.Repo, srv *testkit.Server) *env {
	t.Helper()
	ch, err := cache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(ch)
	t.Cleanup(c.Wait) // before the cache's directory is removed
	return &env{repo: repo, srv: srv, cache: ch, client: c}
}

// newClient returns a client over ch that retries quickly and lives at testNow.
func newClient(ch *cache.Cache) *Client {
	return &Client{
		Downloader: &cache.Downloader{Cache: ch, Backoff: time.Millisecond, Retries: 2},
		Now:        func() time.Time { return testNow },
	}
}

func (e *env) source(suite string, comps ...string) Source {
	return Source{URL: e.srv.URL, Suite: suite, Components: comps, Keyring: e.repo.Keyring()}
}

// rewriting serves target's content with rewrite applied to chosen paths, to play a mirror
// (or a man in the middle) that alters or swaps files.
func rewriting(t *testing.T, target string, rewrite func(path string) ([]byte, bool)) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body, ok := rewrite(r.URL.Path); ok {
			w.Write(body)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
