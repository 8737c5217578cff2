package spec

import (
	"reflect"
	"strings"
	"testing"
)

const variantBase = `name: app
description: base
packages: [libc6, ca-certificates]
exclude: [perl-base]
certificates: [certs/a.pem]
paths:
  - {path: /app, type: directory}
env: {LANG: C.UTF-8, MODE: prod}
labels: {team: infra}
accounts:
  users: [{name: app, uid: 1000}]
  run-as: app
entrypoint: [/app/run]
cmd: [--serve]
archs: [amd64]
trim: {docs: false, keep-locales: [C.UTF-8, en_US.UTF-8]}
tags: [app:1.0, registry.invalid/app:1.0]
layers: 6
`

func TestVariantOverlay(t *testing.T) {
	tests := []struct {
		name    string
		overlay string
		check   func(*Spec) any
		want    any
	}{
		{"empty overlay is the base with its own tags", "{}",
			func(s *Spec) any { return []any{s.Packages, s.Description, s.Layers, s.Tags} },
			[]any{[]string{"libc6", "ca-certificates"}, "base", 6, []string{"app:1.0-v", "registry.invalid/app:1.0-v"}}},
		{"packages append, repeats dropped", "{packages: [bash, libc6]}",
			func(s *Spec) any { return s.Packages },
			[]string{"libc6", "ca-certificates", "bash"}},
		{"exclude appends", "{exclude: [debconf]}",
			func(s *Spec) any { return s.Exclude }, []string{"perl-base", "debconf"}},
		{"allow lifts an inherited exclude", "{allow: [perl-base, busybox-static]}",
			func(s *Spec) any { return []any{s.Exclude, s.Allow} },
			[]any{[]string{}, []string{"perl-base", "busybox-static"}}},
		{"allow lets an excluded package be requested", "{allow: [perl-base], packages: [perl-base]}",
			func(s *Spec) any { return []any{s.Exclude, s.Packages} },
			[]any{[]string{}, []string{"libc6", "ca-certificates", "perl-base"}}},
		{"certificates append", "{certificates: [certs/b.pem, certs/a.pem]}",
			func(s *Spec) any { return len(s.Certificates) }, 2},
		{"paths append", "{paths: [{path: /data, type: directory, mode: '0700'}]}",
			func(s *Spec) any { return s.Paths },
			[]Path{{Path: "/app", Type: Directory, Mode: 0o755}, {Path: "/data", Type: Directory, Mode: 0o700}}},
		{"users append", "{accounts: {users: [{name: dev, uid: 1001}]}}",
			func(s *Spec) any { return []any{len(s.Accounts.Users), s.Accounts.RunAs, len(s.Accounts.Groups)} },
			[]any{2, "app", 2}},
		{"scalars replace", "{description: debug build, release: bookworm, layers: 12, workdir: /tmp}",
			func(s *Spec) any {
				return []any{s.Description, s.Release, s.Repositories[0].Suites, s.Layers, s.Workdir}
			},
			[]any{"debug build", "bookworm", []string{"bookworm", "bookworm-updates"}, 12, "/tmp"}},
		{"argv lists replace", "{entrypoint: [/bin/sh], cmd: []}",
			func(s *Spec) any { return []any{s.Entrypoint, s.Cmd} },
			[]any{[]string{"/bin/sh"}, []string{}}},
		{"archs replace", "{archs: [arm64]}",
			func(s *Spec) any { return s.Archs }, []string{"arm64"}},
		{"maps merge keys", "{env: {MODE: dev, DEBUG: '1'}, labels: {tier: dev}}",
			func(s *Spec) any { return []any{s.Env, s.Labels} },
			[]any{map[string]string{"LANG": "C.UTF-8", "MODE": "dev", "DEBUG": "1"},
				map[string]string{"team": "infra", "tier": "dev"}}},
		{"trim merges field by field", "{trim: {man: false, keep-locales: [de_DE.UTF-8]}}",
			func(s *Spec) any { return s.Trim },
			Trim{Docs: false, Man: false, Locales: true, KeepLocales: []string{"de_DE.UTF-8"}}},
		{"java modules replace", "{trim: {java-modules: [jdk.jshell]}}",
			func(s *Spec) any { return s.Trim },
			Trim{Docs: false, Man: true, Locales: true, KeepLocales: []string{"C.UTF-8", "en_US.UTF-8"}, JavaModules: []string{"jdk.jshell"}}},
		{"tags replace", "{tags: ['app:debug']}",
			func(s *Spec) any { return s.Tags }, []string{"app:debug"}},
		{"profile switch drops the base run-as", "{profile: dev}",
			func(s *Spec) any { return []any{s.Profile, s.Accounts.User(), s.Workdir} },
			[]any{Dev, "0:0", "/"}},
		{"debug profile keeps the base run-as", "{profile: debug}",
			func(s *Spec) any { return []any{s.Profile, s.Accounts.User()} },
			[]any{Debug, "1000:1000"}},
		{"profile switch keeps an explicit run-as", "{profile: dev, accounts: {run-as: app}}",
			func(s *Spec) any { return s.Accounts.User() }, "1000:1000"},
		{"same profile keeps the base run-as", "{profile: runtime}",
			func(s *Spec) any { return s.Accounts.User() }, "1000:1000"},
		{"repositories replace", "{repositories: [{url: 'https://mirror.invalid/extra', suites: [stable]}]}",
			func(s *Spec) any { return s.Repositories },
			[]Repository{{URL: "https://mirror.invalid/extra", Suites: []string{"stable"}, Components: []string{"main"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := variantBase + "variants:\n  v: " + tt.overlay + "\n"
			s := mustParse(t, src)
			v, err := s.Variant("v")
			if err != nil {
				t.Fatal(err)
			}
			if v.VariantName != "v" || v.Name != "app" {
				t.Errorf("VariantName=%q Name=%q", v.VariantName, v.Name)
			}
			if got := tt.check(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			// The base must not see any of it.
			b, _ := s.Variant("")
			if !reflect.DeepEqual(b.Packages, []string{"libc6", "ca-certificates"}) || b.Description != "base" ||
				len(b.Env) != 2 || len(b.Paths) != 1 || b.Accounts.User() != "1000:1000" || b.Tags[0] != "app:1.0" {
				t.Errorf("base changed: %+v", b)
			}
		})
	}
}

func TestVariantAPI(t *testing.T) {
	s := mustParse(t, "name: t\npackages: [libc6]\nvariants:\n  dev: {profile: dev}\n  debug: {packages: [busybox]}\n")
	if got := s.VariantNames(); !reflect.DeepEqual(got, []string{"debug", "dev"}) {
		t.Errorf("VariantNames = %v", got)
	}
	for _, name := range []string{"", "runtime"} {
		b, err := s.Variant(name)
		if err != nil || b.VariantName != "" || b.Profile != Runtime {
			t.Errorf("Variant(%q) = %+v, %v", name, b, err)
		}
	}
	_, err := s.Variant("slim")
	want := `images/t/spartan.yaml: unknown variant "slim"; available: runtime (the base), debug, dev`
	if err == nil || err.Error() != want {
		t.Errorf("Variant(slim) error = %v, want %s", err, want)
	}

	// Callers get copies: changing one must not leak into the next.
	d, _ := s.Variant("debug")
	d.Packages[0] = "changed"
	d.Env["X"] = "y"
	d2, _ := d.Variant("debug") // any spec of the family reaches its siblings
	if d2.Packages[0] != "libc6" || len(d2.Env) != 0 {
		t.Errorf("Variant returned shared state: %+v", d2)
	}
	if d2.Digest() != s.Digest() || len(s.Digest()) != 64 {
		t.Errorf("Digest differs between variants or is malformed: %q", d2.Digest())
	}
	var zero Spec
	if _, err := zero.Variant("dev"); err == nil || zero.Digest() != "" || len(zero.VariantNames()) != 0 {
		t.Error("a Spec not made by Parse must not pretend to have variants")
	}
}

func TestVariantDefaultTagsTooLong(t *testing.T) {
	tag := "t:" + strings.Repeat("x", 127)
	_, err := Parse(testFile, []byte("name: t\npackages: [libc6]\ntags: ['"+tag+"']\nvariants:\n  dev: {}\n"))
	want := testFile + `:5:3: variants.dev: default tag: invalid tag "` + tag + `-dev": expected [registry/]repository[:tag], e.g. python:3.13; set tags in the variant`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// A dev variant that installs the JDK must be able to keep the modules its runtime base removes.
func TestVariantKeepsJavaModules(t *testing.T) {
	s := mustParse(t, "name: j\npackages: [libc6]\ntrim: {java-modules: [jdk.compiler]}\nvariants:\n  dev: {trim: {java-modules: []}}\n  debug: {trim: {docs: false}}\n")
	if got := s.Trim.JavaModules; !reflect.DeepEqual(got, []string{"jdk.compiler"}) {
		t.Errorf("base: %q", got)
	}
	for name, want := range map[string]int{"dev": 0, "debug": 1} {
		v, err := s.Variant(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Trim.JavaModules) != want {
			t.Errorf("%s: java-modules = %q, want %d", name, v.Trim.JavaModules, want)
		}
	}
}
