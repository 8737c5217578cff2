package assemble

import (
	"archive/tar"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

// libc6 mimics bookworm's libc6 layout: files under /lib, the loader link in /lib64.
func libc6(arch string) testkit.Deb {
	files := []testkit.File{
		{Path: "/lib/x86_64-linux-gnu/libc.so.6", Mode: 0o755, Body: "libc"},
		{Path: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", Mode: 0o755, Body: "ld.so"},
		{Path: "/lib64/ld-linux-x86-64.so.2", Type: tar.TypeSymlink, Link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
		{Path: "/sbin/ldconfig", Mode: 0o755, Body: "ldconfig"},
		{Path: "/bin/ldd-compat", Type: tar.TypeSymlink, Link: "../usr/bin/ldd"},
		{Path: "/usr/bin/ldd", Mode: 0o755, Body: "#!/bin/bash"},
		{Path: "/usr/share/doc/libc6/copyright", Body: "LGPL"},
	}
	if arch == "arm64" {
		files = []testkit.File{
			{Path: "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", Mode: 0o755, Body: "ld.so"},
			{Path: "/lib/ld-linux-aarch64.so.1", Type: tar.TypeSymlink, Link: "aarch64-linux-gnu/ld-linux-aarch64.so.1"},
		}
	}
	return testkit.Deb{Name: "libc6", Source: "glibc", Version: "2.36-9", Arch: arch, AutoDirs: true, Files: files}
}

func TestMergedUsr(t *testing.T) {
	tests := []struct {
		name  string
		arch  string
		links map[string]string // path → symlink target expected in the image
		files []string          // regular files expected
		gone  []string          // paths that must not exist
	}{
		{
			name: "amd64",
			arch: "amd64",
			links: map[string]string{
				"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64",
				"usr/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
				"usr/bin/ldd-compat":             "ldd", // relative target rewritten after the move
			},
			files: []string{"usr/lib/x86_64-linux-gnu/libc.so.6", "usr/sbin/ldconfig"},
			gone:  []string{"lib32", "libx32", "lib/x86_64-linux-gnu"},
		},
		{
			name:  "arm64",
			arch:  "arm64",
			links: map[string]string{"lib": "usr/lib", "usr/lib/ld-linux-aarch64.so.1": "aarch64-linux-gnu/ld-linux-aarch64.so.1"},
			files: []string{"usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"},
			gone:  []string{"lib64", "bin"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.Arch = tc.arch
			res := mustAssemble(t, opts, libc6(tc.arch))
			fs := flatten(t, res)
			for p, target := range tc.links {
				e, ok := fs[p]
				if !ok || e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != target {
					t.Errorf("%s: got %+v, want symlink to %s", p, e.hdr, target)
				}
			}
			for _, p := range tc.files {
				if e, ok := fs[p]; !ok || e.hdr.Typeflag != tar.TypeReg {
					t.Errorf("%s: missing regular file", p)
				}
			}
			for _, p := range tc.gone {
				if _, ok := fs[p]; ok {
					t.Errorf("%s: present, want absent", p)
				}
			}
			// The ELF interpreter path resolves through the compat link to a file.
			a := &assembler{tree: newTree()}
			for p, e := range fs {
				n := &node{kind: kindDir}
				switch e.hdr.Typeflag {
				case tar.TypeReg:
					n = &node{kind: kindReg, blob: &blob{[]byte(e.body)}}
				case tar.TypeSymlink:
					n = &node{kind: kindSymlink, target: e.hdr.Linkname}
				}
				a.tree.nodes[p] = n
			}
			if n := a.tree.resolve(loaders[tc.arch]); n == nil || string(n.blob.data) != "ld.so" {
				t.Errorf("loader /%s does not resolve to ld.so in the image", loaders[tc.arch])
			}
		})
	}
}

func TestMergedUsrAliasLinks(t *testing.T) {
	baseFiles := testkit.Deb{Name: "base-files", Files: []testkit.File{
		{Path: "/bin", Type: tar.TypeSymlink, Link: "usr/bin"},
		{Path: "/lib64", Type: tar.TypeSymlink, Link: "usr/lib64"},
		{Path: "/usr/", Type: tar.TypeDir},
		{Path: "/usr/bin/", Type: tar.TypeDir},
	}}
	fs := flatten(t, mustAssemble(t, testOptions(), baseFiles))
	for p, want := range map[string]string{"bin": "usr/bin", "lib64": "usr/lib64"} {
		if e := fs[p]; e.hdr == nil || e.hdr.Linkname != want {
			t.Errorf("%s: %+v, want link to %s", p, e.hdr, want)
		}
	}

	bad := testkit.Deb{Name: "odd", Files: []testkit.File{{Path: "/lib64", Type: tar.TypeSymlink, Link: "usr/lib"}}}
	_, err := Assemble(writeDebs(t, bad), testOptions())
	if err == nil || !strings.Contains(err.Error(), "odd_1.0_amd64") || !strings.Contains(err.Error(), "/lib64") {
		t.Fatalf("err = %v, want a refusal naming odd and /lib64", err)
	}
}

func TestLoaderMustResolve(t *testing.T) {
	broken := testkit.Deb{Name: "libc6", AutoDirs: true, Files: []testkit.File{{Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", Body: "libc"}}}
	_, err := Assemble(writeDebs(t, broken), testOptions())
	if err == nil || !strings.Contains(err.Error(), "/lib64/ld-linux-x86-64.so.2") {
		t.Fatalf("err = %v, want the missing loader named", err)
	}
}

func TestPathHelpers(t *testing.T) {
	tests := []struct {
		orig, canon, target, want string
	}{
		{"bin/x", "usr/bin/x", "../usr/bin/y", "y"},
		{"bin/x", "usr/bin/x", "y", "y"},
		{"lib/a/b.so", "usr/lib/a/b.so", "../../lib64/c", "../../lib64/c"},
		{"lib/a/b.so", "usr/lib/a/b.so", "../../usr/share/z", "../../share/z"},
		{"sbin/x", "usr/sbin/x", "/bin/y", "/bin/y"},
		{"usr/bin/x", "usr/bin/x", "../../bin/y", "../../bin/y"},
	}
	for _, tc := range tests {
		if got := relocate(tc.orig, tc.canon, tc.target); got != tc.want {
			t.Errorf("relocate(%s → %s, %s) = %s, want %s", tc.orig, tc.canon, tc.target, got, tc.want)
		}
	}
}
