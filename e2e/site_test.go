//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	govex "github.com/openvex/go-vex/pkg/vex"

	"github.com/spartan-images/spartan/internal/spec"
	"github.com/spartan-images/spartan/internal/testkit"
	"github.com/spartan-images/spartan/internal/vex"
)

// checkSite is the site step of the update flow: `spartan site` over the real catalog (every
// image and variant, amd64, the harness's shared builds) and the update's signed foo image,
// with the update's timeline and a database of the real tracker excerpts plus foo's record.
// Two runs give the same bytes; the OSV records validate against the OSV schema, the OpenVEX
// documents against the OpenVEX rules; every page renders in headless Chromium with no
// request leaving the site and no axe-core violation.
func checkSite(t *testing.T, dir, layout, pub, tl, digest string) {
	data := os.Getenv("SPARTAN_VULN_DATA")
	if data == "" {
		data = "/work/shared/data/vuln"
	}
	// The real tracker excerpts are subsets of one feed: their union is one feed, with foo's.
	feed := map[string]json.RawMessage{}
	excerpts, _ := filepath.Glob(filepath.Join(data, "debian-tracker", "*.json"))
	if len(excerpts) == 0 {
		t.Fatalf("no tracker excerpts in %s/debian-tracker: set SPARTAN_VULN_DATA", data)
	}
	for _, f := range append(excerpts, filepath.Join(dir, "tracker.json")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range m {
			feed[k] = v
		}
	}
	merged, _ := json.Marshal(feed)
	writeFile(t, filepath.Join(dir, "site-tracker.json"), string(merged))
	db := filepath.Join(dir, "site.db")
	sp := func(env []string, args ...string) result {
		t.Helper()
		return run(t, env, spartanBin, append([]string{"--cache", filepath.Join(dir, "cache")}, args...)...)
	}
	must(t, sp(nil, "db", "import", "--db", db, filepath.Join(dir, "site-tracker.json")), "db import of the real excerpts")
	must(t, sp(nil, "db", "import-osv", "--db", db, filepath.Join(dir, "osv")), "db import-osv")

	// The catalog's builds, shared with the other tests, beside the update's layout.
	built := filepath.Join(dir, "built")
	if err := os.MkdirAll(built, 0o755); err != nil {
		t.Fatal(err)
	}
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(built, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(layout, "foo")
	specs, _ := filepath.Glob(filepath.Join(repoRoot, "images", "*", "spartan.yaml"))
	// Each spec's own variants: most have dev and debug, the toolbox has none.
	pages := map[string]bool{}
	for _, s := range specs {
		name := filepath.Base(filepath.Dir(s))
		cs, err := spec.Load(s)
		if err != nil {
			t.Fatalf("catalog spec %s: %v", s, err)
		}
		link(buildImage(t, name).archive, name+".tar")
		pages[name] = true
		for _, v := range cs.VariantNames() {
			link(buildVariant(t, name, v).archive, name+"-"+v+".tar")
			pages[name+"-"+v] = true
		}
	}
	args := []string{"--catalog", filepath.Join(repoRoot, "images"), "--catalog", filepath.Join(dir, "images"),
		"--images", built, "--timeline", tl, "--db", db, "--key", pub}
	if general := filepath.Join(workDir, "compare", "general-python.tar"); fileExists(general) {
		args = append(args, "--baseline", "python="+general)
	} else {
		t.Log("no general-purpose python image from TestAuditGeneralPurposeAndCompareHTML: the comparison charts are left out")
	}
	env := []string{"SOURCE_DATE_EPOCH=1764000000"}
	site1, site2 := filepath.Join(dir, "site1"), filepath.Join(dir, "site2")
	r := must(t, sp(env, append([]string{"site", site1}, args...)...), "site")
	t.Logf("%s(%s)", r.stdout, r.elapsed.Round(1e8))
	must(t, sp(env, append([]string{"site", site2}, args...)...), "site again")
	a, b := testkit.ReadTree(t, site1), testkit.ReadTree(t, site2)
	if len(a) != len(b) {
		t.Errorf("two runs wrote %d and %d files", len(a), len(b))
	}
	var sizes []string
	for p, body := range a {
		if !bytes.Equal(body, b[p]) {
			t.Errorf("%s differs between two runs", p)
		}
		if strings.HasSuffix(p, ".html") {
			sizes = append(sizes, p)
		}
	}
	sort.Slice(sizes, func(i, j int) bool { return len(a[sizes[i]]) > len(a[sizes[j]]) })
	for _, p := range sizes[:min(5, len(sizes))] {
		t.Logf("page %s: %d bytes", p, len(a[p]))
	}
	for p := range pages {
		if _, ok := a["images/"+p+".html"]; !ok {
			t.Errorf("no page for %s", p)
		}
	}
	// Every link of every page resolves inside the site.
	href := regexp.MustCompile(`(?:href|src)="([^"#]+)"`)
	for p, body := range a {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		for _, m := range href.FindAllSubmatch(body, -1) {
			target := filepath.ToSlash(filepath.Join(filepath.Dir(p), string(m[1])))
			if _, ok := a[target]; !ok || strings.Contains(string(m[1]), "://") {
				t.Errorf("%s: link %s does not resolve inside the site", p, m[1])
			}
		}
	}
	foo := string(a["images/foo.html"])
	for _, want := range []string{"CVE-2026-0001", "CVE-2026-0003", digest, "signed attestation", "fix seen → pushed"} {
		if !strings.Contains(foo, want) {
			t.Errorf("foo's page lacks %q", want)
		}
	}

	// OSV: the schema from its Go module.
	dl := run(t, nil, "go", "mod", "download", "-json", "github.com/ossf/osv-schema@v1.9.0")
	var mod struct{ Dir string }
	if err := json.Unmarshal([]byte(dl.stdout), &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download github.com/ossf/osv-schema: %v %s", err, dl.stderr)
	}
	schema := testkit.Schema(t, "", filepath.Join(mod.Dir, "validation", "schema.json"))
	records := 0
	for p, body := range a {
		if strings.HasPrefix(p, "feeds/osv/x_") {
			records++
			if err := testkit.ValidateJSON(schema, body); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		if strings.HasSuffix(p, "/openvex.json") {
			if err := vex.Validate(body); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			// A real consumer's reading: the OpenVEX project's own parser and statement rules.
			doc, err := govex.Parse(body)
			if err != nil {
				t.Errorf("%s: go-vex: %v", p, err)
				continue
			}
			for i := range doc.Statements {
				if err := doc.Statements[i].Validate(); err != nil {
					t.Errorf("%s: go-vex statement %d: %v", p, i, err)
				}
			}
		}
	}
	rec := string(a["feeds/osv/x_SPARTAN-CVE-2026-0001.json"])
	if records == 0 || !strings.Contains(rec, `"fixed_image_digest": "`+digest+`"`) {
		t.Errorf("%d OSV records; CVE-2026-0001's:\n%s", records, rec)
	}

	// Rendered in Chromium with axe-core: no violation, no request leaving the site.
	modules := filepath.Join(workDir, "a11y")
	if !fileExists(filepath.Join(modules, "node_modules", "axe-core")) {
		npm := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", modules, "puppeteer-core@24", "axe-core@4")
		npm.Env = append(os.Environ(), "PUPPETEER_SKIP_DOWNLOAD=1")
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm install puppeteer-core axe-core: %v\n%s", err, out)
		}
	}
	shots := os.Getenv("SPARTAN_E2E_ARTIFACTS")
	if shots == "" {
		shots = dir
	} else {
		os.MkdirAll(shots, 0o755)
		os.RemoveAll(filepath.Join(shots, "site"))
		must(t, run(t, nil, "cp", "-r", site1, filepath.Join(shots, "site")), "keep the site")
	}
	ax := run(t, nil, "node", filepath.Join(repoRoot, "e2e", "a11y", "check.js"), filepath.Join(modules, "node_modules"), site1,
		"/usr/bin/chromium", shots, "index.html", "images/foo.html", "images/python.html")
	t.Logf("axe-core:\n%s%s", ax.stdout, tail(ax.stderr))
	if ax.err != nil {
		t.Errorf("accessibility or containment check failed: %v", ax.err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
