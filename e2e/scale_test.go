//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
		ID, Ref   string
		Tags      []string
		Satisfied bool
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

// TestGitLabPipeline runs examples/ci/gitlab/.gitlab-ci.yml with gitlab-ci-local (shell
// executor) against a real registry, twice, through the example's run-local.sh, which
// checks that the second run builds nothing and that cosign verifies the indexes. It needs
// gitlab-ci-local (an npm package) on PATH or in $GITLAB_CI_LOCAL, and is skipped without.
func TestGitLabPipeline(t *testing.T) {
	gcl := os.Getenv("GITLAB_CI_LOCAL")
	if gcl == "" {
		var err error
		if gcl, err = exec.LookPath("gitlab-ci-local"); err != nil {
			t.Skip("gitlab-ci-local not installed (npm install -g gitlab-ci-local, or set GITLAB_CI_LOCAL)")
		}
	}
	t.Parallel()
	host := startRegistry(t)
	r := must(t, run(t, []string{"REGISTRY=" + host + "/gitlab", "GITLAB_CI_LOCAL=" + gcl, "SPARTAN=" + spartanBin,
		"COSIGN=" + goTool(t, cosignModule, cosignVersion), "SPECS=images/static", "WORK=" + t.TempDir(), "SPARTAN_CACHE=" + cacheDir},
		"bash", filepath.Join(repoRoot, "examples", "ci", "gitlab", "run-local.sh")), "run-local.sh")
	t.Logf("%s", tail(r.stdout))
}
