package audit

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// file is one tar entry of a test layer.
type file struct {
	name     string
	typ      byte // 0 = regular file
	mode     int64
	uid, gid int
	body     string
	link     string
}

func dir(name string, mode int64) file { return file{name: name, typ: tar.TypeDir, mode: mode} }
func reg(name string, mode int64, body string) file {
	return file{name: name, typ: tar.TypeReg, mode: mode, body: body}
}
func symlink(name, target string) file {
	return file{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target}
}

func layerOf(t *testing.T, files ...file) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: f.name, Typeflag: typ, Mode: f.mode, Uid: f.uid, Gid: f.gid, Linkname: f.link}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(f.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, f.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testImage builds an image in memory from layers and a config.
func testImage(t *testing.T, cfg v1.Config, history []v1.History, layers ...[]file) v1.Image {
	t.Helper()
	img := empty.Image
	var err error
	for _, l := range layers {
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layerOf(t, l...)}); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Config = cfg
	if history != nil {
		cf.History = history
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func audit(t *testing.T, img v1.Image) *Report {
	t.Helper()
	im, err := Read(&Target{Name: "test", Kind: KindMemory, Image: img}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Run(im)
}

// cleanBase is a distroless-like root: accounts, nonroot home, sticky /tmp.
func cleanBase() []file {
	return []file{
		dir("etc", 0o755),
		reg("etc/passwd", 0o644, "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
		reg("etc/group", 0o644, "root:x:0:\ntty:x:5:\nnobody:x:65534:\nnonroot:x:65532:\n"),
		reg("etc/shadow", 0o640, "root:*:19000:0:99999:7:::\nnobody:*:19000::::::\nnonroot:!:19000::::::\n"),
		dir("tmp", 0o1777),
		dir("home/nonroot", 0o700),
		{name: "home/nonroot/app.py", typ: tar.TypeReg, mode: 0o644, uid: 65532, gid: 65532, body: "print('hi')\n"},
		dir("usr/bin", 0o755),
		reg("usr/bin/python3.13", 0o755, "\x7fELF\x00binary"),
		symlink("usr/bin/python3", "python3.13"),
		reg("var/lib/dpkg/status.d/python3.13", 0o644, "Package: python3.13\nVersion: 3.13.5-2\nArchitecture: amd64\n"),
	}
}

var nonroot = v1.Config{User: "65532:65532", Env: []string{"PATH=/usr/bin", "LANG=C.UTF-8"}}
