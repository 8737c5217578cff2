package assemble

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/testkit"
)

var testEpoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testOptions() Options {
	return Options{
		Arch: "amd64", Codename: "trixie", VersionID: "13", Epoch: testEpoch,
		Trim:           Trim{Docs: true, Man: true, Info: true, Locales: true, KeepLocales: []string{"C.UTF-8", "C.utf8"}},
		LayerBudget:    10,
		SpartanVersion: "0.1.0",
	}
}

// pkgOf is the index record the resolver would hand over for d.
func pkgOf(d testkit.Deb) *archive.Package {
	v, arch := d.Version, d.Arch
	if v == "" {
		v = "1.0"
	}
	if arch == "" {
		arch = "amd64"
	}
	return &archive.Package{Name: d.Name, Version: v, Architecture: arch, Source: d.Source}
}

// writeDebs builds each package into a temporary "cache" and returns the inputs.
func writeDebs(t testing.TB, debs ...testkit.Deb) []Input {
	t.Helper()
	dir := t.TempDir()
	var ins []Input
	for _, d := range debs {
		raw, err := d.Build()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, d.Filename())
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		ins = append(ins, Input{Pkg: pkgOf(d), Deb: p})
	}
	return ins
}

func mustAssemble(t testing.TB, opts Options, debs ...testkit.Deb) *Result {
	t.Helper()
	res, err := Assemble(writeDebs(t, debs...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type tarEntry struct {
	hdr  *tar.Header
	body string
}

func readTar(t testing.TB, data []byte) []tarEntry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var out []tarEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr, string(b)})
	}
}

// flatten applies the layers in order, as a container runtime would, keyed by path without a
// trailing slash.
func flatten(t testing.TB, res *Result) map[string]tarEntry {
	t.Helper()
	fs := map[string]tarEntry{}
	for _, l := range res.Layers {
		for _, e := range readTar(t, l.Tar) {
			fs[strings.TrimSuffix(e.hdr.Name, "/")] = e
		}
	}
	return fs
}

func layerByName(t testing.TB, res *Result, name string) Layer {
	t.Helper()
	for _, l := range res.Layers {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no layer %q in %v", name, layerNames(res))
	return Layer{}
}

func layerNames(res *Result) []string {
	var out []string
	for _, l := range res.Layers {
		out = append(out, l.Name)
	}
	return out
}

func names(entries []tarEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.hdr.Name)
	}
	return out
}

type rawEntry struct {
	hdr  tar.Header
	body string
}

// rawDeb builds a package whose data.tar holds exactly the given headers, unnormalized: the
// test kit cleans names, so hostile archives are written by hand here.
func rawDeb(t testing.TB, name string, entries ...rawEntry) Input {
	t.Helper()
	tarOf := func(es []rawEntry) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, e := range es {
			h := e.hdr
			if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
				h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
			}
			if h.Mode == 0 {
				h.Mode = 0o644
			}
			h.Format = tar.FormatGNU
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
			io.WriteString(tw, e.body)
		}
		tw.Close()
		return b.Bytes()
	}
	control := tarOf([]rawEntry{{hdr: tar.Header{Name: "./control"}, body: "Package: " + name + "\nVersion: 1.0\nArchitecture: amd64\nDescription: raw\n"}})
	data := tarOf(entries)
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar", control}, {"data.tar", data}} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.name, 0, 0, 0, 0o100644, len(m.data))
		ar.Write(m.data)
		if len(m.data)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	p := filepath.Join(t.TempDir(), name+".deb")
	if err := os.WriteFile(p, ar.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return Input{Pkg: &archive.Package{Name: name, Version: "1.0", Architecture: "amd64"}, Deb: p}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
