package assemble

import (
	"archive/tar"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

func dirHdr(name string) rawEntry {
	return rawEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}

func TestRefusesUnsafeEntries(t *testing.T) {
	reg := func(name, body string) rawEntry { return rawEntry{hdr: tar.Header{Name: name}, body: body} }
	link := func(name, target string) rawEntry {
		return rawEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}}
	}
	tests := []struct {
		name   string
		inputs func(t *testing.T) []Input
		want   []string // all must appear in the error
	}{
		{
			name: "dot-dot traversal",
			inputs: func(t *testing.T) []Input {
				return []Input{rawDeb(t, "evil", reg("../etc/passwd", "root::0:0::/:/bin/sh\n"))}
			},
			want: []string{"evil_1.0_amd64", "../etc/passwd", `".."`},
		},
		{
			name:   "dot-dot inside the name",
			inputs: func(t *testing.T) []Input { return []Input{rawDeb(t, "evil", reg("./usr/../../etc/shadow", "x"))} },
			want:   []string{"evil_1.0_amd64", "/usr/../../etc/shadow"},
		},
		{
			name:   "absolute name",
			inputs: func(t *testing.T) []Input { return []Input{rawDeb(t, "evil", reg("/etc/passwd", "x"))} },
			want:   []string{"evil_1.0_amd64", "absolute entry name"},
		},
		{
			name: "symlink climbing above / then a file through it",
			inputs: func(t *testing.T) []Input {
				return []Input{rawDeb(t, "evil", dirHdr("./usr/"), link("./usr/x", "../../.."), reg("./usr/x/etc/passwd", "x"))}
			},
			want: []string{"evil_1.0_amd64", "/usr/x", `"../../.." climbs above /`},
		},
		{
			name: "file through an absolute symlink in the same package",
			inputs: func(t *testing.T) []Input {
				return []Input{rawDeb(t, "evil", dirHdr("./usr/"), link("./usr/x", "/"), reg("./usr/x/etc/passwd", "x"))}
			},
			want: []string{"evil_1.0_amd64", "parent /usr/x is a symlink"},
		},
		{
			name: "file through another package's symlink",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t,
					testkit.Deb{Name: "a", Files: []testkit.File{{Path: "/usr/share/x", Type: tar.TypeSymlink, Link: "/etc"}}},
					testkit.Deb{Name: "b", Files: []testkit.File{{Path: "/usr/share/x/passwd", Body: "x"}}})
			},
			want: []string{"b_1.0_amd64", "parent /usr/share/x is a symlink (from package a)"},
		},
		{
			name: "symlink over another package's directory",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t,
					testkit.Deb{Name: "a", Files: []testkit.File{{Path: "/usr/share/x/f", Body: "x"}}},
					testkit.Deb{Name: "b", Files: []testkit.File{{Path: "/usr/share/x", Type: tar.TypeSymlink, Link: "/etc"}}})
			},
			want: []string{"b_1.0_amd64", "/usr/share/x is a directory with entries (from package a"},
		},
		{
			name: "character device",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t, testkit.Deb{Name: "dev", Files: []testkit.File{{Path: "/dev/null", Type: tar.TypeChar}}})
			},
			want: []string{"dev_1.0_amd64", "/dev/null", "device node"},
		},
		{
			name: "block device",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t, testkit.Deb{Name: "dev", Files: []testkit.File{{Path: "/dev/sda", Type: tar.TypeBlock}}})
			},
			want: []string{"dev_1.0_amd64", "/dev/sda", "device node"},
		},
		{
			name: "fifo",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t, testkit.Deb{Name: "pipe", Files: []testkit.File{{Path: "/run/initctl", Type: tar.TypeFifo}}})
			},
			want: []string{"pipe_1.0_amd64", "/run/initctl", "fifo"},
		},
		{
			name: "hard link to a file the package does not ship",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t,
					testkit.Deb{Name: "a", Files: []testkit.File{{Path: "/etc/shadow", Body: "secret"}}},
					testkit.Deb{Name: "b", Files: []testkit.File{{Path: "/usr/share/b/leak", Type: tar.TypeLink, Link: "/etc/shadow"}}})
			},
			want: []string{"b_1.0_amd64", "/usr/share/b/leak", "hard link to /etc/shadow"},
		},
		{
			name: "two packages, same path, different content",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t,
					testkit.Deb{Name: "mawk", Files: []testkit.File{{Path: "/usr/bin/awk", Body: "mawk"}}},
					testkit.Deb{Name: "gawk", Files: []testkit.File{{Path: "/usr/bin/awk", Body: "gawk"}}})
			},
			want: []string{"mawk_1.0_amd64", "conflicts with package gawk over /usr/bin/awk", "both ship it with different content"},
		},
		{
			name: "same path through merged-/usr",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t,
					testkit.Deb{Name: "a", Files: []testkit.File{{Path: "/bin/sh", Body: "dash"}}},
					testkit.Deb{Name: "b", Files: []testkit.File{{Path: "/usr/bin/sh", Body: "bash"}}})
			},
			want: []string{"b_1.0_amd64", "conflicts with package a over /usr/bin/sh"},
		},
		{
			name: "file where another package has a symlink",
			inputs: func(t *testing.T) []Input {
				return writeDebs(t,
					testkit.Deb{Name: "a", Files: []testkit.File{{Path: "/etc/x", Type: tar.TypeSymlink, Link: "y"}}},
					testkit.Deb{Name: "b", Files: []testkit.File{{Path: "/etc/x", Body: "file"}}})
			},
			want: []string{"b_1.0_amd64", "conflicts with package a over /etc/x: a symlink there, a regular file here"},
		},
		{
			name:   "reserved package name",
			inputs: func(t *testing.T) []Input { return writeDebs(t, testkit.Deb{Name: RootfsPackage}) },
			want:   []string{"reserved"},
		},
		{
			name:   "wrong architecture",
			inputs: func(t *testing.T) []Input { return writeDebs(t, testkit.Deb{Name: "x", Arch: "arm64"}) },
			want:   []string{"x_1.0_arm64", "built for arm64, the image is amd64"},
		},
		{
			name: "cache holds another version",
			inputs: func(t *testing.T) []Input {
				ins := writeDebs(t, testkit.Deb{Name: "x", Version: "2.0"})
				ins[0].Pkg.Version = "2.1"
				return ins
			},
			want: []string{"x_2.1_amd64", `version "2.0", expected "2.1"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Assemble(tc.inputs(t), testOptions())
			if err == nil {
				t.Fatal("assembled, want a refusal")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSharedIdenticalFiles(t *testing.T) {
	// libgcc-s1 and libstdc++6 style: same file, same bytes, in two packages of different sources.
	a := testkit.Deb{Name: "a", Source: "srca", AutoDirs: true, Files: []testkit.File{{Path: "/etc/shared.conf", Body: "same\n"}, {Path: "/usr/lib/l", Type: tar.TypeSymlink, Link: "x"}}}
	b := testkit.Deb{Name: "b", Source: "srcb", AutoDirs: true, Files: []testkit.File{{Path: "/etc/shared.conf", Body: "same\n"}, {Path: "/usr/lib/l", Type: tar.TypeSymlink, Link: "x"}}}
	res := mustAssemble(t, testOptions(), a, b)
	for _, name := range []string{"srca", "srcb"} {
		var found bool
		for _, e := range readTar(t, layerByName(t, res, name).Tar) {
			found = found || e.hdr.Name == "etc/shared.conf" && e.body == "same\n"
		}
		if !found {
			t.Errorf("layer %s lacks etc/shared.conf: each layer must carry its package's files", name)
		}
	}
	for _, name := range []string{"a", "b"} {
		sums := flatten(t, res)["var/lib/dpkg/status.d/"+name+".md5sums"].body
		if !strings.Contains(sums, "  etc/shared.conf\n") {
			t.Errorf("%s.md5sums = %q, want etc/shared.conf listed", name, sums)
		}
	}
}

func TestHardLinks(t *testing.T) {
	// The link comes first in archive order but sorts after its target's new name: the layer
	// must still hold the content once, before any link to it.
	d := testkit.Deb{Name: "perl-base", AutoDirs: true, Files: []testkit.File{
		{Path: "/usr/bin/perl5.36", Mode: 0o755, Body: "perl binary"},
		{Path: "/usr/bin/perl", Type: tar.TypeLink, Link: "/usr/bin/perl5.36"},
	}}
	res := mustAssemble(t, testOptions(), d)
	var seen []string
	for _, e := range readTar(t, layerByName(t, res, "perl-base").Tar) {
		switch e.hdr.Name {
		case "usr/bin/perl":
			if e.hdr.Typeflag != tar.TypeReg || e.body != "perl binary" || e.hdr.Mode != 0o755 {
				t.Errorf("usr/bin/perl: %c %q %o, want the regular file", e.hdr.Typeflag, e.body, e.hdr.Mode)
			}
			seen = append(seen, e.hdr.Name)
		case "usr/bin/perl5.36":
			if e.hdr.Typeflag != tar.TypeLink || e.hdr.Linkname != "usr/bin/perl" {
				t.Errorf("usr/bin/perl5.36: %c → %q, want a hard link to usr/bin/perl", e.hdr.Typeflag, e.hdr.Linkname)
			}
			seen = append(seen, e.hdr.Name)
		}
	}
	if len(seen) != 2 {
		t.Errorf("saw %v", seen)
	}
}
