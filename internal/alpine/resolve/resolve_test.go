package resolve

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spartan-images/spartan/internal/alpine/apkindex"
	"github.com/spartan-images/spartan/internal/alpine/keyring"
)

var real316 = sync.OnceValues(func() ([]*apkindex.Package, error) {
	data, err := os.ReadFile("../apkindex/testdata/APKINDEX-3.16-main-x86_64.tar.gz")
	if err != nil {
		return nil, err
	}
	kr, err := keyring.Default()
	if err != nil {
		return nil, err
	}
	idx, err := apkindex.Read(bytes.NewReader(data), kr, "3.16 main x86_64")
	if err != nil {
		return nil, err
	}
	return idx.Packages, nil
})

func realIndex(t *testing.T) []*apkindex.Package {
	t.Helper()
	pkgs, err := real316()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func names(res *Result) []string {
	var out []string
	for _, s := range res.Packages {
		out = append(out, s.Pkg.Name+"="+s.Pkg.Version)
	}
	return out
}

func find(res *Result, name string) *Selected {
	for i := range res.Packages {
		if res.Packages[i].Pkg.Name == name {
			return &res.Packages[i]
		}
	}
	return nil
}

// The closure of curl over the real, verified Alpine 3.16 index: every so: dependency goes
// to the library that provides it, and the runtime policy cuts the shell.
func TestRealClosureCurl(t *testing.T) {
	res, err := Resolve(realIndex(t), Request{Packages: []string{"curl"}, Policy: RuntimePolicy(), Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"brotli-libs=1.0.9-r6", "ca-certificates=20220614-r0", "curl=7.83.1-r4", "libcrypto1.1=1.1.1s-r0",
		"libcurl=7.83.1-r4", "libssl1.1=1.1.1s-r0", "musl=1.2.3-r2", "nghttp2-libs=1.47.0-r0", "zlib=1.2.12-r3",
	}
	if got := names(res); !slices.Equal(got, want) {
		t.Errorf("closure of curl:\n got %v\nwant %v", got, want)
	}
	lc := find(res, "libcurl")
	if lc == nil || !slices.Contains(lc.Why, "curl depends on so:libcurl.so.4") {
		t.Errorf("libcurl is not there through curl's so:libcurl.so.4: %+v", lc)
	}
	m := find(res, "musl")
	if m == nil || !slices.Contains(m.Why, "curl depends on so:libc.musl-x86_64.so.1") {
		t.Errorf("musl: %+v", m)
	}
	for _, s := range res.Packages {
		if strings.HasPrefix(s.Pkg.Name, "busybox") || s.Pkg.Name == "apk-tools" {
			t.Errorf("runtime closure holds %s", s.Pkg.Name)
		}
	}
}

func TestRealPolicyCutsShell(t *testing.T) {
	res, err := Resolve(realIndex(t), Request{Packages: []string{"alpine-baselayout"}, Policy: RuntimePolicy(), Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Cuts, Cut{From: "alpine-baselayout", To: "/bin/sh", Relation: "/bin/sh", Reason: whyShell}) {
		t.Errorf("no cut of /bin/sh recorded: %+v", res.Cuts)
	}
	if find(res, "busybox") != nil {
		t.Error("busybox in a runtime closure")
	}
	// The dev profile follows the same edge to busybox (which provides /bin/sh).
	dev, err := Resolve(realIndex(t), Request{Packages: []string{"alpine-baselayout"}, Policy: DevPolicy(), Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if find(dev, "busybox") == nil {
		t.Errorf("dev closure of alpine-baselayout lacks busybox: %v", names(dev))
	}
	_, err = Resolve(realIndex(t), Request{Packages: []string{"busybox"}, Policy: RuntimePolicy(), Arch: "x86_64"})
	if err == nil || !strings.Contains(err.Error(), "runtime policy excludes it") {
		t.Errorf("requesting busybox in a runtime image: %v", err)
	}
}

// dropbear-ssh declares !openssh-client: both in one closure is refused, naming both.
func TestRealConflict(t *testing.T) {
	_, err := Resolve(realIndex(t), Request{Packages: []string{"dropbear-ssh", "openssh-client"}, Policy: DevPolicy(), Arch: "x86_64"})
	if err == nil || !strings.Contains(err.Error(), "dropbear-ssh 2022.82-r1 conflicts with openssh-client-default (it declares !openssh-client)") {
		t.Fatalf("error %v", err)
	}
	if _, err := Resolve(realIndex(t), Request{Packages: []string{"dropbear-ssh"}, Policy: DevPolicy(), Arch: "x86_64"}); err != nil {
		t.Fatalf("dropbear-ssh alone: %v", err)
	}
}

func TestRealErrors(t *testing.T) {
	for _, tc := range []struct {
		req  []string
		want string
	}{
		{[]string{"curll"}, `no package named or providing "curll" in the repositories; did you mean curl?`},
		{[]string{"curl<7"}, "nothing satisfies curl<7 (available: 7.83.1-r4)"},
		{[]string{"curl=7.83.1-r4"}, ""},
		{[]string{"so:libcurl.so.4"}, ""},
		{[]string{"cmd:curl"}, ""},
		{[]string{"curl@edge"}, "repository tags"},
	} {
		_, err := Resolve(realIndex(t), Request{Packages: tc.req, Policy: RuntimePolicy(), Arch: "x86_64"})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.req, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.req, err, tc.want)
		}
	}
}

func pkg(name, ver string, depends, provides []string, prio int) *apkindex.Package {
	return &apkindex.Package{Name: name, Version: ver, Arch: "x86_64", Depends: depends, Provides: provides,
		ProviderPriority: prio, HasPriority: prio > 0}
}

func TestSemantics(t *testing.T) {
	universe := []*apkindex.Package{
		pkg("app", "1.0-r0", []string{"lib>=2", "so:libz.so.1", "jdk"}, nil, 0),
		pkg("lib", "1.9-r0", nil, nil, 0),
		pkg("lib", "2.0_rc1-r0", nil, nil, 0),
		pkg("lib", "2.0-r1", nil, nil, 0),
		pkg("lib", "2.1_p1-r0", nil, nil, 0),
		pkg("zlib", "1.2.13-r0", nil, []string{"so:libz.so.1=1.2.13"}, 0),
		pkg("zlib-ng", "2.0-r0", nil, []string{"so:libz.so.1=1.2.11"}, 0),
		pkg("openjdk17", "17.0.5-r0", nil, []string{"jdk"}, 100),
		pkg("openjdk11", "11.0.17-r0", nil, []string{"jdk"}, 11),
		pkg("tool", "1.0-r0", []string{"virt"}, nil, 0),
		pkg("virt-a", "1.0-r0", nil, []string{"virt"}, 0),
		pkg("virt-b", "1.0-r0", nil, []string{"virt"}, 0),
		pkg("old", "1.0-r0", []string{"lib<2"}, nil, 0),
		pkg("docs", "1.0-r0", nil, nil, 0),
		pkg("lib-doc", "2.1_p1-r0", nil, nil, 0),
	}
	universe[len(universe)-1].InstallIf = []string{"lib", "docs"}
	res, err := Resolve(universe, Request{Packages: []string{"app"}, Policy: RuntimePolicy(), Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app=1.0-r0", "lib=2.1_p1-r0", "openjdk17=17.0.5-r0", "zlib=1.2.13-r0"}
	if got := names(res); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v (highest lib, highest so: version, highest provider_priority)", got, want)
	}
	if _, err := Resolve(universe, Request{Packages: []string{"tool"}, Arch: "x86_64"}); err == nil ||
		!strings.Contains(err.Error(), "virt is a virtual name provided by virt-a, virt-b") {
		t.Errorf("unversioned provides without priority: %v", err)
	}
	if res, err := Resolve(universe, Request{Packages: []string{"virt-b", "tool"}, Arch: "x86_64"}); err != nil || !slices.Equal(names(res), []string{"tool=1.0-r0", "virt-b=1.0-r0"}) {
		t.Errorf("explicitly chosen provider: %v %v", res, err)
	}
	if _, err := Resolve(universe, Request{Packages: []string{"app", "old"}, Arch: "x86_64"}); err == nil ||
		!strings.Contains(err.Error(), "old depends on lib<2, but lib 2.1_p1-r0 is already selected") {
		t.Errorf("version clash: %v", err)
	}
	if res, err := Resolve(universe, Request{Packages: []string{"old"}, Arch: "x86_64"}); err != nil || !slices.Equal(names(res), []string{"lib=1.9-r0", "old=1.0-r0"}) {
		t.Errorf("lib<2 must pick 1.9 (2.0_rc1 > 2 in apk order): got %v %v", res, err)
	}
	res, err = Resolve(universe, Request{Packages: []string{"lib", "docs"}, Arch: "x86_64"})
	if err != nil || find(res, "lib-doc") != nil || len(res.Cuts) != 1 || !strings.HasPrefix(res.Cuts[0].Reason, "install_if") {
		t.Errorf("install_if: %v %+v %v", names(res), res.Cuts, err)
	}
	res, err = Resolve(universe, Request{Packages: []string{"app"}, Exclude: []string{"jdk"}, Arch: "x86_64"})
	if err != nil || find(res, "openjdk17") != nil || !slices.Contains(res.Cuts, Cut{From: "app", To: "jdk", Relation: "jdk", Reason: "excluded by spec"}) {
		t.Errorf("exclude: %v %+v %v", names(res), res.Cuts, err)
	}
	// A glob excludes as in a Debian spec: the cut rule is one for both distributions.
	res, err = Resolve(universe, Request{Packages: []string{"app"}, Exclude: []string{"j?k"}, Arch: "x86_64"})
	if err != nil || find(res, "openjdk17") != nil || !slices.Contains(res.Cuts, Cut{From: "app", To: "jdk", Relation: "jdk", Reason: "excluded by spec"}) {
		t.Errorf("exclude by glob: %v %+v %v", names(res), res.Cuts, err)
	}
}
