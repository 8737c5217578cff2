//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// auditReport is the subset of `spartan audit --format json` the tests read.
type auditReport struct {
	Findings []struct{ ID, Level, Path, Message string }
	Skipped  []struct{ ID, Reason string }
}

func auditJSON(t *testing.T, target string, extra ...string) (auditReport, result) {
	t.Helper()
	r := spartan(t, nil, append([]string{"audit", target, "--format", "json"}, extra...)...)
	var rep auditReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("audit %s: not JSON (%v)\nstdout:\n%s\nstderr:\n%s", target, err, tail(r.stdout), tail(r.stderr))
	}
	return rep, r
}

func (a auditReport) has(id, path string) bool {
	for _, f := range a.Findings {
		if f.ID == id && f.Path == path && f.Level != "PASS" {
			return true
		}
	}
	return false
}

// TestAuditCatalog: Spartan's runtime images have nothing at WARN or above.
func TestAuditCatalog(t *testing.T) {
	for _, name := range []string{"python", "base", "static", "cc"} {
		t.Run(name, func(t *testing.T) {
			b := buildImage(t, name)
			rep, r := auditJSON(t, b.archive, "--exit-level", "warn")
			for _, f := range rep.Findings {
				if f.Level == "FATAL" || f.Level == "WARN" {
					t.Errorf("%s %s %s: %s", f.Level, f.ID, f.Path, f.Message)
				}
			}
			if r.err != nil {
				t.Errorf("--exit-level warn failed on a clean image: %v\n%s", r.err, r.stderr)
			}
			if !rep.has("CIS-DI-0006", "config.Healthcheck") {
				t.Error("missing HEALTHCHECK should stay an INFO finding")
			}
			skipped := map[string]bool{}
			for _, s := range rep.Skipped {
				skipped[s.ID] = true
			}
			if !skipped["CIS-DI-0005"] || !skipped["SPT-0008"] {
				t.Errorf("signature checks should not apply to an archive: skipped %v", rep.Skipped)
			}
		})
	}
}

// TestAuditGeneralPurposeAndCompareHTML builds the general-purpose equivalent of the python
// image with mmdebstrap (minbase + the spec's python packages), audits it, and renders the
// HTML compare report in headless Chromium.
func TestAuditGeneralPurposeAndCompareHTML(t *testing.T) {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Fatal("mmdebstrap not installed: run e2e/setup.sh")
	}
	dir := filepath.Join(workDir, "compare")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	general := filepath.Join(dir, "general-python.tar")
	html := filepath.Join(dir, "report.html")
	r := must(t, spartan(t, nil, "compare", "--baseline", "general", filepath.Join(repoRoot, "images", "python"),
		"--arch", "amd64", "--baseline-archive", general, "--html", html, "--format", "markdown"), "compare --baseline general")
	t.Logf("compare (%s):\n%s", r.elapsed.Round(1e9), r.stdout)

	rep, _ := auditJSON(t, general)
	want := []struct{ id, path string }{
		{"CIS-DI-0001", "config.User"},
		{"SPT-0001", "/usr/bin/bash"},
		{"SPT-0001", "/usr/bin/sh"},
		{"SPT-0002", "/usr/bin/apt-get"},
		{"SPT-0002", "/usr/bin/dpkg"},
		{"CIS-DI-0008", "/usr/bin/su"},
		{"CIS-DI-0008", "/usr/bin/passwd"},
		{"CIS-DI-0008", "/usr/bin/mount"},
	}
	for _, w := range want {
		if !rep.has(w.id, w.path) {
			t.Errorf("general-purpose image: no %s finding at %s", w.id, w.path)
		}
	}
	if fail := spartan(t, nil, "audit", general, "--exit-level", "warn"); fail.err == nil {
		t.Error("audit --exit-level warn succeeded on an image with shells and setuid files")
	}

	// The figures the charts must show, from the Markdown table of the same run.
	figures := map[string][2]string{}
	for _, m := range regexp.MustCompile(`(?m)^\| (packages|shells|setuid/setgid files|size compressed) \| ([^|]+) \| ([^|]+) \|`).FindAllStringSubmatch(r.stdout, -1) {
		figures[m[1]] = [2]string{strings.TrimSpace(m[2]), strings.TrimSpace(m[3])}
	}
	if len(figures) != 4 {
		t.Fatalf("markdown table lacks rows: %v", figures)
	}

	profile := filepath.Join(dir, "chromium-profile")
	shot := filepath.Join(dir, "report.png")
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile}
	must(t, run(t, nil, "chromium", append(args, "--screenshot="+shot, "--window-size=1200,1600", "file://"+html)...), "chromium --screenshot")
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s missing or blank: %v", shot, err)
	}
	if keep := os.Getenv("SPARTAN_E2E_ARTIFACTS"); keep != "" {
		if b, err := os.ReadFile(shot); err == nil {
			os.MkdirAll(keep, 0o755)
			os.WriteFile(filepath.Join(keep, "compare-report.png"), b, 0o644)
		}
	}
	dom := must(t, run(t, nil, "chromium", append(args, "--dump-dom", "file://"+html)...), "chromium --dump-dom").stdout
	if n := strings.Count(dom, "<svg"); n < 12 {
		t.Errorf("rendered page has %d SVG charts, want one per measure (12)", n)
	}
	for measure, v := range figures {
		label := fmt.Sprintf(`aria-label="%s: %s vs %s"`, measure, v[0], v[1])
		if !strings.Contains(dom, label) {
			t.Errorf("rendered page lacks the %s chart (%s)", measure, label)
		}
	}
	// Bars are drawn to scale: the general image's package bar is the full 560 px.
	if !regexp.MustCompile(`aria-label="packages:[^"]*"[^>]*>\s*<text[^>]*>packages</text>\s*<text[^>]*>[^<]*</text>\s*<rect class="bar-a" x="170" y="6" width="560"`).MatchString(dom) {
		t.Error("packages chart: the larger bar is not full width")
	}
}
