package assemble

import (
	"archive/tar"
	"slices"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/testkit"
)

func TestBusyboxApplets(t *testing.T) {
	applets, err := busyboxApplets()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sh", "ls", "cat", "wget", "vi", "["} {
		if !slices.Contains(applets, want) {
			t.Errorf("applet list lacks %q", want)
		}
	}
	if len(applets) < 200 {
		t.Errorf("%d applets: %v", len(applets), applets[:5])
	}
}

func TestBusyboxLinks(t *testing.T) {
	bb := testkit.Deb{Name: "busybox-static", AutoDirs: true, Files: []testkit.File{{Path: "/usr/bin/busybox", Body: "\x7fELF bb", Mode: 0o755}}}
	opts := testOptions()
	opts.BusyboxLinks = true
	res := mustAssemble(t, opts, bb)
	fs := flatten(t, res)
	for _, p := range []string{"busybox/sh", "busybox/busybox", "busybox/["} {
		e, ok := fs[p]
		if !ok || e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != "/usr/bin/busybox" {
			t.Errorf("/%s = %+v", p, e.hdr)
		}
	}
	if e := fs["busybox"]; e.hdr == nil || e.hdr.Typeflag != tar.TypeDir {
		t.Error("/busybox is not a directory")
	}
	var inOwn bool
	for _, e := range readTar(t, layerByName(t, res, "busybox-static").Tar) {
		inOwn = inOwn || e.hdr.Name == "busybox/sh"
	}
	if !inOwn {
		t.Error("the links are not in busybox-static's layer")
	}

	// Without the option nothing appears; without the package the build says what to add.
	if _, ok := flatten(t, mustAssemble(t, testOptions(), bb))["busybox/sh"]; ok {
		t.Error("links written without BusyboxLinks")
	}
	other := testkit.Deb{Name: "libc6", AutoDirs: true, Files: []testkit.File{{Path: "/usr/lib/libc.so.6", Body: "x"}}}
	if _, err := Assemble(writeDebs(t, other), opts); err == nil || !strings.Contains(err.Error(), "busybox-static is not installed") {
		t.Errorf("err = %v", err)
	}
}
