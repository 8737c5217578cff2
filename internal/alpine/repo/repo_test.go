package repo

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/testkit"
)

type fixture struct {
	srv    *testkit.APKServer
	key    *testkit.APKKey
	keys   keyring.Keyring
	client *Client
	dir    string
}

func hello(files ...testkit.File) testkit.APK {
	return testkit.APK{Name: "hello", Version: "1.0-r0", Depends: []string{"so:libc.musl-x86_64.so.1"},
		Files: append([]testkit.File{{Path: "usr/bin/", Type: tar.TypeDir}, {Path: "usr/bin/hello", Body: "hello\n", Mode: 0o755}}, files...)}
}

func newFixture(t *testing.T, pkgs ...testkit.APK) *fixture {
	t.Helper()
	key, err := testkit.NewAPKKey("testkit-1.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.ServeAPK(t, &testkit.APKRepo{Key: key, Packages: pkgs})
	keys := keyring.Keyring{}
	if err := keys.Add(key.Name, key.PublicPEM()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ch, err := cache.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, key: key, keys: keys, dir: dir, client: &Client{Downloader: &cache.Downloader{Cache: ch, Retries: -1}}}
}

func (f *fixture) repo() Repository {
	// The fixture serves <arch>/… at the root: mirror = server, release and name empty path
	// segments are not allowed, so serve under v3.22/main.
	return Repository{Mirror: f.srv.URL, Release: "v3.22", Name: "main", Keys: f.keys}
}

func serveUnder(f *fixture) {
	files := map[string][]byte{}
	for p, b := range f.srv.Files {
		files["v3.22/main/"+p] = b
	}
	f.srv.Files = files
}

// blobs lists what the cache holds: nothing may be there after a refused package.
func blobs(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(filepath.Join(dir, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestLoadAndFetch(t *testing.T) {
	f := newFixture(t, hello(), testkit.APK{Name: "musl", Version: "1.2.5-r10", Provides: []string{"so:libc.musl-x86_64.so.1=1"}})
	serveUnder(f)
	ctx := context.Background()
	pkgs, keys, err := f.client.Load(ctx, []Repository{f.repo()}, "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].Repository != f.srv.URL+"/v3.22/main/x86_64" {
		t.Fatalf("packages %+v", pkgs)
	}
	p, err := f.client.Fetch(ctx, pkgs[0], keys[pkgs[0].Repository])
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs(t, f.dir)) != 1 {
		t.Errorf("cache holds %v", blobs(t, f.dir))
	}
	// The second fetch is a cache hit even with the mirror gone.
	f.srv.Files = map[string][]byte{}
	again, err := f.client.Fetch(ctx, pkgs[0], keys[pkgs[0].Repository])
	if err != nil || again != p {
		t.Errorf("cached fetch: %s %v", again, err)
	}
}

func TestHostileMirror(t *testing.T) {
	ctx := context.Background()
	t.Run("index signed by an unknown key", func(t *testing.T) {
		f := newFixture(t, hello())
		serveUnder(f)
		other, _ := testkit.NewAPKKey("testkit-1.rsa.pub")
		r := f.repo()
		r.Keys = keyring.Keyring{}
		_ = r.Keys.Add(other.Name, other.PublicPEM())
		_, _, err := f.client.Load(ctx, []Repository{r}, "x86_64")
		if err == nil || !strings.Contains(err.Error(), "does not verify") || !strings.Contains(err.Error(), "APKINDEX.tar.gz") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("index byte flipped", func(t *testing.T) {
		f := newFixture(t, hello())
		serveUnder(f)
		b := f.srv.Files["v3.22/main/x86_64/APKINDEX.tar.gz"]
		b[len(b)-3] ^= 1
		_, _, err := f.client.Load(ctx, []Repository{f.repo()}, "x86_64")
		if err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("error %v", err)
		}
	})
	for _, tc := range []struct {
		name   string
		tamper func(f *fixture, good []byte) []byte
		want   string
	}{
		{"checksum mismatch (another package served)", func(f *fixture, _ []byte) []byte {
			b, _ := hello(testkit.File{Path: "usr/bin/extra", Body: "x"}).Build(f.key)
			return b.File
		}, "checksum mismatch"},
		{"dotdot path", func(f *fixture, _ []byte) []byte {
			b, _ := hello(testkit.File{Path: "../../etc/passwd", Body: "x", Raw: true}).Build(f.key)
			return b.File
		}, "checksum mismatch"},
		{"truncated", func(_ *fixture, good []byte) []byte { return good[:len(good)-50] }, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, hello())
			serveUnder(f)
			pkgs, keys, err := f.client.Load(ctx, []Repository{f.repo()}, "x86_64")
			if err != nil {
				t.Fatal(err)
			}
			path := "v3.22/main/x86_64/hello-1.0-r0.apk"
			f.srv.Set(path, tc.tamper(f, f.srv.Files[path]))
			_, err = f.client.Fetch(ctx, pkgs[0], keys[pkgs[0].Repository])
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "hello") {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if b := blobs(t, f.dir); len(b) != 0 {
				t.Errorf("refused package left %v in the cache", b)
			}
		})
	}
	// A repository whose signed index itself lists a package with a '..' entry: the index
	// checksum matches, the entry is refused.
	t.Run("dotdot path in an indexed package", func(t *testing.T) {
		f := newFixture(t, hello(testkit.File{Path: "usr/../../../etc/shadow", Body: "x", Raw: true}))
		serveUnder(f)
		pkgs, keys, err := f.client.Load(ctx, []Repository{f.repo()}, "x86_64")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.client.Fetch(ctx, pkgs[0], keys[pkgs[0].Repository])
		if err == nil || !strings.Contains(err.Error(), `".." in entry name`) {
			t.Fatalf("error %v", err)
		}
		if b := blobs(t, f.dir); len(b) != 0 {
			t.Errorf("refused package left %v in the cache", b)
		}
	})
}

func TestFetchPinned(t *testing.T) {
	f := newFixture(t, hello())
	serveUnder(f)
	ctx := context.Background()
	pkgs, keys, err := f.client.Load(ctx, []Repository{f.repo()}, "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	_, sum, err := f.client.FetchSum(ctx, pkgs[0], keys[pkgs[0].Repository])
	if err != nil {
		t.Fatal(err)
	}
	good := Pin{URL: pkgs[0].FileURL(), SHA256: sum, Size: pkgs[0].Size, Name: "hello", Version: "1.0-r0", Arch: "x86_64", Checksum: pkgs[0].Checksum.String()}
	// Without an index: the mirror serves only the package.
	f.srv.Files = map[string][]byte{"v3.22/main/x86_64/hello-1.0-r0.apk": f.srv.Files["v3.22/main/x86_64/hello-1.0-r0.apk"]}
	path, p, err := f.client.FetchPinned(ctx, good, f.keys)
	if err != nil {
		t.Fatal(err)
	}
	if path == "" || p.Name != "hello" || p.Checksum.String() != good.Checksum || p.Repository != f.srv.URL+"/v3.22/main/x86_64" || p.Size != pkgs[0].Size {
		t.Errorf("pinned package %+v", p)
	}
	other, _ := testkit.NewAPKKey("other.rsa.pub")
	otherKeys := keyring.Keyring{}
	_ = otherKeys.Add(other.Name, other.PublicPEM())
	for _, tc := range []struct {
		name string
		pin  func(Pin) Pin
		keys keyring.Keyring
		want string
	}{
		{"another name", func(p Pin) Pin { p.Name, p.Checksum = "hullo", ""; return p }, f.keys, "the record pins hullo"},
		{"another control checksum", func(p Pin) Pin { p.Checksum = "Q1" + strings.Repeat("A", 27) + "="; return p }, f.keys, "checksum mismatch"},
		{"untrusted signer", func(p Pin) Pin { return p }, otherKeys, "not a trusted key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := f.client.FetchPinned(ctx, tc.pin(good), tc.keys); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
