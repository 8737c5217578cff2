//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// planned is the part of `spartan plan --format json` the tests read.
type planned struct {
	Units []struct {
		ID, Spec, Variant, Arch, Ref string
		Satisfied                    bool
	}
	Indexes []struct {
		ID, Spec, Variant, Ref string
		Tags                   []string
		Satisfied              bool
	}
}

func planJSON(t *testing.T, args ...string) planned {
	t.Helper()
	r := must(t, spartan(t, nil, append([]string{"plan", "--format", "json"}, args...)...), "spartan plan")
	var p planned
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan output: %v\n%s", err, r.stdout)
	}
	return p
}

// TestScale builds the static image (amd64 and arm64) the way a CI engine runs a plan: each
// architecture on its own "worker" (its own download cache, sharing only the registry), then
// the index step; the index must be the one a single build of both architectures makes,
// cosign must verify it, and everything run again must do nothing.
func TestScale(t *testing.T) {
	t.Parallel()
	host := startRegistry(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "static", "spartan.yaml")
	data, err := os.ReadFile(filepath.Join(repoRoot, "images", "static", "spartan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, spec, string(data))
	must(t, spartan(t, nil, "lock", spec), "spartan lock")
	single := lastLine(must(t, spartan(t, nil, "build", "--locked", spec, "--push", host+"/single/static:latest"), "single-machine build").stdout)

	env := []string{"COSIGN_PASSWORD=" + password}
	must(t, spartan(t, env, "keygen", "--output-key-prefix", filepath.Join(dir, "cosign")), "keygen")
	reg := host + "/ci"
	flags := []string{"--registry", reg, "--variant", "runtime", spec}
	p := planJSON(t, flags...)
	if len(p.Units) != 2 || len(p.Indexes) != 1 {
		t.Fatalf("plan: %d units, %d indexes; want 2 and 1", len(p.Units), len(p.Indexes))
	}
	for _, u := range p.Units {
		if u.Satisfied {
			t.Fatalf("%s satisfied in an empty registry", u.ID)
		}
	}
	unit := func(cache, arch, ref string) result {
		return run(t, nil, spartanBin, "--cache", cache, "build", "--locked", "--skip-existing", "--variant", "runtime", "--arch", arch, "--push", ref, spec)
	}
	var wg sync.WaitGroup
	results := make([]result, len(p.Units))
	for i, u := range p.Units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = unit(filepath.Join(dir, "worker-"+u.Arch), u.Arch, u.Ref)
		}()
	}
	wg.Wait()
	for i, r := range results {
		must(t, r, "worker "+p.Units[i].ID)
		t.Logf("worker %s: %s", p.Units[i].ID, r.elapsed.Round(1e6))
	}
	idx := must(t, spartan(t, env, "index", "--sign-key", filepath.Join(dir, "cosign.key"), "--registry", reg, "--variant", "runtime", spec), "spartan index")
	stitched := lastLine(idx.stdout)
	if stitched != single {
		t.Fatalf("stitched index %s, single-machine build %s", stitched, single)
	}
	t.Logf("index %s equals the single-machine build's", stitched)
	latest := p.Indexes[0].Tags[0]
	r := must(t, cosign(t, "verify", "--key", filepath.Join(dir, "cosign.pub"), "--insecure-ignore-tlog=true", "--allow-http-registry", latest), "cosign verify")
	if !strings.Contains(r.stdout, strings.TrimPrefix(single, "sha256:")) {
		t.Errorf("cosign verified something else than %s:\n%s", single, r.stdout)
	}

	// Again: the plan sees everything done; a worker and the index step do nothing.
	again := planJSON(t, flags...)
	for _, u := range again.Units {
		if !u.Satisfied {
			t.Errorf("%s not satisfied after the pipeline", u.ID)
		}
	}
	if !again.Indexes[0].Satisfied {
		t.Errorf("index not satisfied after the pipeline")
	}
	u := p.Units[0]
	r = must(t, unit(filepath.Join(dir, "worker-again"), u.Arch, u.Ref), "worker again")
	if !strings.Contains(r.stderr, "nothing to build") || strings.Contains(r.stderr, "pushed") {
		t.Errorf("a unit already done was built again:\n%s", r.stderr)
	}
	r = must(t, spartan(t, env, "index", "--sign-key", filepath.Join(dir, "cosign.key"), "--registry", reg, "--variant", "runtime", spec), "spartan index again")
	if lastLine(r.stdout) != single || !strings.Contains(r.stderr, "already done") {
		t.Errorf("index again: %s\n%s", r.stdout, r.stderr)
	}
}

// TestGitLabPipeline runs examples/ci/gitlab/.gitlab-ci.yml for real with gitlab-ci-local
// (shell executor, 4 jobs at once) against docker-registry, through the example's
// run-local.sh, twice, on static and base (amd64 and arm64: four units, two indexes). From
// gitlab-ci-local's output it checks the pipeline's shape: plan, then the build jobs — at
// least two of them running at the same time — each pushing and signing its unit, then the
// index jobs, each signing and tagging its index; the second run builds and pushes nothing.
// cosign verifies each index, whose digest is the one a single-machine build of both
// architectures makes. e2e/setup.sh installs gitlab-ci-local (or set $GITLAB_CI_LOCAL).
func TestGitLabPipeline(t *testing.T) {
	gcl := os.Getenv("GITLAB_CI_LOCAL")
	if gcl == "" {
		var err error
		if gcl, err = exec.LookPath("gitlab-ci-local"); err != nil {
			t.Fatal("gitlab-ci-local not installed: run e2e/setup.sh (or set GITLAB_CI_LOCAL)")
		}
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Fatal("rsync not installed (gitlab-ci-local copies the project with it): run e2e/setup.sh")
	}
	t.Parallel()
	host := startRegistry(t)
	reg := host + "/gitlab"
	work := t.TempDir()
	cosignBin := goTool(t, cosignModule, cosignVersion)
	specs := []string{"images/static", "images/base"}
	r := must(t, run(t, []string{"REGISTRY=" + reg, "GITLAB_CI_LOCAL=" + gcl, "SPARTAN=" + spartanBin,
		"COSIGN=" + cosignBin, "SPECS=" + strings.Join(specs, " "), "WORK=" + work, "SPARTAN_CACHE=" + cacheDir},
		"bash", filepath.Join(repoRoot, "examples", "ci", "gitlab", "run-local.sh")), "run-local.sh")
	t.Logf("%s", tail(r.stdout))

	proj := filepath.Join(work, "project")
	var specFiles []string
	for _, s := range specs {
		specFiles = append(specFiles, filepath.Join(proj, s))
	}
	p := planJSON(t, append([]string{"--registry", reg, "--variant", "runtime"}, specFiles...)...)
	if len(p.Units) != 4 || len(p.Indexes) != 2 {
		t.Fatalf("plan: %d units, %d indexes; want 4 and 2", len(p.Units), len(p.Indexes))
	}
	var builds, indexes []string
	for _, u := range p.Units {
		builds = append(builds, "build: ["+relTo(proj, u.Spec)+","+u.Variant+","+u.Arch+"]")
	}
	for _, ix := range p.Indexes {
		indexes = append(indexes, "index: ["+relTo(proj, ix.Spec)+","+ix.Variant+"]")
	}
	jobs := append(append([]string{"plan"}, builds...), indexes...)

	first := readPipeline(t, filepath.Join(work, "run1.log"), jobs)
	second := readPipeline(t, filepath.Join(work, "run2.log"), jobs)
	for _, pl := range []*pipeline{first, second} {
		for _, b := range builds {
			if pl.start[b] < pl.finish["plan"] {
				t.Errorf("%s: %s started before the plan finished", pl.name, b)
			}
			for _, ix := range indexes {
				if pl.start[ix] < pl.finish[b] {
					t.Errorf("%s: %s started before %s finished", pl.name, ix, b)
				}
			}
		}
	}
	overlap := 0
	for i, a := range builds {
		for _, b := range builds[i+1:] {
			if first.start[a] < first.finish[b] && first.start[b] < first.finish[a] {
				overlap++
			}
		}
	}
	if overlap == 0 {
		t.Errorf("no two build jobs ran at the same time")
	}
	for _, b := range builds {
		out := first.output[b]
		if !strings.Contains(out, "> pushed ") || !strings.Contains(out, "> signed ") {
			t.Errorf("first run: %s did not push and sign its unit:\n%s", b, out)
		}
		if out := second.output[b]; strings.Contains(out, "> pushed ") || !strings.Contains(out, "nothing to build") {
			t.Errorf("second run: %s built something:\n%s", b, out)
		}
	}
	for i, ix := range indexes {
		d := digestIn(first.output[ix])
		if d == "" || !strings.Contains(first.output[ix], "signed "+d) || !strings.Contains(first.output[ix], ":latest@"+d) {
			t.Fatalf("first run: %s did not sign and tag an index:\n%s", ix, first.output[ix])
		}
		if out := second.output[ix]; !strings.Contains(out, "already done") || strings.Contains(out, "pushed") || digestIn(out) != d {
			t.Errorf("second run: %s did something, or names another index than %s:\n%s", ix, d, out)
		}
		// cosign verifies the index the pipeline made, and it is a single-machine build's.
		latest := p.Indexes[i].Tags[0]
		ref := latest[:strings.LastIndex(latest, ":")] + "@" + d
		r := must(t, run(t, nil, cosignBin, "verify", "--key", filepath.Join(work, "cosign.pub"), "--insecure-ignore-tlog=true", "--allow-http-registry", ref), "cosign verify "+ref)
		if !strings.Contains(r.stdout, strings.TrimPrefix(d, "sha256:")) {
			t.Errorf("cosign verified something else than %s:\n%s", d, r.stdout)
		}
		spec := filepath.Join(proj, "images", strings.SplitN(p.Indexes[i].ID, "/", 2)[0])
		single := lastLine(must(t, spartan(t, nil, "build", "--locked", spec, "--push", host+"/single/"+filepath.Base(spec)+":latest"), "single-machine build of "+spec).stdout)
		if single != d {
			t.Errorf("%s: the pipeline's index %s, a single-machine build %s", ix, d, single)
		}
		t.Logf("%s: %s, cosign verifies it, a single-machine build makes it", ix, d)
	}
}

// relTo is path relative to dir, as the pipeline's matrix names specs
// (images/static/spartan.yaml).
func relTo(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return rel
}

// digestIn is the digest a job printed last (spartan build and index print it alone on their
// last line of standard output).
func digestIn(output string) string {
	d := ""
	for _, line := range strings.Split(output, "\n") {
		if s, ok := strings.CutPrefix(line, "> sha256:"); ok {
			d = "sha256:" + s
		}
	}
	return d
}

// pipeline is a gitlab-ci-local run read from its output: per job, the line numbers at which
// it started and finished, and its lines.
type pipeline struct {
	name          string
	start, finish map[string]int
	output        map[string]string
}

// readPipeline reads gitlab-ci-local's output, whose lines are "<job name, padded> <text>";
// every job must have started, finished and passed.
func readPipeline(t *testing.T, path string, jobs []string) *pipeline {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{name: filepath.Base(path), start: map[string]int{}, finish: map[string]int{}, output: map[string]string{}}
	// Longest names first, so that no job is taken for another whose name it starts with.
	sorted := slices.Clone(jobs)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for n, line := range strings.Split(string(data), "\n") {
		for _, job := range sorted {
			rest, ok := strings.CutPrefix(line, job+" ")
			if !ok {
				continue
			}
			rest = strings.TrimSpace(rest)
			switch {
			case strings.HasPrefix(rest, "starting "):
				p.start[job] = n
			case strings.HasPrefix(rest, "finished in "):
				p.finish[job] = n
			}
			p.output[job] += rest + "\n"
			break
		}
	}
	for _, job := range jobs {
		_, started := p.start[job]
		_, finished := p.finish[job]
		if !started || !finished || !strings.Contains(string(data), " PASS  "+job) {
			t.Fatalf("%s: job %q did not start, finish and pass (started %v, finished %v):\n%s", p.name, job, started, finished, tail(string(data)))
		}
	}
	return p
}
