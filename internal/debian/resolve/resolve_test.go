package resolve

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/debian/archive"
)

// P describes a package in a test universe; the zero Arch means amd64, the zero Suite trixie.
type P struct {
	Name, Version, Arch, Suite    string
	Depends, PreDepends, Provides string
	Essential                     bool
}

var suites = map[string]*archive.Release{}

func release(suite string) *archive.Release {
	if r, ok := suites[suite]; ok {
		return r
	}
	r := &archive.Release{Suite: suite, Codename: suite}
	suites[suite] = r
	return r
}

func universeOf(ps ...P) []*archive.Package {
	out := make([]*archive.Package, len(ps))
	for i, p := range ps {
		if p.Arch == "" {
			p.Arch = "amd64"
		}
		if p.Suite == "" {
			p.Suite = "trixie"
		}
		pkg := &archive.Package{
			Name: p.Name, Version: p.Version, Architecture: p.Arch,
			Depends: p.Depends, PreDepends: p.PreDepends, Provides: p.Provides,
			Essential: p.Essential, Origin: release(p.Suite),
		}
		out[i] = pkg
	}
	return out
}

// names renders a result as "name=version (suite)" lines, sorted as the result is.
func names(res *Result) []string {
	var out []string
	for _, s := range res.Packages {
		line := s.Pkg.Name + "=" + s.Pkg.Version
		if s.Pkg.Origin != nil && s.Pkg.Origin.Suite != "trixie" {
			line += " (" + s.Pkg.Origin.Suite + ")"
		}
		out = append(out, line)
	}
	return out
}

func TestResolve(t *testing.T) {
	dev, runtime := DevPolicy(), RuntimePolicy()
	tests := []struct {
		name     string
		pkgs     []P
		req      Request // Arch defaults to amd64, Policy to dev
		want     []string
		wantWhy  map[string][]string
		wantCuts []Cut
	}{
		{
			name: "allow exempts a name from the policy, even under a glob",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "busybox-static, perl-modules-5.40, bash"},
				{Name: "busybox-static", Version: "1"}, {Name: "perl-modules-5.40", Version: "1"}, {Name: "bash", Version: "1"},
			},
			req:      Request{Packages: []string{"app"}, Policy: runtime, Allow: []string{"busybox-static", "perl-modules-5.40"}},
			want:     []string{"app=1", "busybox-static=1", "perl-modules-5.40=1"},
			wantCuts: []Cut{{From: "app", To: "bash", Relation: "bash", Reason: whyShell}},
		},
		{
			name: "allow does not lift the request's own exclude",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "busybox-static"},
				{Name: "busybox-static", Version: "1"},
			},
			req:      Request{Packages: []string{"app"}, Policy: runtime, Exclude: []string{"busybox-static"}, Allow: []string{"busybox-static"}},
			want:     []string{"app=1"},
			wantCuts: []Cut{{From: "app", To: "busybox-static", Relation: "busybox-static", Reason: reasonExcluded}},
		},
		{
			name: "simple chain",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b"},
				{Name: "b", Version: "1", PreDepends: "c (>= 1)"},
				{Name: "c", Version: "2"},
				{Name: "unrelated", Version: "1"},
			},
			req:     Request{Packages: []string{"a"}},
			want:    []string{"a=1", "b=1", "c=2"},
			wantWhy: map[string][]string{"a": {"requested"}, "b": {"a Depends"}, "c": {"b Pre-Depends"}},
		},
		{
			name: "first alternative wins",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b | c"},
				{Name: "b", Version: "1"}, {Name: "c", Version: "1"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "b=1"},
		},
		{
			name: "missing first alternative falls through",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "gone | c"},
				{Name: "c", Version: "1"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "c=1"},
		},
		{
			name: "already selected alternative preferred",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b | c"},
				{Name: "b", Version: "1"}, {Name: "c", Version: "1"},
			},
			req:     Request{Packages: []string{"a", "c"}},
			want:    []string{"a=1", "c=1"},
			wantWhy: map[string][]string{"c": {"requested", "a Depends"}},
		},
		{
			name: "alternative being selected by an earlier package preferred",
			pkgs: []P{
				{Name: "x", Version: "1", Depends: "c"},
				{Name: "a", Version: "1", Depends: "b | c"},
				{Name: "b", Version: "1"}, {Name: "c", Version: "1"},
			},
			req:  Request{Packages: []string{"x", "a"}},
			want: []string{"a=1", "c=1", "x=1"},
		},
		{
			name: "virtual with one provider",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "mail-transport-agent"},
				{Name: "postfix", Version: "3.9", Provides: "mail-transport-agent"},
			},
			req:     Request{Packages: []string{"a"}},
			want:    []string{"a=1", "postfix=3.9"},
			wantWhy: map[string][]string{"postfix": {"a Depends"}},
		},
		{
			name: "virtual with several providers, one requested",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "mail-transport-agent"},
				{Name: "postfix", Version: "3.9", Provides: "mail-transport-agent"},
				{Name: "exim4", Version: "4.97", Provides: "mail-transport-agent"},
			},
			req:     Request{Packages: []string{"a", "exim4"}},
			want:    []string{"a=1", "exim4=4.97"},
			wantWhy: map[string][]string{"exim4": {"requested", "a Depends"}},
		},
		{
			name: "requested virtual with one provider",
			pkgs: []P{{Name: "mawk", Version: "1.3.4", Provides: "awk"}},
			req:  Request{Packages: []string{"awk"}},
			want: []string{"mawk=1.3.4"},
		},
		{
			name: "versioned provides satisfies versioned relation",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "libfoo-abi (>= 2)"},
				{Name: "old", Version: "1", Provides: "libfoo-abi"},
				{Name: "libfoo2", Version: "2.1", Provides: "libfoo-abi (= 2.1)"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "libfoo2=2.1"},
		},
		{
			name: "versioned deps satisfied, epochs respected",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b (>= 1:1.0), c (<< 3), d (= 2.0-1), e (>> 1)"},
				{Name: "b", Version: "1:1.2"}, {Name: "c", Version: "3~rc1"},
				{Name: "d", Version: "2.0-1"}, {Name: "e", Version: "1+b1"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "b=1:1.2", "c=3~rc1", "d=2.0-1", "e=1+b1"},
		},
		{
			name: "unsatisfiable alternative skipped for a fitting one",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b (>= 2) | c"},
				{Name: "b", Version: "1"}, {Name: "c", Version: "1"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "c=1"},
		},
		{
			name: "any and native qualifiers",
			pkgs: []P{
				{Name: "a", Version: "1", Arch: "all", Depends: "python3:any (>= 3.11), libx:native"},
				{Name: "python3", Version: "3.13.1"},
				{Name: "libx", Version: "1"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "libx=1", "python3=3.13.1"},
		},
		{
			name: "arch restrictions on amd64",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b [arm64], c [!amd64], d [amd64 i386], e [linux-any]"},
				{Name: "b", Version: "1"}, {Name: "c", Version: "1"},
				{Name: "d", Version: "1"}, {Name: "e", Version: "1"},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1", "d=1", "e=1"},
		},
		{
			name: "arch restrictions on arm64, packages of other arches ignored",
			pkgs: []P{
				{Name: "a", Version: "1", Arch: "arm64", Depends: "b [arm64], c [!amd64], d [amd64 i386]"},
				{Name: "a", Version: "9"}, // amd64 only: must not win on arm64
				{Name: "b", Version: "1", Arch: "arm64"}, {Name: "c", Version: "1", Arch: "all"},
			},
			req:  Request{Packages: []string{"a"}, Arch: "arm64"},
			want: []string{"a=1", "b=1", "c=1"},
		},
		{
			name: "highest version across suites wins",
			pkgs: []P{
				{Name: "libssl3t64", Version: "3.5.1-1", Suite: "trixie"},
				{Name: "libssl3t64", Version: "3.5.1-1+deb13u1", Suite: "trixie-security"},
				{Name: "libssl3t64", Version: "3.5.0-1", Suite: "trixie-updates"},
				{Name: "libssl3t64", Version: "9.9", Arch: "arm64", Suite: "trixie-updates"},
			},
			req:  Request{Packages: []string{"libssl3t64"}},
			want: []string{"libssl3t64=3.5.1-1+deb13u1 (trixie-security)"},
		},
		{
			name: "version pin picks an older version",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "libssl3t64 (>= 3)"},
				{Name: "libssl3t64", Version: "3.5.1-1", Suite: "trixie"},
				{Name: "libssl3t64", Version: "3.5.1-1+deb13u1", Suite: "trixie-security"},
			},
			req:     Request{Packages: []string{"app", "libssl3t64=3.5.1-1"}},
			want:    []string{"app=1", "libssl3t64=3.5.1-1"},
			wantWhy: map[string][]string{"libssl3t64": {"requested", "app Depends"}},
		},
		{
			name: "pinned version's provides count",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "foo-api"},
				{Name: "foo", Version: "1", Provides: "foo-api"},
				{Name: "foo", Version: "2", Suite: "trixie-updates"},
			},
			req:  Request{Packages: []string{"app", "foo=1"}},
			want: []string{"app=1", "foo=1"},
		},
		{
			name: "exclusion cut recorded, its dependencies not followed",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b (>= 1), c"},
				{Name: "b", Version: "1", Depends: "d"},
				{Name: "c", Version: "1"}, {Name: "d", Version: "1"},
			},
			req:      Request{Packages: []string{"a"}, Exclude: []string{"b"}},
			want:     []string{"a=1", "c=1"},
			wantCuts: []Cut{{From: "a", To: "b", Relation: "b (>= 1)", Reason: "excluded by spec"}},
		},
		{
			name: "runtime policy cuts recorded with reasons",
			pkgs: []P{
				{Name: "ca-certificates", Version: "20250419", Arch: "all", Depends: "openssl (>= 1.1.1), debconf (>= 0.5) | debconf-2.0"},
				{Name: "openssl", Version: "3.5.1-1", Depends: "libc6, perl-modules-5.40"},
				{Name: "libc6", Version: "2.41-12", Depends: "libgcc-s1", PreDepends: "libc-bin"},
				{Name: "libgcc-s1", Version: "14.2.0-19"},
				{Name: "libc-bin", Version: "2.41-12"},
				{Name: "debconf", Version: "1.5.91", Arch: "all", Provides: "debconf-2.0"},
				{Name: "cdebconf", Version: "0.280", Provides: "debconf-2.0"},
				{Name: "perl-modules-5.40", Version: "5.40.1-6", Arch: "all"},
			},
			req:  Request{Packages: []string{"ca-certificates"}, Policy: runtime},
			want: []string{"ca-certificates=20250419", "libc6=2.41-12", "libgcc-s1=14.2.0-19", "openssl=3.5.1-1"},
			wantCuts: []Cut{
				{From: "ca-certificates", To: "debconf", Relation: "debconf (>= 0.5) | debconf-2.0", Reason: whyDebconf},
				{From: "libc6", To: "libc-bin", Relation: "libc-bin", Reason: whyLdconf},
				{From: "openssl", To: "perl-modules-5.40", Relation: "perl-modules-5.40", Reason: whyPerl},
			},
		},
		{
			name: "dev policy keeps what runtime cuts",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "bash, dpkg"},
				{Name: "bash", Version: "5.2"}, {Name: "dpkg", Version: "1.22"},
			},
			req:  Request{Packages: []string{"a", "bash"}, Policy: dev},
			want: []string{"a=1", "bash=5.2", "dpkg=1.22"},
		},
		{
			name: "OR group falls back to the uncut alternative",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "bash | lean-sh, coreutils | busybox | toybox"},
				{Name: "bash", Version: "5.2"}, {Name: "lean-sh", Version: "1"},
				{Name: "coreutils", Version: "9"}, {Name: "busybox", Version: "1"}, {Name: "toybox", Version: "1"},
			},
			req:  Request{Packages: []string{"a"}, Policy: runtime},
			want: []string{"a=1", "lean-sh=1", "toybox=1"},
		},
		{
			name: "virtual whose only provider is cut is recorded as a cut",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "awk"},
				{Name: "mawk", Version: "1.3.4", Provides: "awk"},
			},
			req:      Request{Packages: []string{"a"}, Policy: runtime},
			want:     []string{"a=1"},
			wantCuts: []Cut{{From: "a", To: "awk", Relation: "awk", Reason: whyTool}},
		},
		{
			name: "cut provider skipped for an uncut one",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "awk"},
				{Name: "mawk", Version: "1.3.4", Provides: "awk"},
				{Name: "tiny-awk", Version: "1", Provides: "awk"},
			},
			req:  Request{Packages: []string{"a"}, Policy: runtime},
			want: []string{"a=1", "tiny-awk=1"},
		},
		{
			name: "dependency cycles terminate",
			pkgs: []P{
				{Name: "a", Version: "1", Depends: "b"},
				{Name: "b", Version: "1", Depends: "c, b"},
				{Name: "c", Version: "1", PreDepends: "a (>= 1)"},
			},
			req:     Request{Packages: []string{"a"}},
			want:    []string{"a=1", "b=1", "c=1"},
			wantWhy: map[string][]string{"a": {"requested", "c Pre-Depends"}, "b": {"a Depends", "b Depends"}},
		},
		{
			name: "essential packages are not added",
			pkgs: []P{
				{Name: "a", Version: "1"},
				{Name: "r", Version: "1"},
				{Name: "base-files", Version: "13", Essential: true},
				{Name: "bash", Version: "5.2", Essential: true},
			},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a=1"},
		},
		{
			name: "duplicate requests collapse",
			pkgs: []P{{Name: "a", Version: "1"}},
			req:  Request{Packages: []string{"a", " a ", "a=1"}},
			want: []string{"a=1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req.Arch == "" {
				req.Arch = "amd64"
			}
			if req.Policy.Cut == nil {
				req.Policy = dev
			}
			res, err := Resolve(universeOf(tc.pkgs...), req)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := names(res); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("packages\n got %q\nwant %q", got, tc.want)
			}
			for name, want := range tc.wantWhy {
				i := slices.IndexFunc(res.Packages, func(s Selected) bool { return s.Pkg.Name == name })
				if i < 0 {
					t.Errorf("%s not selected; want why %q", name, want)
					continue
				}
				if got := res.Packages[i].Why; !reflect.DeepEqual(got, want) {
					t.Errorf("why %s = %q, want %q", name, got, want)
				}
			}
			if !reflect.DeepEqual(res.Cuts, tc.wantCuts) {
				t.Errorf("cuts\n got %+v\nwant %+v", res.Cuts, tc.wantCuts)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	runtime := RuntimePolicy()
	tests := []struct {
		name string
		pkgs []P
		req  Request
		want []string // substrings of the error
	}{
		{
			name: "unknown package with chain and suggestion",
			pkgs: []P{
				{Name: "python3.13", Version: "3.13.5-2", Depends: "libpython3.13-stdlib"},
				{Name: "libpython3.13-stdlib", Version: "3.13.5-2", Depends: "libc6, libfoo"},
				{Name: "libc6", Version: "2.41-12", Suite: "trixie-updates"},
				{Name: "libfoo1", Version: "1.0-1"},
			},
			req:  Request{Packages: []string{"python3.13"}},
			want: []string{"resolve: python3.13 → libpython3.13-stdlib → libfoo: no such package in trixie,trixie-updates (amd64); did you mean libfoo1?"},
		},
		{
			name: "unknown requested package",
			pkgs: []P{{Name: "curl", Version: "8"}},
			req:  Request{Packages: []string{"crul"}},
			want: []string{"resolve: crul: no such package in trixie (amd64); did you mean curl?"},
		},
		{
			name: "package only for another architecture",
			pkgs: []P{{Name: "a", Version: "1", Depends: "b"}, {Name: "b", Version: "1", Arch: "arm64"}},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a → b: no such package in trixie (amd64); it exists only for arm64"},
		},
		{
			name: "all problems reported together",
			pkgs: []P{{Name: "a", Version: "1", Depends: "x1"}, {Name: "b", Version: "1", Depends: "x2"}},
			req:  Request{Packages: []string{"a", "b"}},
			want: []string{"a → x1: no such package", "b → x2: no such package"},
		},
		{
			name: "unsatisfiable version",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "libbar"},
				{Name: "libbar", Version: "1", Depends: "libfoo (>= 2.0)"},
				{Name: "libfoo", Version: "1.5-1", Suite: "trixie-security"},
				{Name: "libfoo", Version: "1.4-2"},
			},
			req:  Request{Packages: []string{"app"}},
			want: []string{"resolve: app → libbar: Depends libfoo (>= 2.0): libfoo 1.5-1 does not satisfy (>= 2.0); available in trixie,trixie-security (amd64): 1.5-1, 1.4-2"},
		},
		{
			name: "unsatisfiable version suggests a pin",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "libfoo (<< 1.5)"},
				{Name: "libfoo", Version: "1.5-1", Suite: "trixie-security"},
				{Name: "libfoo", Version: "1.4-2"},
			},
			req:  Request{Packages: []string{"app"}},
			want: []string{"pin libfoo=1.4-2 in packages"},
		},
		{
			name: "epoch makes a higher-looking version too old",
			pkgs: []P{{Name: "a", Version: "1", Depends: "b (>= 1:1.0)"}, {Name: "b", Version: "2.0"}},
			req:  Request{Packages: []string{"a"}},
			want: []string{"b 2.0 does not satisfy (>= 1:1.0)"},
		},
		{
			name: "unversioned provides does not satisfy a versioned relation",
			pkgs: []P{{Name: "a", Version: "1", Depends: "foo (>= 1)"}, {Name: "bar", Version: "1", Provides: "foo"}},
			req:  Request{Packages: []string{"a"}},
			want: []string{"foo is virtual and no provider satisfies (>= 1): provided by bar (unversioned)"},
		},
		{
			name: "no alternative satisfiable",
			pkgs: []P{{Name: "a", Version: "1", Depends: "b (>= 2) | c"}, {Name: "b", Version: "1"}},
			req:  Request{Packages: []string{"a"}},
			want: []string{"a: Depends b (>= 2) | c: no alternative can be satisfied: b 1 does not satisfy (>= 2)", "c: no such package"},
		},
		{
			name: "virtual with several providers",
			pkgs: []P{
				{Name: "app", Version: "1", Depends: "mail-transport-agent"},
				{Name: "postfix", Version: "3.9", Provides: "mail-transport-agent"},
				{Name: "exim4", Version: "4.97", Provides: "mail-transport-agent"},
			},
			req:  Request{Packages: []string{"app"}},
			want: []string{"virtual package mail-transport-agent is provided by: exim4, postfix; add one to packages"},
		},
		{
			name: "requested virtual with several providers",
			pkgs: []P{{Name: "mawk", Version: "1", Provides: "awk"}, {Name: "gawk", Version: "1", Provides: "awk"}},
			req:  Request{Packages: []string{"awk"}},
			want: []string{"virtual package awk is provided by: gawk, mawk; add one to packages"},
		},
		{
			name: "foreign architecture qualifier",
			pkgs: []P{{Name: "a", Version: "1", Depends: "libc6:i386"}, {Name: "libc6", Version: "2.41"}},
			req:  Request{Packages: []string{"a"}},
			want: []string{"libc6: qualified for architecture i386, resolving amd64"},
		},
		{
			name: "policy cuts a direct request",
			pkgs: []P{{Name: "bash", Version: "5.2"}},
			req:  Request{Packages: []string{"bash"}, Policy: runtime},
			want: []string{"resolve: bash is requested but the runtime profile cuts it (shell: not in runtime images); use profile: dev or remove it"},
		},
		{
			name: "policy glob cuts a direct request",
			pkgs: []P{{Name: "perl-modules-5.40", Version: "5.40.1-6"}},
			req:  Request{Packages: []string{"perl-modules-5.40"}, Policy: runtime},
			want: []string{"perl-modules-5.40 is requested but the runtime profile cuts it (perl:"},
		},
		{
			name: "requested and excluded",
			pkgs: []P{{Name: "a", Version: "1"}},
			req:  Request{Packages: []string{"a"}, Exclude: []string{"a"}},
			want: []string{"a is both requested and excluded"},
		},
		{
			name: "pin to a missing version lists the available ones",
			pkgs: []P{
				{Name: "libfoo", Version: "1.2-3"},
				{Name: "libfoo", Version: "1.2-4", Suite: "trixie-security"},
			},
			req:  Request{Packages: []string{"libfoo=1.2-9"}},
			want: []string{"resolve: libfoo=1.2-9: no such version in trixie,trixie-security (amd64); available: 1.2-4, 1.2-3"},
		},
		{
			name: "conflicting pins",
			pkgs: []P{{Name: "a", Version: "1"}, {Name: "a", Version: "2"}},
			req:  Request{Packages: []string{"a=1", "a=2"}},
			want: []string{"a is pinned to both 1 and 2"},
		},
		{
			name: "malformed depends names the package",
			pkgs: []P{{Name: "a", Version: "1", Depends: "b (>= 1"}},
			req:  Request{Packages: []string{"a"}},
			want: []string{`resolve: a: Depends of a 1: relations "b (>= 1": "b (>= 1": missing ')'`},
		},
		{
			name: "no architecture",
			req:  Request{Packages: []string{"a"}, Arch: "-"},
			want: []string{"no target architecture"},
		},
		{
			name: "nothing requested",
			req:  Request{},
			want: []string{"no packages requested"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			switch req.Arch {
			case "":
				req.Arch = "amd64"
			case "-":
				req.Arch = ""
			}
			if req.Policy.Cut == nil {
				req.Policy = DevPolicy()
			}
			res, err := Resolve(universeOf(tc.pkgs...), req)
			if err == nil {
				t.Fatalf("Resolve = %q, want an error", names(res))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
				}
			}
		})
	}
}

// TestResolveDeterministic runs a universe rich in choices many times: map iteration order
// differs between runs, so any leak of it into the result shows up as a difference.
func TestResolveDeterministic(t *testing.T) {
	var ps []P
	for i := range 40 {
		ps = append(ps, P{
			Name:     fmt.Sprintf("p%02d", i),
			Version:  "1",
			Depends:  fmt.Sprintf("p%02d | v%d, bash | dash | x%d, virt-a", (i+7)%40, i%3, i%5),
			Provides: fmt.Sprintf("v%d", i%4),
		})
	}
	ps = append(ps, P{Name: "only-a", Version: "1", Provides: "virt-a"},
		P{Name: "bash", Version: "5"}, P{Name: "dash", Version: "0.5"})
	for i := range 5 {
		ps = append(ps, P{Name: fmt.Sprintf("x%d", i), Version: "1", Depends: "perl-base"})
	}
	pkgs := universeOf(ps...)
	req := Request{Packages: []string{"p00", "p13"}, Policy: RuntimePolicy(), Arch: "amd64"}
	first, err := Resolve(pkgs, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Cuts) == 0 {
		t.Fatal("want some cuts in this universe")
	}
	for range 30 {
		again, err := Resolve(pkgs, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("results differ between runs:\n%+v\n%+v", first, again)
		}
	}
}

func TestPolicy(t *testing.T) {
	rt := RuntimePolicy()
	for _, name := range []string{"bash", "dash", "dpkg", "apt", "debconf", "perl-base", "perl-modules-5.40",
		"coreutils", "libc-bin", "adduser", "init-system-helpers"} {
		if _, ok := rt.Reason(name); !ok {
			t.Errorf("runtime policy keeps %s", name)
		}
	}
	// Libraries and data packages that real programs need must stay.
	for _, name := range []string{"libc6", "libperl5.40", "readline-common", "tzdata", "ca-certificates",
		"base-files", "libgcc-s1", "gcc-14-base", "libapt-pkg7.0", "libdebconfclient0"} {
		if r, ok := rt.Reason(name); ok {
			t.Errorf("runtime policy cuts %s (%s)", name, r)
		}
	}
	for name, reason := range rt.Cut {
		if reason == "" {
			t.Errorf("runtime policy cuts %s without a reason", name)
		}
	}
	if len(DevPolicy().Cut) != 0 {
		t.Errorf("dev policy cuts %v", DevPolicy().Cut)
	}
	// debug: the runtime policy letting busybox-static, and only it, through.
	dbg := DebugPolicy()
	if _, ok := dbg.Reason("busybox-static"); ok {
		t.Error("debug policy cuts busybox-static")
	}
	if len(dbg.Cut) != len(rt.Cut)-1 || dbg.Name != "debug" {
		t.Errorf("debug policy %q cuts %d names, runtime %d", dbg.Name, len(dbg.Cut), len(rt.Cut))
	}
	if _, ok := RuntimePolicy().Reason("busybox-static"); !ok {
		t.Error("DebugPolicy changed the runtime policy")
	}
}
