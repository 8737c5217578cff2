package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func newCache(t testing.TB) *Cache {
	t.Helper()
	c, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// files lists the regular files under dir, relative to it.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestNewRejectsEmptyDir(t *testing.T) {
	if _, err := New(""); err == nil {
		t.Fatal("New(\"\") succeeded")
	}
}

func TestNewCreatesLayout(t *testing.T) {
	c := newCache(t)
	for _, d := range []string{"blobs/sha256", "derived", "tmp"} {
		if st, err := os.Stat(filepath.Join(c.Dir, d)); err != nil || !st.IsDir() {
			t.Errorf("%s missing: %v", d, err)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("SPARTAN_CACHE", "/somewhere/else")
	if got := DefaultDir(); got != "/somewhere/else" {
		t.Errorf("with $SPARTAN_CACHE: got %q", got)
	}
	t.Setenv("SPARTAN_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	want := ""
	if d, err := os.UserCacheDir(); err == nil {
		want = filepath.Join(d, "spartan")
	}
	if got := DefaultDir(); got != want {
		t.Errorf("without $SPARTAN_CACHE: got %q, want %q", got, want)
	}
}

func TestPathAndHas(t *testing.T) {
	c := newCache(t)
	data := []byte("hello")
	h := sum(data)
	tests := []struct {
		name, in, want string
	}{
		{"lower", h, filepath.Join(c.Dir, "blobs", "sha256", h)},
		{"upper is normalised", strings.ToUpper(h), filepath.Join(c.Dir, "blobs", "sha256", h)},
		{"short", h[:10], ""},
		{"traversal", "../../../../etc/passwd" + strings.Repeat("0", 42), ""},
		{"not hex", strings.Repeat("g", 64), ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Path(tt.in); got != tt.want {
				t.Errorf("Path(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if c.Has(h) {
		t.Fatal("Has before Put")
	}
	if _, err := c.Put(h, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if !c.Has(h) || !c.Has(strings.ToUpper(h)) {
		t.Fatal("Has after Put = false")
	}
	if c.Has("nonsense") {
		t.Fatal("Has(nonsense) = true")
	}
}

type failingReader struct{ after int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(len(p), r.after)
	r.after -= n
	return n, nil
}

func TestPut(t *testing.T) {
	data := bytes.Repeat([]byte("spartan"), 10000)
	tests := []struct {
		name    string
		digest  string
		r       io.Reader
		wantErr string
		digErr  bool
	}{
		{name: "ok", digest: sum(data), r: bytes.NewReader(data)},
		{name: "ok upper-case digest", digest: strings.ToUpper(sum(data)), r: bytes.NewReader(data)},
		{name: "mismatch", digest: sum([]byte("other")), r: bytes.NewReader(data), wantErr: "sha256 mismatch", digErr: true},
		{name: "reader fails", digest: sum(data), r: &failingReader{after: 1000}, wantErr: "disk on fire"},
		{name: "bad digest", digest: "abc", r: bytes.NewReader(data), wantErr: "invalid sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			p, err := c.Put(tt.digest, tt.r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var de *DigestError
				if errors.As(err, &de) != tt.digErr {
					t.Errorf("DigestError = %v, want %v", !tt.digErr, tt.digErr)
				}
				if left := files(t, c.Dir); len(left) != 0 {
					t.Errorf("files left behind: %v", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("stored content differs (err %v)", err)
			}
			if p != c.Path(tt.digest) {
				t.Errorf("path %q, want %q", p, c.Path(tt.digest))
			}
			if left := files(t, filepath.Join(c.Dir, "tmp")); len(left) != 0 {
				t.Errorf("temp files left: %v", left)
			}
		})
	}
}

func TestPutReplacesDamagedCopy(t *testing.T) {
	c := newCache(t)
	data := []byte("the real thing")
	p, err := c.Put(sum(data), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, []byte("the fake thing"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Fatalf("blob = %q after repair", got)
	}
}

func TestPutRecreatesMissingTmp(t *testing.T) {
	c := newCache(t)
	if err := os.RemoveAll(filepath.Join(c.Dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	data := []byte("x")
	if _, err := c.Put(sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}
