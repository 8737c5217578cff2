//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	actionlintModule  = "github.com/rhysd/actionlint/cmd/actionlint"
	actionlintVersion = "v1.7.12"
)

// TestActionlint checks the GitHub Actions example (the reusable workflow, its caller and the
// composite action) with actionlint, which runs shellcheck on every `run:` script. The
// example is copied into a repository of its own, as a team would use it, so that actionlint
// resolves the local action `./.github/actions/setup-spartan` and checks the inputs given to
// it. Broken copies show that the check fails: an input the action does not have, and an
// unquoted expansion shellcheck warns about.
//
// The workflows are not run: act needs a Docker engine, and the e2e hosts have podman only.
func TestActionlint(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck not installed (actionlint checks the workflows' scripts with it): run e2e/setup.sh")
	}
	bin := goTool(t, actionlintModule, actionlintVersion)
	src := filepath.Join(repoRoot, "examples", "ci", "github")
	workflow := filepath.Join(".github", "workflows", "spartan-catalog.yml")
	tests := []struct {
		name         string
		old, new     string // replaced in the reusable workflow; "" leaves it as shipped
		wantFindings []string
	}{
		{name: "as shipped"},
		{name: "an input setup-spartan does not have",
			old: "version: ${{ inputs.spartan-version }}", new: "versionx: ${{ inputs.spartan-version }}",
			wantFindings: []string{`input "versionx" is not defined in action "setup-spartan"`}},
		{name: "unquoted expansion",
			old: `"${flags[@]}" "${specs[@]}"`, new: `$PLAN_FLAGS $SPECS`,
			wantFindings: []string{"SC2086"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			must(t, run(t, nil, "cp", "-r", src, dir), "copy the example")
			if tt.old != "" {
				path := filepath.Join(dir, workflow)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(data), tt.old) {
					t.Fatalf("%s no longer holds %q: update this test", workflow, tt.old)
				}
				writeFile(t, path, strings.Replace(string(data), tt.old, tt.new, 1))
			}
			must(t, run(t, nil, "git", "-C", dir, "init", "-q"), "git init")
			cmd := exec.Command(bin, "-oneline", "-verbose")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if strings.Contains(string(out), `Rule "shellcheck" was disabled`) {
				t.Fatalf("actionlint did not run shellcheck:\n%s", out)
			}
			for _, f := range []string{"spartan-catalog.yml", "catalog.yml"} {
				if !strings.Contains(string(out), "Linting .github/workflows/"+f) {
					t.Fatalf("actionlint did not lint %s:\n%s", f, out)
				}
			}
			if len(tt.wantFindings) == 0 {
				if err != nil {
					t.Fatalf("actionlint: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("actionlint passed a broken workflow:\n%s", out)
			}
			for _, f := range tt.wantFindings {
				if !strings.Contains(string(out), f) {
					t.Errorf("actionlint's findings lack %q:\n%s", f, out)
				}
			}
		})
	}
}
