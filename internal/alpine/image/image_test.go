package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
	"github.com/spartan-images/spartan/internal/testkit"
)

type built struct {
	inputs []Input
	keys   keyring.Keyring
}

func buildInputs(t *testing.T, pkgs ...testkit.APK) built {
	t.Helper()
	key, err := testkit.NewAPKKey("testkit.rsa.pub")
	if err != nil {
		t.Fatal(err)
	}
	kr := keyring.Keyring{}
	if err := kr.Add(key.Name, key.PublicPEM()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var b built
	b.keys = kr
	for _, p := range pkgs {
		out, err := p.Build(key)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := apkindex.ParseChecksum(out.Checksum)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, p.Name+".apk")
		if err := os.WriteFile(file, out.File, 0o644); err != nil {
			t.Fatal(err)
		}
		b.inputs = append(b.inputs, Input{Pkg: &apkindex.Package{Name: p.Name, Version: p.Version, Arch: "x86_64",
			Checksum: sum, License: "MIT", Origin: p.Name, Depends: p.Depends, Provides: p.Provides}, Path: file, Keys: kr})
	}
	return b
}

var (
	musl = testkit.APK{Name: "musl", Version: "1.2.5-r10", Provides: []string{"so:libc.musl-x86_64.so.1=1"}, Files: []testkit.File{
		{Path: "lib/", Type: tar.TypeDir},
		{Path: "lib/ld-musl-x86_64.so.1", Body: "\x7fELF loader", Mode: 0o755},
		{Path: "lib/libc.musl-x86_64.so.1", Type: tar.TypeSymlink, Link: "ld-musl-x86_64.so.1"},
	}}
	hello = testkit.APK{Name: "hello", Version: "1.0-r0", Depends: []string{"so:libc.musl-x86_64.so.1"}, Files: []testkit.File{
		{Path: "usr/bin/", Type: tar.TypeDir},
		{Path: "usr/bin/hello", Body: "\x7fELF hello", Mode: 0o4755},
	}}
	busybox = testkit.APK{Name: "busybox", Version: "1.37.0-r12", Files: []testkit.File{
		{Path: "bin/", Type: tar.TypeDir},
		{Path: "bin/busybox", Body: "\x7fELF busybox", Mode: 0o755},
		{Path: "etc/securetty", Body: "console\n"},
	}}
)

func entries(t *testing.T, data []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

// entriesOf is every layer's entries, later layers over earlier ones.
func entriesOf(t *testing.T, res *Result) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	for _, l := range res.Layers {
		for k, v := range entries(t, l.Tar) {
			out[k] = v
		}
	}
	return out
}

func inventoryOf(t *testing.T, res *Result) *inventory.Inventory {
	t.Helper()
	var ls []*rootfs.Layer
	for _, layer := range res.Layers {
		l, err := rootfs.ReadLayer(bytes.NewReader(layer.Tar), inventory.Full.Files(nil))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	inv, err := inventory.Read(rootfs.New(ls))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestRuntimeImage(t *testing.T) {
	b := buildInputs(t, musl, hello)
	res, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime})
	if err != nil {
		t.Fatal(err)
	}
	es := entriesOf(t, res)
	for _, want := range []string{"lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1", "usr/bin/hello", "etc/passwd", "etc/group",
		"etc/os-release", "lib/apk/db/installed", "home/nonroot/", "tmp/"} {
		if es[want] == nil {
			t.Errorf("no %s in the layer", want)
		}
	}
	for _, not := range []string{"bin/sh", "sbin/apk", "etc/apk/world", "busybox/busybox"} {
		if es[not] != nil {
			t.Errorf("runtime layer has %s", not)
		}
	}
	if m := es["usr/bin/hello"].Mode; m&0o4000 != 0 {
		t.Errorf("setuid kept in a runtime image: %o", m)
	}
	if h := es["home/nonroot/"]; h.Uid != 65532 || h.Gid != 65532 {
		t.Errorf("nonroot home owned by %d:%d", h.Uid, h.Gid)
	}
	inv := inventoryOf(t, res)
	var got []string
	for _, p := range inv.Packages {
		got = append(got, p.PURL(inv.OS).String())
	}
	want := "pkg:apk/alpine/hello@1.0-r0?arch=x86_64&distro=alpine-3.22 pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22"
	if strings.Join(got, " ") != want {
		t.Errorf("inventory purls:\n got %v\nwant %s", got, want)
	}
	if h := inv.Package("hello"); strings.Join(h.Depends, ",") != "musl" || len(h.Files) != 1 || !strings.HasPrefix(h.Files[0].Digest, "sha1:") {
		t.Errorf("hello record %+v", h)
	}
	// Same inputs, same bytes.
	again, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime})
	if err != nil || len(again.Layers) != len(res.Layers) {
		t.Fatalf("assembly not reproducible (%v)", err)
	}
	for i := range res.Layers {
		if !bytes.Equal(again.Layers[i].Tar, res.Layers[i].Tar) {
			t.Errorf("layer %s not reproducible", res.Layers[i].Name)
		}
	}
}

func TestDebugAndDev(t *testing.T) {
	b := buildInputs(t, musl, hello, busybox)
	res, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Debug})
	if err != nil {
		t.Fatal(err)
	}
	es := entriesOf(t, res)
	if es["busybox/busybox"] == nil || es["busybox/ls"] == nil || es["busybox/ls"].Linkname != "busybox" {
		t.Errorf("debug image lacks /busybox tools")
	}
	if es["bin/busybox"] != nil || es["bin/sh"] != nil || es["etc/securetty"] != nil {
		t.Error("debug image installs busybox outside /busybox")
	}
	dev, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Dev, Keys: b.keys,
		Repositories: []string{"http://mirror.invalid/v3.22/main"}, World: []string{"hello", "busybox"}})
	if err != nil {
		t.Fatal(err)
	}
	des := entriesOf(t, dev)
	for _, want := range []string{"etc/apk/arch", "etc/apk/repositories", "etc/apk/world", "etc/apk/keys/testkit.rsa.pub", "bin/busybox"} {
		if des[want] == nil {
			t.Errorf("dev image lacks %s", want)
		}
	}
	if des["usr/bin/hello"].Mode&0o4000 == 0 {
		t.Error("dev image dropped setuid")
	}
}

func TestConflictAndTamper(t *testing.T) {
	clash := testkit.APK{Name: "clash", Version: "1", Files: []testkit.File{{Path: "usr/bin/", Type: tar.TypeDir}, {Path: "usr/bin/hello", Body: "other"}}}
	b := buildInputs(t, hello, clash)
	_, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime})
	if err == nil || !strings.Contains(err.Error(), "/usr/bin/hello is also in hello") {
		t.Errorf("file conflict: %v", err)
	}
	b = buildInputs(t, hello)
	b.inputs[0].Pkg.Checksum.Sum[0] ^= 1
	_, err = Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("cached file not matching the index: %v", err)
	}
}

// TestLayersByOrigin: packages are grouped by origin into layers, the synthesized files last;
// a new version of one package changes exactly its layer and the synthesized one.
func TestLayersByOrigin(t *testing.T) {
	muslExtra := testkit.APK{Name: "musl-extra", Version: "1.2.5-r10", Origin: "musl", Files: []testkit.File{
		{Path: "usr/lib/", Type: tar.TypeDir}, {Path: "usr/lib/libextra.so", Body: "\x7fELF extra", Mode: 0o755}}}
	b := buildInputs(t, hello, musl, muslExtra)
	res, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range res.Layers {
		names = append(names, l.Name+"="+strings.Join(l.Packages, ","))
	}
	if got := strings.Join(names, " "); got != "hello=hello musl=musl,musl-extra spartan-rootfs=spartan-rootfs" {
		t.Fatalf("layers %s", got)
	}
	musLayer := entries(t, res.Layers[1].Tar)
	if musLayer["lib/ld-musl-x86_64.so.1"] == nil || musLayer["usr/lib/libextra.so"] == nil || musLayer["usr/bin/hello"] != nil {
		t.Errorf("musl layer %v", keysOf(musLayer))
	}
	if rootfsLayer := entries(t, res.Layers[2].Tar); rootfsLayer["lib/apk/db/installed"] == nil || rootfsLayer["etc/passwd"] == nil || rootfsLayer["usr/bin/hello"] != nil {
		t.Errorf("synthesized layer %v", keysOf(rootfsLayer))
	}

	// hello 1.0-r1, everything else the same files.
	newer := hello
	newer.Version = "1.0-r1"
	newer.Files = []testkit.File{{Path: "usr/bin/", Type: tar.TypeDir}, {Path: "usr/bin/hello", Body: "\x7fELF hello, patched", Mode: 0o4755}}
	b2 := buildInputs(t, newer, musl, muslExtra)
	// The very same musl files as before (each buildInputs signs with a fresh key).
	b2.inputs[1], b2.inputs[2] = b.inputs[1], b.inputs[2]
	upd, err := Assemble(b2.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime})
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for i, l := range upd.Layers {
		if !bytes.Equal(l.Tar, res.Layers[i].Tar) {
			changed = append(changed, l.Name)
		}
	}
	if got := strings.Join(changed, " "); got != "hello spartan-rootfs" {
		t.Errorf("an update of hello changed the layers %q, want hello and spartan-rootfs", got)
	}
}

func keysOf(m map[string]*tar.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSpecPathsCertificatesTrim: the spec's paths, extra certificates and trim patterns; the
// installed database stops claiming what Spartan replaced or trimmed.
func TestSpecPathsCertificatesTrim(t *testing.T) {
	bundle := testkit.APK{Name: "ca-certificates-bundle", Version: "20250619-r0", Files: []testkit.File{
		{Path: "etc/", Type: tar.TypeDir}, {Path: "etc/ssl/", Type: tar.TypeDir}, {Path: "etc/ssl/certs/", Type: tar.TypeDir},
		{Path: "etc/ssl/certs/ca-certificates.crt", Body: "-----BEGIN CERTIFICATE-----\nmozilla\n-----END CERTIFICATE-----"}}}
	docs := hello
	docs.Files = append(append([]testkit.File(nil), hello.Files...), testkit.File{Path: "usr/share/", Type: tar.TypeDir},
		testkit.File{Path: "usr/share/doc/", Type: tar.TypeDir}, testkit.File{Path: "usr/share/doc/hello/", Type: tar.TypeDir},
		testkit.File{Path: "usr/share/doc/hello/README", Body: "read me"})
	b := buildInputs(t, bundle, docs, musl)
	corp := "-----BEGIN CERTIFICATE-----\ncorp\n-----END CERTIFICATE-----\n"
	res, err := Assemble(b.inputs, Options{Arch: "x86_64", Release: "v3.22", Profile: Runtime,
		Certificates: [][]byte{[]byte(corp)}, TrimPaths: []string{"/usr/share/doc/**"},
		Paths: []assemble.Path{
			{Path: "/app", Type: assemble.TypeDirectory, Mode: 0o750, UID: 65532, GID: 65532},
			{Path: "/etc/app.conf", Type: assemble.TypeFile, Content: "x=1\n"},
			{Path: "/usr/bin/hi", Type: assemble.TypeSymlink, Target: "hello"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	es := entriesOf(t, res)
	if h := es["app/"]; h == nil || h.Mode != 0o750 || h.Uid != 65532 {
		t.Errorf("/app %+v", h)
	}
	if h := es["etc/app.conf"]; h == nil || h.Mode != 0o644 || h.Size != 4 {
		t.Errorf("/etc/app.conf %+v", h)
	}
	if h := es["usr/bin/hi"]; h == nil || h.Linkname != "hello" {
		t.Errorf("/usr/bin/hi %+v", h)
	}
	if es["usr/share/doc/hello/README"] != nil {
		t.Error("trimmed file in the image")
	}
	var bundleText string
	for _, l := range res.Layers {
		tr := tar.NewReader(bytes.NewReader(l.Tar))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if h.Name == "etc/ssl/certs/ca-certificates.crt" {
				data, _ := io.ReadAll(tr)
				bundleText = string(data)
				if l.Name != "spartan-rootfs" {
					t.Errorf("the extended bundle is in layer %s", l.Name)
				}
			}
		}
	}
	if bundleText != "-----BEGIN CERTIFICATE-----\nmozilla\n-----END CERTIFICATE-----\n"+corp {
		t.Errorf("bundle %q", bundleText)
	}
	inv := inventoryOf(t, res)
	if fs := inv.Package("hello").Files; len(fs) != 1 || fs[0].Path != "/usr/bin/hello" {
		t.Errorf("hello's files %+v, want /usr/bin/hello alone", fs)
	}
	for _, name := range []string{"ca-certificates-bundle", "hello"} {
		for _, f := range inv.Package(name).Files {
			if f.Path == "/etc/ssl/certs/ca-certificates.crt" || f.Path == "/usr/share/doc/hello/README" {
				t.Errorf("%s's record still lists %s", name, f.Path)
			}
		}
	}
}
