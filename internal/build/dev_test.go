package build

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/assemble"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/resolve"
	"github.com/spartan-images/spartan/internal/spec"
)

func TestRequestedPackages(t *testing.T) {
	pkgs := []*archive.Package{
		{Name: "dash", Architecture: "amd64", Essential: true},
		{Name: "dash", Architecture: "amd64", Essential: true}, // the same package from -updates
		{Name: "base-files", Architecture: "amd64", Essential: true},
		{Name: "ncurses-base", Architecture: "all", Essential: true},
		{Name: "perl-base", Architecture: "amd64", Essential: true},
		{Name: "foreign", Architecture: "arm64", Essential: true},
		{Name: "libc6", Architecture: "amd64"},
	}
	tests := []struct {
		name    string
		profile spec.Profile
		want    []string
	}{
		{"runtime asks for the spec's packages only", spec.Runtime, []string{"base-files", "apt"}},
		{"dev adds the Essential set, minus excludes, once", spec.Dev, []string{"base-files", "apt", "dash", "ncurses-base"}},
		{"debug adds busybox-static", spec.Debug, []string{"base-files", "apt", "busybox-static"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Spec: &spec.Spec{Profile: tt.profile, Packages: []string{"base-files", "apt"}, Exclude: []string{"perl-base"}}}
			if got := o.requestedPackages(pkgs, "amd64"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckDevClosure(t *testing.T) {
	res := &resolve.Result{Cuts: []resolve.Cut{{From: "ca-certificates", To: "openssl"}, {From: "x", To: "openssl"}, {From: "base-files", To: "mawk"}}}
	if err := checkDevClosure(&spec.Spec{Profile: spec.Runtime}, res); err != nil {
		t.Errorf("runtime: %v", err)
	}
	if err := checkDevClosure(&spec.Spec{Profile: spec.Dev}, &resolve.Result{}); err != nil {
		t.Errorf("dev without cuts: %v", err)
	}
	err := checkDevClosure(&spec.Spec{Name: "py", Profile: spec.Dev}, res)
	if err == nil || !strings.Contains(err.Error(), "(mawk, openssl)") || !strings.Contains(err.Error(), "allow") {
		t.Errorf("err = %v", err)
	}
}

func TestAptSources(t *testing.T) {
	key := filepath.Join(t.TempDir(), "extra.asc")
	if err := os.WriteFile(key, []byte("KEY"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{
		Mirrors: Mirrors{Main: "http://mirror.invalid/debian", Security: "http://mirror.invalid/debian-security"},
		Spec: &spec.Spec{Repositories: []spec.Repository{
			{Archive: spec.ArchiveMain, Suites: []string{"trixie", "trixie-updates"}, Components: []string{"main"}},
			{Archive: spec.ArchiveSecurity, Suites: []string{"trixie-security"}, Components: []string{"main"}},
			{URL: "http://other.invalid/repo", Suites: []string{"stable"}, Components: []string{"main"}, Keyring: key},
		}},
	}
	got, err := o.aptSources()
	if err != nil {
		t.Fatal(err)
	}
	want := []assemble.AptSource{
		{URI: "http://mirror.invalid/debian", Suites: []string{"trixie", "trixie-updates"}, Components: []string{"main"}},
		{URI: "http://mirror.invalid/debian-security", Suites: []string{"trixie-security"}, Components: []string{"main"}},
		{URI: "http://other.invalid/repo", Suites: []string{"stable"}, Components: []string{"main"}, Key: []byte("KEY"), KeyName: "spartan-repository-3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	o.Mirrors = Mirrors{}
	if _, err := o.aptSources(); err == nil || !strings.Contains(err.Error(), "no mirror configured") {
		t.Errorf("without mirrors: %v", err)
	}
}

func TestWithAptUser(t *testing.T) {
	got := withAptUser([]assemble.User{{Name: "app", UID: 1000}})
	if len(got) != 2 || got[1] != (assemble.User{Name: "_apt", UID: 42, GID: 65534}) {
		t.Errorf("got %+v", got)
	}
	own := []assemble.User{{Name: "_apt", UID: 100}}
	if got := withAptUser(own); !reflect.DeepEqual(got, own) {
		t.Errorf("a spec's own _apt was replaced: %+v", got)
	}
}

func TestDebugEnv(t *testing.T) {
	tests := []struct {
		profile spec.Profile
		env     map[string]string
		want    string
	}{
		{spec.Runtime, nil, "PATH=" + DefaultPath},
		{spec.Debug, nil, "PATH=" + DefaultPath + ":/busybox"},
		{spec.Debug, map[string]string{"PATH": "/app/bin"}, "PATH=/app/bin:/busybox"},
	}
	for _, tt := range tests {
		o := Options{Spec: &spec.Spec{Profile: tt.profile, Env: tt.env}}
		if env := o.env(); !slices.Contains(env, tt.want) {
			t.Errorf("%s %v: env %v lacks %q", tt.profile, tt.env, env, tt.want)
		}
	}
	if opts := (Options{Spec: &spec.Spec{Profile: spec.Debug}}).assembleOptions("amd64", nil); !opts.BusyboxLinks || !opts.StripSetuid {
		t.Errorf("debug assemble options %+v", opts)
	}
}
