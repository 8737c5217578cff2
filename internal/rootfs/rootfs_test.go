package rootfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ent is one tar entry: a file with body, a directory (name ends in /), a symlink (link), a
// hard link (hard).
type ent struct {
	name, body, link, hard string
	mode                   int64
}

func tarOf(t testing.TB, es ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		switch {
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case e.hard != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.hard, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fsOf(t testing.TB, o Options, layers ...[]ent) *FS {
	t.Helper()
	var ls []*Layer
	for _, es := range layers {
		l, err := ReadLayer(bytes.NewReader(tarOf(t, es...)), o)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	return New(ls)
}

func paths(fs *FS) string {
	var out []string
	fs.Walk(func(f *File) { out = append(out, f.Path) })
	return strings.Join(out, " ")
}

func TestStacking(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent
		want   string
	}{
		{"parents implied", [][]ent{{{name: "a/b/c"}}}, "/ /a /a/b /a/b/c"},
		{"whiteout removes a file", [][]ent{{{name: "a/x"}, {name: "a/y"}}, {{name: "a/.wh.x"}}}, "/ /a /a/y"},
		{"whiteout removes a tree", [][]ent{{{name: "a/b/c"}, {name: "d"}}, {{name: "./.wh.a"}}}, "/ /d"},
		{"whiteout spares its own layer", [][]ent{{{name: "a/x"}}, {{name: "a/x", body: "new"}, {name: "a/.wh.x"}}}, "/ /a /a/x"},
		{"opaque hides lower layers only", [][]ent{{{name: "a/old"}, {name: "a/sub/deep"}}, {{name: "a/new"}, {name: "a/.wh..wh..opq"}}}, "/ /a /a/new"},
		{"a file replaces a directory", [][]ent{{{name: "a/b/c"}}, {{name: "a/b", body: "file"}}}, "/ /a /a/b"},
		{"a later layer overrides", [][]ent{{{name: "x", body: "1"}}, {{name: "x", body: "22"}}}, "/ /x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fsOf(t, Options{}, tt.layers...)
			if got := paths(fs); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	fs := fsOf(t, Options{}, []ent{{name: "x", body: "1"}}, []ent{{name: "x", body: "22"}})
	if f := fs.Get("x"); f.Size != 2 || f.Layer != 1 {
		t.Errorf("override: %+v", f)
	}
}

func TestLinks(t *testing.T) {
	keep := Options{Keep: func(string) bool { return true }}
	fs := fsOf(t, keep, []ent{
		{name: "usr/lib/os-release", body: "ID=debian\n"},
		{name: "etc/os-release", link: "../usr/lib/os-release"},
		{name: "lib", link: "usr/lib"},
		{name: "usr/bin/a", body: "A", mode: 0o4755},
		{name: "usr/bin/b", hard: "./usr/bin/a"},
		{name: "loop1", link: "loop2"}, {name: "loop2", link: "/loop1"},
		{name: "dangling", link: "/nowhere"},
	})
	tests := []struct {
		path, want string
	}{
		{"/etc/os-release", "ID=debian\n"},
		{"/lib/os-release", "ID=debian\n"}, // through a symlinked directory
		{"lib/../lib/os-release", "ID=debian\n"},
		{"/usr/bin/b", "A"}, // a hard link shares its target's data
		{"/loop1", ""},
		{"/dangling", ""},
	}
	for _, tt := range tests {
		b, ok := fs.Content(tt.path)
		if string(b) != tt.want || ok != (tt.want != "") {
			t.Errorf("Content(%s) = %q %v, want %q", tt.path, b, ok, tt.want)
		}
	}
	if f := fs.Get("/usr/bin/b"); !f.IsRegular() || f.Linkname != "/usr/bin/a" {
		t.Errorf("hard link entry %+v", f)
	}
	if fs.Resolve("/loop1") != "" {
		t.Error("a symlink loop resolved")
	}
}

func TestOptions(t *testing.T) {
	layer := []ent{{name: "etc/passwd", body: "root:x:0:0::/root:/sbin/nologin\n"}, {name: "etc/key", body: "SECRET"},
		{name: "big", body: strings.Repeat("x", 100)}, {name: "empty"}, {name: "etc/"}}
	o := Options{
		Select:       func(p string) bool { return p != "/big" },
		Keep:         func(p string) bool { return p == "/etc/passwd" || p == "/empty" },
		Digests:      true,
		Inspect:      func(p string, b []byte) any { return len(b) },
		InspectLimit: 10,
	}
	fs := fsOf(t, o, layer)
	if got := paths(fs); got != "/ /empty /etc /etc/key /etc/passwd" {
		t.Errorf("selected %s", got)
	}
	if b, ok := fs.Content("/empty"); !ok || b == nil || len(b) != 0 {
		t.Errorf("kept empty file: %q %v", b, ok)
	}
	if _, ok := fs.Content("/etc/key"); ok {
		t.Error("content kept that Keep did not ask for")
	}
	key := fs.Get("/etc/key")
	s256, s1 := sha256.Sum256([]byte("SECRET")), sha1.Sum([]byte("SECRET"))
	if key.SHA256 != hex.EncodeToString(s256[:]) || key.SHA1 != hex.EncodeToString(s1[:]) {
		t.Errorf("digests %q %q", key.SHA256, key.SHA1)
	}
	if key.Note != 6 {
		t.Errorf("inspect note %v", key.Note)
	}
	if n := fs.Get("/etc/passwd").Note; n != nil {
		t.Errorf("inspected a file above the limit: %v", n)
	}
}

// The layer sizes are the compressed blob's and the full tar stream's.
func TestLayerInfo(t *testing.T) {
	raw := tarOf(t, ent{name: "a", body: "hello"})
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Flatten(img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	size, _ := l.Size()
	d, _ := l.Digest()
	want := []LayerInfo{{Index: 0, Digest: d.String(), Size: size, UncompressedSize: int64(len(raw))}}
	if !reflect.DeepEqual(fs.Layers, want) {
		t.Errorf("layers %+v, want %+v", fs.Layers, want)
	}
}

type memCache map[string][]byte

func (m memCache) GetDerived(k string) ([]byte, bool) { b, ok := m[k]; return b, ok }
func (m memCache) PutDerived(k string, b []byte) error {
	m[k] = b
	return nil
}

// unreadable is a layer whose bytes are gone: only its digest and size are known.
type unreadable struct{ v1.Layer }

func (unreadable) Compressed() (io.ReadCloser, error)   { return nil, errors.New("layer bytes gone") }
func (unreadable) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("layer bytes gone") }

// A second flattening of the same layers comes from the cache — proven by layers whose bytes
// are gone — and equals the first.
func TestCache(t *testing.T) {
	var ls []v1.Layer
	for _, es := range [][]ent{
		{{name: "etc/os-release", body: "ID=debian\n"}, {name: "etc/empty"}, {name: "etc/x", body: "x"}},
		{{name: "etc/.wh.x"}, {name: "etc/.wh..wh..opq"}, {name: "etc/os-release", body: "ID=debian\nVERSION_ID=13\n"}, {name: "etc/empty"}},
	} {
		raw := tarOf(t, es...)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	c := memCache{}
	o := Options{Keep: func(string) bool { return true }, Digests: true, Cache: c, CacheKey: "test/v1"}
	first, err := Flatten(img, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 2 {
		t.Fatalf("cache holds %d layers, want 2", len(c))
	}
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !strings.HasPrefix(keys[0], "rootfs/v1/test/v1/sha256-") {
		t.Errorf("cache key %s", keys[0])
	}
	gone := make([]v1.Layer, len(ls))
	for i, l := range ls {
		gone[i] = unreadable{l}
	}
	hollow, err := mutate.AppendLayers(empty.Image, gone...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Flatten(hollow, Options{}); err == nil {
		t.Fatal("the hollow image flattened without the cache: the test proves nothing")
	}
	second, err := Flatten(hollow, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("cached flattening differs:\n%+v\n%+v", first, second)
	}
	if b, ok := second.Content("/etc/empty"); !ok || len(b) != 0 {
		t.Errorf("empty kept file after the cache: %q %v", b, ok)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Cache: memCache{}},
		{Cache: memCache{}, CacheKey: "k", Inspect: func(string, []byte) any { return nil }},
	} {
		if _, err := Flatten(empty.Image, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// A truncated layer is an error naming the layer.
func TestTruncatedLayer(t *testing.T) {
	raw := tarOf(t, ent{name: "a", body: strings.Repeat("x", 2000)})
	raw = raw[:1000]
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Flatten(img, Options{Digests: true}); err == nil || !strings.Contains(err.Error(), "read layer 0") {
		t.Errorf("truncated layer: %v", err)
	}
}
