package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"gopkg.in/yaml.v3"

	"github.com/spartan-images/spartan/internal/plan"
	"github.com/spartan-images/spartan/internal/registry"
	"github.com/spartan-images/spartan/internal/spec"
)

// newRegistry is an in-process registry; it returns its host:port.
func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func newPlan(t *testing.T, o plan.Options) *plan.Plan {
	t.Helper()
	if o.Version == "" {
		o.Version = "test"
	}
	p, err := plan.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanUnits(t *testing.T) {
	dir := t.TempDir()
	files := catalog(t, dir, 16)
	p := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "localhost:5000/ci"})
	// One unit per variant (runtime and the spec's own) and architecture; one index per variant.
	var wantUnits, wantIndexes int
	for _, f := range files {
		s, err := spec.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		wantUnits += (1 + len(s.VariantNames())) * len(s.Archs)
		wantIndexes += 1 + len(s.VariantNames())
	}
	if len(p.Units) != wantUnits {
		t.Fatalf("%d units, want %d", len(p.Units), wantUnits)
	}
	if len(p.Indexes) != wantIndexes {
		t.Fatalf("%d indexes, want %d", len(p.Indexes), wantIndexes)
	}
	keys := map[string]string{}
	for _, u := range p.Units {
		if other, dup := keys[u.Key]; dup {
			t.Errorf("units %s and %s share key %s", u.ID, other, u.Key)
		}
		keys[u.Key] = u.ID
		wantRef := "localhost:5000/ci/spartan/" + u.Image + ":key-" + u.Key
		if u.Ref != wantRef {
			t.Errorf("%s: ref %s, want %s", u.ID, u.Ref, wantRef)
		}
		if u.Level != 0 || len(u.Needs) != 0 {
			t.Errorf("%s: level %d needs %v; no spec extends another", u.ID, u.Level, u.Needs)
		}
	}
	static := "static-7/runtime"
	ix, err := p.Index("static-7")
	if err != nil {
		t.Fatal(err)
	}
	if ix.ID != static || !slices.Equal(ix.Units, []string{static + "/amd64", static + "/arm64"}) {
		t.Errorf("index %s units %v", ix.ID, ix.Units)
	}
	if want := []string{"localhost:5000/ci/spartan/static-7:latest", "localhost:5000/ci/spartan/static-7:nonroot"}; !slices.Equal(ix.Tags, want) {
		t.Errorf("tags %v, want %v", ix.Tags, want)
	}

	// Planning twice gives the same keys; another Spartan version gives others.
	again := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "localhost:5000/ci"})
	other := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "localhost:5000/ci", Version: "test2"})
	for i, u := range p.Units {
		if again.Units[i].Key != u.Key {
			t.Errorf("%s: key changed between two plans", u.ID)
		}
		if other.Units[i].Key == u.Key {
			t.Errorf("%s: same key for another Spartan version", u.ID)
		}
	}
}

func TestMirrorMattersToDevOnly(t *testing.T) {
	dir := t.TempDir()
	catalog(t, dir, 1)
	a := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "r.example/x"})
	b := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "r.example/x"})
	o := plan.Options{Specs: []string{dir}, Registry: "r.example/x", Version: "test"}
	o.Mirrors.Main = "http://other.invalid/debian"
	c := newPlan(t, o)
	for i, u := range a.Units {
		if b.Units[i].Key != u.Key {
			t.Fatalf("%s: key not stable", u.ID)
		}
		if changed := c.Units[i].Key != u.Key; changed != (u.Variant == "dev") {
			t.Errorf("%s: key changed with the mirror: %v, want %v", u.ID, changed, u.Variant == "dev")
		}
	}
}

// satisfy pushes a stand-in image under every key tag, as if every unit and index had run.
func satisfy(t *testing.T, p *plan.Plan) {
	t.Helper()
	c := registry.New("test")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, u := range p.Units {
		refs = append(refs, u.Ref)
	}
	for _, ix := range p.Indexes {
		refs = append(refs, ix.Ref)
	}
	for _, r := range refs {
		ref, err := registry.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(context.Background(), ref, img); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBumpPlansOnlyAffectedUnits(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	dir := t.TempDir()
	files := catalog(t, dir, 16)
	o := plan.Options{Specs: []string{dir}, Registry: reg + "/ci", Version: "test"}
	p := newPlan(t, o)
	r := plan.Remote{Client: registry.New("test")}
	if err := p.Check(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := len(p.Pending().Units); n != len(p.Units) {
		t.Fatalf("empty registry: %d pending units of %d", n, len(p.Units))
	}
	satisfy(t, p)
	p = newPlan(t, o)
	if err := p.Check(ctx, r); err != nil {
		t.Fatal(err)
	}
	if left := p.Pending(); len(left.Units)+len(left.Indexes) != 0 {
		t.Fatalf("after every unit ran, pending: %d units, %d indexes", len(left.Units), len(left.Indexes))
	}

	// A security update of one package reaches one spec's lock (every variant, every arch).
	bumped := files[5]
	writeLocks(t, bumped, map[string]string{"extra-5": "1.0+deb13u1"})
	p = newPlan(t, o)
	if err := p.Check(ctx, r); err != nil {
		t.Fatal(err)
	}
	left := p.Pending()
	image := filepath.Base(filepath.Dir(bumped))
	var got []string
	for _, u := range left.Units {
		got = append(got, u.ID)
	}
	var want []string
	for _, v := range []string{"runtime", "debug", "dev"} {
		for _, a := range []string{"amd64", "arm64"} {
			want = append(want, image+"/"+v+"/"+a)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after one bump, pending units %v, want %v", got, want)
	}
	if len(left.Indexes) != 3 {
		t.Errorf("after one bump, %d pending indexes, want the 3 variants of %s", len(left.Indexes), image)
	}
}

func TestAffectedBySource(t *testing.T) {
	dir := t.TempDir()
	catalog(t, dir, 8)
	p := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "r.example"})
	for _, tc := range []struct {
		source string
		want   func(u *plan.Unit) bool
	}{
		// libssl3t64 comes from openssl; the base image and the dev variants of others hold it.
		{"openssl", func(u *plan.Unit) bool { return slices.Contains(u.Sources, "openssl") }},
		{"extra-3", func(u *plan.Unit) bool { return u.Image == "java25-3" }},
		{"no-such-source", func(*plan.Unit) bool { return false }},
	} {
		a := p.Affected([]string{tc.source})
		n := 0
		for _, u := range p.Units {
			if tc.want(u) {
				n++
			}
		}
		if len(a.Units) != n {
			t.Errorf("%s: %d units, want %d", tc.source, len(a.Units), n)
		}
		for _, ix := range a.Indexes {
			if !slices.ContainsFunc(a.Units, func(u *plan.Unit) bool { return slices.Contains(ix.Units, u.ID) }) {
				t.Errorf("%s: index %s has none of the affected units", tc.source, ix.ID)
			}
		}
	}
	if n := len(p.Affected([]string{"openssl"}).Units); n == 0 || n == len(p.Units) {
		t.Errorf("openssl affects %d of %d units: the catalog should hold it in some images only", n, len(p.Units))
	}
}

func TestMatrices(t *testing.T) {
	dir := t.TempDir()
	catalog(t, dir, 2)
	p := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "r.example", Variants: []string{"runtime"}})
	units, indexes := p.GitHub(-1)
	data, err := json.Marshal(units)
	if err != nil {
		t.Fatal(err)
	}
	var gh struct {
		Include []map[string]string `json:"include"`
	}
	if err := json.Unmarshal(data, &gh); err != nil {
		t.Fatal(err)
	}
	if len(gh.Include) != 4 || len(indexes.Include) != 2 {
		t.Fatalf("github: %d units, %d indexes; want 4 and 2", len(gh.Include), len(indexes.Include))
	}
	for _, e := range gh.Include {
		for _, k := range []string{"spec", "variant", "arch", "ref"} {
			if e[k] == "" {
				t.Errorf("github entry %v has no %s", e, k)
			}
		}
	}

	var b bytes.Buffer
	if err := p.WriteGitLab(&b, -1); err != nil {
		t.Fatal(err)
	}
	var gl map[string]struct {
		Parallel struct {
			Matrix []struct {
				Spec    string   `yaml:"SPEC"`
				Variant string   `yaml:"VARIANT"`
				Arch    []string `yaml:"ARCH"`
			}
		}
	}
	if err := yaml.Unmarshal(b.Bytes(), &gl); err != nil {
		t.Fatalf("gitlab matrix is not YAML: %v\n%s", err, b.String())
	}
	um, im := gl[".spartan-units"].Parallel.Matrix, gl[".spartan-indexes"].Parallel.Matrix
	if len(um) != 2 || len(im) != 2 {
		t.Fatalf("gitlab: %d unit entries, %d index entries; want 2 and 2\n%s", len(um), len(im), b.String())
	}
	for _, e := range um {
		if !slices.Equal(e.Arch, []string{"amd64", "arm64"}) || e.Variant != "runtime" || !strings.HasSuffix(e.Spec, "spartan.yaml") {
			t.Errorf("gitlab entry %+v", e)
		}
	}
	empty := p.Affected([]string{"nothing"})
	if err := empty.WriteGitLab(&b, -1); err == nil {
		t.Error("an empty gitlab matrix was written; GitLab refuses one")
	}
}

// Without a registry a plan has keys (enough for a GitLab matrix) but cannot be checked.
func TestPlanWithoutRegistry(t *testing.T) {
	dir := t.TempDir()
	catalog(t, dir, 1)
	p := newPlan(t, plan.Options{Specs: []string{dir}})
	withReg := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "r.example"})
	for i, u := range p.Units {
		if u.Ref != "" || u.Key != withReg.Units[i].Key {
			t.Errorf("%s: ref %q, key %s; want no ref and key %s", u.ID, u.Ref, u.Key, withReg.Units[i].Key)
		}
	}
	var b bytes.Buffer
	if err := p.WriteGitLab(&b, -1); err != nil {
		t.Error(err)
	}
	if err := p.Check(context.Background(), plan.Remote{Client: registry.New("test")}); err == nil || !strings.Contains(err.Error(), "--registry") {
		t.Errorf("check without a registry: %v", err)
	}
}

func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	files := catalog(t, dir, 1)
	noLock := t.TempDir()
	catalog(t, noLock, 1)
	locks, _ := filepath.Glob(filepath.Join(noLock, "*", "spartan.lock.json"))
	for _, l := range locks {
		if err := removeFile(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		o    plan.Options
		want string
	}{
		{"bad registry", plan.Options{Specs: files, Registry: "UPPER CASE/x"}, "--registry"},
		{"no specs", plan.Options{Registry: "r.example"}, "no specs"},
		{"missing spec", plan.Options{Specs: []string{filepath.Join(dir, "nope")}, Registry: "r.example"}, "nope"},
		{"empty folder", plan.Options{Specs: []string{t.TempDir()}, Registry: "r.example"}, "holds no spartan.yaml"},
		{"no lock", plan.Options{Specs: []string{noLock}, Registry: "r.example"}, "spartan lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plan.New(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// BenchmarkPlanCatalog plans a generated catalog of 200 specs (every variant and
// architecture, 1200 units) from their specs and locks; docs/BENCHMARKS.md has the figures.
func BenchmarkPlanCatalog(b *testing.B) {
	dir := b.TempDir()
	catalog(b, dir, 200)
	o := plan.Options{Specs: []string{dir}, Registry: "localhost:5000/ci", Version: "bench"}
	// CPU time as well as wall time: on a shared machine the wall time says more about the
	// neighbours than about planning.
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		p, err := plan.New(o)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Units) != 1200 {
			b.Fatalf("%d units", len(p.Units))
		}
		n++
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		b.Fatal(err)
	}
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/op")
}

// A custom image runs after its base (same variant and architecture), and its keys change
// when the base's spec does.
func TestCustomImageAfterItsBase(t *testing.T) {
	dir := t.TempDir()
	files := catalog(t, dir, 8)
	static := files[7] // static-7
	app := filepath.Join(dir, "app", "spartan.yaml")
	if err := os.MkdirAll(filepath.Dir(app), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(app, []byte("name: app\nbase: ../static-7\npackages: [app-bin]\ntags: [example.com/app:1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeLocks(t, app, nil)
	o := plan.Options{Specs: []string{dir}, Registry: "r.example"}
	p := newPlan(t, o)
	units := map[string]*plan.Unit{}
	for _, u := range p.Units {
		units[u.ID] = u
	}
	for _, v := range []string{"runtime", "dev", "debug"} {
		for _, a := range []string{"amd64", "arm64"} {
			u := units["app/"+v+"/"+a]
			if u == nil {
				t.Fatalf("no unit app/%s/%s", v, a)
			}
			if want := []string{"static-7/" + v + "/" + a}; u.Level != 1 || !slices.Equal(u.Needs, want) {
				t.Errorf("%s: level %d needs %v, want level 1 needing %v", u.ID, u.Level, u.Needs, want)
			}
		}
	}
	if ix, err := p.Index("app"); err != nil || ix.Level != 1 {
		t.Errorf("index of app: %+v, %v; want level 1", ix, err)
	}
	if p.Levels() != 2 {
		t.Errorf("%d levels, want 2", p.Levels())
	}
	units1, _ := p.GitHub(1)
	if len(units1.Include) != 6 {
		t.Errorf("level 1 matrix has %d units, want app's 6", len(units1.Include))
	}

	// The base's spec changes; both are locked again (the app's lock records its spec with
	// its bases): the app's keys change too, nothing else's.
	data, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(static, append(data, []byte("labels:\n  team: platform\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	writeLocks(t, static, nil)
	writeLocks(t, app, nil)
	q := newPlan(t, o)
	for _, u := range q.Units {
		was := units[u.ID]
		changed := u.Key != was.Key
		if want := u.Image == "app" || u.Image == "static-7"; changed != want {
			t.Errorf("%s: key changed %v, want %v", u.ID, changed, want)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	catalog(t, dir, 1) // base-0
	p := newPlan(t, plan.Options{Specs: []string{dir}, Registry: "r.example/ci", Variants: []string{"runtime"}})
	noReg := newPlan(t, plan.Options{Specs: []string{dir}, Variants: []string{"runtime"}})
	for _, tc := range []struct {
		name, format string
		p            *plan.Plan
		want         []string // substrings of the output, or of the error
		err          bool
	}{
		{"text", "text", p, []string{"base-0/runtime/amd64", "unchecked", "base-0/runtime (index of base-0/runtime/amd64, base-0/runtime/arm64)"}, false},
		{"json", "json", p, []string{`"spartanVersion": "test"`, `"ref": "r.example/ci/spartan/base-0:key-`}, false},
		{"github", "github", p, []string{"units={\"include\":[{", "units-count=2\n", "indexes-count=1\n", "levels=1\n"}, false},
		{"gitlab", "gitlab", p, []string{".spartan-units:", ".spartan-indexes:"}, false},
		{"refs", "refs", p, []string{"r.example/ci/spartan/base-0:key-" + p.Units[0].Key + "\n"}, false},
		{"refs need a registry", "refs", noReg, []string{"--registry"}, true},
		{"unknown", "yaml", p, []string{`"yaml"`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := tc.p.Write(&b, tc.format, -1)
			got := b.String()
			if tc.err {
				if err == nil {
					t.Fatalf("no error; wrote %s", got)
				}
				got = err.Error()
			} else if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q not in:\n%s", w, got)
				}
			}
		})
	}
}
