package appfiles

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var epoch = time.Unix(1700000000, 0)

type hdr struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	link     string
	body     string
}

func entriesOf(t *testing.T, data []byte) []hdr {
	t.Helper()
	var out []hdr
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %v, names %q %q", h.Name, h.ModTime, h.Uname, h.Gname)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, hdr{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, string(b)})
	}
}

func TestDirectory(t *testing.T) {
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "pkg"), 0o700))
	must(os.WriteFile(filepath.Join(src, "main.py"), []byte("print(1)"), 0o600))
	must(os.WriteFile(filepath.Join(src, "pkg", "run"), []byte("#!"), 0o700))
	must(os.Symlink("/usr/bin/python3.13", filepath.Join(src, "python")))
	set := Set{Src: src, Dest: "/srv/app", UID: 65532, GID: 65532}
	data, err := Layer(set, epoch)
	must(err)
	want := []hdr{
		{"srv/", tar.TypeDir, 0o755, 0, 0, "", ""},
		{"srv/app/", tar.TypeDir, 0o755, 65532, 65532, "", ""},
		{"srv/app/main.py", tar.TypeReg, 0o644, 65532, 65532, "", "print(1)"},
		{"srv/app/pkg/", tar.TypeDir, 0o755, 65532, 65532, "", ""},
		{"srv/app/pkg/run", tar.TypeReg, 0o755, 65532, 65532, "", "#!"},
		{"srv/app/python", tar.TypeSymlink, 0o777, 65532, 65532, "/usr/bin/python3.13", ""},
	}
	got := entriesOf(t, data)
	if len(got) != len(want) {
		t.Fatalf("entries\n%v\nwant\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// The host's umask and clock play no part: same bytes again, and modes from the spec.
	must(os.Chtimes(filepath.Join(src, "main.py"), time.Now(), time.Now()))
	again, err := Layer(set, epoch)
	must(err)
	if !bytes.Equal(data, again) {
		t.Error("a second run gave other bytes")
	}
	set.Mode, set.DirMode = 0o640, 0o750
	data, err = Layer(set, epoch)
	must(err)
	for _, h := range entriesOf(t, data) {
		if h.name == "srv/app/pkg/run" && h.mode != 0o640 || h.name == "srv/app/pkg/" && h.mode != 0o750 {
			t.Errorf("%s mode %o", h.name, h.mode)
		}
	}
}

func TestDirectoryRefusesSpecialFiles(t *testing.T) {
	src := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o600); err != nil {
		t.Skip(err)
	}
	_, err := Layer(Set{Src: src, Dest: "/app"}, epoch)
	if err == nil || !strings.Contains(err.Error(), "pipe is a") {
		t.Errorf("error %v, want the fifo refused", err)
	}
}

type tarEntry struct {
	name string
	typ  byte
	link string
}

func makeTar(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		body := ""
		if e.typ == tar.TypeReg {
			body = "x"
			h.Size = 1
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "app.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTar(t *testing.T) {
	reg, dir, sym, hard := byte(tar.TypeReg), byte(tar.TypeDir), byte(tar.TypeSymlink), byte(tar.TypeLink)
	tests := []struct {
		name    string
		entries []tarEntry
		want    string // error substring; "" for success
	}{
		{"relative names, missing directories", []tarEntry{{"./", dir, ""}, {"./a/b/c.txt", reg, ""}, {"a/l", sym, "b/c.txt"}, {"a/h", hard, "a/b/c.txt"}}, ""},
		{"dot dot", []tarEntry{{"a/../../etc/passwd", reg, ""}}, `tar entry "a/../../etc/passwd": ".." in entry name would climb out`},
		{"absolute", []tarEntry{{"/etc/passwd", reg, ""}}, `tar entry "/etc/passwd": absolute entry name`},
		{"symlink climbing", []tarEntry{{"l", sym, "../../../etc"}}, "symlink /app/l → ../../../etc climbs above /"},
		{"below a symlink", []tarEntry{{"l", sym, "/etc"}, {"l/passwd", reg, ""}}, "/app/l/passwd is below /app/l, which is a symlink"},
		{"hard link outside", []tarEntry{{"h", hard, "../etc/passwd"}}, `hard link to "../etc/passwd"`},
		{"hard link to nothing", []tarEntry{{"h", hard, "missing"}}, "hard link /app/h → /app/missing: the archive holds no regular file there"},
		{"device", []tarEntry{{"dev", tar.TypeChar, ""}}, `tar entry "dev": type '3' is not a directory`},
		{"twice", []tarEntry{{"a", reg, ""}, {"./a", reg, ""}}, "/app/a appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Layer(Set{Src: makeTar(t, tt.entries...), Dest: "/app"}, epoch)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range entriesOf(t, data) {
				names = append(names, h.name)
			}
			if got := strings.Join(names, " "); got != "app/ app/a/ app/a/b/ app/a/b/c.txt app/a/h app/a/l" {
				t.Errorf("entries %s", got)
			}
		})
	}
}

func TestNotATar(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.tar")
	os.WriteFile(p, bytes.Repeat([]byte("junk"), 200), 0o644)
	if _, err := Layer(Set{Src: p, Dest: "/app"}, epoch); err == nil || !strings.Contains(err.Error(), "not a readable tar") {
		t.Errorf("error %v", err)
	}
	if _, err := Layer(Set{Src: "/nonexistent/x", Dest: "/app"}, epoch); err == nil || !strings.Contains(err.Error(), "/nonexistent/x") {
		t.Errorf("error %v", err)
	}
}

// FuzzTar feeds arbitrary archives: no panic, and whatever is accepted stays below dest.
func FuzzTar(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "a/b", Typeflag: tar.TypeReg, Size: 1, Mode: 0o755})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "../x"})
	tw.Close()
	f.Add(buf.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "in.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := Layer(Set{Src: p, Dest: "/srv/app"}, epoch)
		if err != nil {
			return
		}
		for _, h := range entriesOf(t, out) {
			n := strings.TrimSuffix(h.name, "/")
			if n != "srv" && n != "srv/app" && !strings.HasPrefix(n, "srv/app/") || strings.Contains(n, "..") {
				t.Fatalf("entry %q outside dest", h.name)
			}
		}
	})
}
