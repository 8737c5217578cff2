package assemble

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/testkit"
)

// imageDebs is a small but varied package set: several sources, hard links, merged-/usr.
func imageDebs(version string) []testkit.Deb {
	debs := []testkit.Deb{
		libc6("amd64"),
		{Name: "libc-bin", Source: "glibc", Version: "2.36-9", AutoDirs: true, Files: []testkit.File{{Path: "/sbin/ldconfig.real", Mode: 0o755, Body: strings.Repeat("l", 3000)}}},
		{Name: "tzdata", Arch: "all", AutoDirs: true, Files: []testkit.File{{Path: "/usr/share/zoneinfo/Etc/UTC", Body: "TZif2"}}},
		{Name: "ca-certificates", Arch: "all", AutoDirs: true, Files: []testkit.File{{Path: "/usr/share/ca-certificates/mozilla/X.crt", Body: "X\n"}}},
		{Name: "netbase", Arch: "all", AutoDirs: true, Files: []testkit.File{{Path: "/etc/services", Body: strings.Repeat("s", 500)}}},
		{Name: "libssl3", Source: "openssl", Version: version, AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", Body: strings.Repeat("ssl"+version, 2000)},
			{Path: "/usr/share/doc/libssl3/copyright", Body: "Apache-2.0"},
		}},
		{Name: "perl-base", AutoDirs: true, Files: []testkit.File{
			{Path: "/usr/bin/perl5.36.0", Mode: 0o755, Body: strings.Repeat("p", 4000)},
			{Path: "/usr/bin/perl", Type: tar.TypeLink, Link: "/usr/bin/perl5.36.0"},
		}},
	}
	return debs
}

func digest(res *Result) string {
	h := sha256.New()
	for _, l := range res.Layers {
		fmt.Fprintf(h, "%s %v %x\n", l.Name, l.Packages, sha256.Sum256(l.Tar))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	ins := writeDebs(t, imageDebs("3.0.11-1")...)
	a, err := Assemble(ins, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	reversed := make([]Input, len(ins))
	for i, in := range ins {
		reversed[len(ins)-1-i] = in
	}
	b, err := Assemble(reversed, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if digest(a) != digest(b) {
		t.Fatal("input order changed the layers")
	}
	// Another process with another time zone and umask must produce the same bytes.
	if os.Getenv("ASSEMBLE_DIGEST_CHILD") != "" {
		return
	}
	cmd := exec.Command("sh", "-c", `umask 077 && exec "$0" "$@"`, os.Args[0], "-test.run=^TestDeterministicChild$", "-test.v")
	cmd.Env = append(os.Environ(), "ASSEMBLE_DIGEST_CHILD=1", "TZ=Pacific/Kiritimati", "ASSEMBLE_DEBS="+strings.Join(debPaths(ins), ","))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if want := "digest=" + digest(a); !strings.Contains(string(out), want) {
		t.Fatalf("child in another TZ/umask printed\n%s\nwant %s", out, want)
	}
}

func debPaths(ins []Input) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Deb)
	}
	return out
}

// TestDeterministicChild runs in the process TestDeterministic starts.
func TestDeterministicChild(t *testing.T) {
	if os.Getenv("ASSEMBLE_DIGEST_CHILD") == "" {
		t.Skip("run by TestDeterministic")
	}
	debs := imageDebs("3.0.11-1")
	var ins []Input
	for i, p := range strings.Split(os.Getenv("ASSEMBLE_DEBS"), ",") {
		ins = append(ins, Input{Pkg: pkgOf(debs[i]), Deb: p})
	}
	res, err := Assemble(ins, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("digest=%s\n", digest(res))
}

// TestLayerTars checks every layer on its own: sorted entries, parents first and present, no
// host-derived metadata.
func TestLayerTars(t *testing.T) {
	res := mustAssemble(t, testOptions(), imageDebs("3.0.11-1")...)
	if last := res.Layers[len(res.Layers)-1]; last.Name != RootfsPackage {
		t.Errorf("last layer is %s, want %s", last.Name, RootfsPackage)
	}
	for _, l := range res.Layers {
		entries := readTar(t, l.Tar)
		dirs := map[string]bool{".": true}
		prev := ""
		for _, e := range entries {
			h := e.hdr
			name := strings.TrimSuffix(h.Name, "/")
			if name <= prev {
				t.Errorf("layer %s: %s after %s", l.Name, name, prev)
			}
			prev = name
			if !dirs[path.Dir(name)] {
				t.Errorf("layer %s: %s comes without its parent directory", l.Name, h.Name)
			}
			if h.Typeflag == tar.TypeDir {
				dirs[name] = true
			}
			if !h.ModTime.Equal(testEpoch) || h.Uname != "" || h.Gname != "" || len(h.PAXRecords) != 0 || !h.AccessTime.IsZero() {
				t.Errorf("layer %s: %s: mtime %v uname %q gname %q pax %v", l.Name, h.Name, h.ModTime, h.Uname, h.Gname, h.PAXRecords)
			}
			if strings.HasPrefix(h.Name, "/") || strings.HasPrefix(h.Name, "./") {
				t.Errorf("layer %s: entry name %q is not root-relative", l.Name, h.Name)
			}
		}
	}
	if res.Files == 0 {
		t.Error("Files = 0")
	}
}

func TestLongNames(t *testing.T) {
	long := "/usr/share/" + strings.Repeat("deep-directory-name/", 12) + strings.Repeat("f", 120)
	d := testkit.Deb{Name: "long", AutoDirs: true, Files: []testkit.File{{Path: long, Body: "x"}}}
	fs := flatten(t, mustAssemble(t, testOptions(), d))
	if fs[strings.TrimPrefix(long, "/")].body != "x" {
		t.Errorf("long name lost")
	}
}

func TestLayerBudget(t *testing.T) {
	var debs []testkit.Deb
	for i := range 12 {
		// Sizes grow with i, so the biggest sources are s11, s10, s9.
		debs = append(debs, testkit.Deb{Name: fmt.Sprintf("p%02d", i), Source: fmt.Sprintf("s%02d", i), AutoDirs: true,
			Files: []testkit.File{{Path: fmt.Sprintf("/usr/lib/p%02d.so", i), Body: strings.Repeat("x", 1000*(i+1))}}})
	}
	debs = append(debs, testkit.Deb{Name: "p11-data", Source: "s11", AutoDirs: true, Files: []testkit.File{{Path: "/usr/share/p11/data", Body: "d"}}})
	tests := []struct {
		budget int
		want   []string
	}{
		{5, []string{"s09", "s10", "s11", sharedLayer, RootfsPackage}},
		{2, []string{sharedLayer, RootfsPackage}},
		{1, []string{RootfsPackage}},
		{13, []string{"s00", "s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", RootfsPackage}},
		{12, []string{"s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s11", sharedLayer, RootfsPackage}},
	}
	ins := writeDebs(t, debs...)
	for _, tc := range tests {
		opts := testOptions()
		opts.LayerBudget = tc.budget
		res, err := Assemble(ins, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := layerNames(res); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("budget %d: layers %v, want %v", tc.budget, got, tc.want)
		}
		if len(res.Layers) > tc.budget {
			t.Errorf("budget %d: %d layers", tc.budget, len(res.Layers))
		}
		// All packages are somewhere, each exactly once, with their record beside their files.
		seen := map[string]int{}
		for _, l := range res.Layers {
			files := map[string]bool{}
			for _, e := range readTar(t, l.Tar) {
				files[e.hdr.Name] = true
			}
			for _, p := range l.Packages {
				seen[p]++
				if !files["var/lib/dpkg/status.d/"+p] {
					t.Errorf("budget %d: layer %s lists %s but lacks its record", tc.budget, l.Name, p)
				}
			}
		}
		for _, d := range debs {
			if seen[d.Name] != 1 {
				t.Errorf("budget %d: %s in %d layers", tc.budget, d.Name, seen[d.Name])
			}
		}
	}
	if l := layerByName(t, mustAssemble(t, testOptions(), debs...), "s11"); strings.Join(l.Packages, " ") != "p11 p11-data" {
		t.Errorf("s11 layer packages = %v", l.Packages)
	}
}

// TestOnePackageUpdate is why layers follow source packages: a security update of openssl
// must replace the openssl layer and nothing else.
func TestOnePackageUpdate(t *testing.T) {
	before := mustAssemble(t, testOptions(), imageDebs("3.0.11-1")...)
	after := mustAssemble(t, testOptions(), imageDebs("3.0.11-1~deb12u2")...)
	if strings.Join(layerNames(before), " ") != strings.Join(layerNames(after), " ") {
		t.Fatalf("layers %v became %v", layerNames(before), layerNames(after))
	}
	var changed []string
	for i := range before.Layers {
		if !bytes.Equal(before.Layers[i].Tar, after.Layers[i].Tar) {
			changed = append(changed, before.Layers[i].Name)
		}
	}
	if strings.Join(changed, " ") != "openssl" {
		t.Errorf("changed layers: %v, want only openssl", changed)
	}
}

func TestDefaultEpoch(t *testing.T) {
	opts := testOptions()
	opts.Epoch = time.Time{}
	res := mustAssemble(t, opts, imageDebs("1")...)
	if !res.Epoch.Equal(testkit.DefaultDate) {
		t.Errorf("Epoch = %v, want the packages' newest mtime %v", res.Epoch, testkit.DefaultDate)
	}
	for _, e := range readTar(t, res.Layers[len(res.Layers)-1].Tar) {
		if !e.hdr.ModTime.Equal(testkit.DefaultDate) {
			t.Fatalf("%s: mtime %v", e.hdr.Name, e.hdr.ModTime)
		}
	}
	if res := mustAssemble(t, opts); !res.Epoch.Equal(time.Unix(0, 0)) {
		t.Errorf("Epoch without packages = %v, want the Unix epoch", res.Epoch)
	}
	opts.Epoch = testEpoch.Add(1500 * time.Millisecond)
	if res := mustAssemble(t, opts); !res.Epoch.Equal(testEpoch.Add(time.Second)) {
		t.Errorf("Epoch = %v, want truncated to the second", res.Epoch)
	}
}
