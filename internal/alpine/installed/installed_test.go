package installed

import (
	"archive/tar"
	"bytes"
	"crypto/sha1" //nolint:gosec // apk's file checksums
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
)

func TestWriteFormat(t *testing.T) {
	sum := sha1.Sum([]byte("root\n")) //nolint:gosec // see import
	var buf bytes.Buffer
	err := Write(&buf, []Package{{
		Name: "hello", Version: "1.0-r0", Arch: "x86_64", Checksum: "Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=",
		Size: 10, InstalledSize: 20, Description: "two\nlines", License: "MIT", Origin: "hello",
		BuildTime: time.Unix(1662926906, 0), Depends: []string{"so:libc.musl-x86_64.so.1"},
		Provides: []string{"cmd:hello=1.0-r0"},
		Files: []File{
			{Path: "/usr/bin/hello", SHA1: sum[:], Mode: 0o755, HasOwnerOK: true},
			{Path: "/etc/hello", Dir: true, Mode: 0o700, HasOwnerOK: true},
			{Path: "/etc/hello/conf", SHA1: sum[:], Mode: 0o644, HasOwnerOK: true},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `C:Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=
P:hello
V:1.0-r0
A:x86_64
S:10
I:20
T:two lines
L:MIT
o:hello
t:1662926906
D:so:libc.musl-x86_64.so.1
p:cmd:hello=1.0-r0
F:etc/hello
M:0:0:700
R:conf
Z:Q1VSwLpxsQRqCDWD6/lDzJqgnzmjI=
F:usr/bin
R:hello
a:0:0:755
Z:Q1VSwLpxsQRqCDWD6/lDzJqgnzmjI=

`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// What Spartan writes, Spartan's inventory (the reader SBOMs and scans use) reads back.
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	_ = tw.WriteHeader(&tar.Header{Name: "lib/apk/db/installed", Mode: 0o644, Size: int64(buf.Len()), Typeflag: tar.TypeReg})
	_, _ = tw.Write(buf.Bytes())
	_ = tw.Close()
	l, err := rootfs.ReadLayer(&layer, inventory.Full.Files(nil))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Read(rootfs.New([]*rootfs.Layer{l}))
	if err != nil {
		t.Fatal(err)
	}
	p := inv.Package("hello")
	if p == nil || p.Version != "1.0-r0" || len(p.Files) != 2 || p.Files[1].Path != "/usr/bin/hello" ||
		!strings.HasPrefix(p.Files[1].Digest, "sha1:") {
		t.Errorf("read back %+v", p)
	}
}
