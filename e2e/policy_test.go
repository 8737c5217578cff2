//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// testAdmissionPolicy checks `spartan policy`'s ClusterImagePolicies with sigstore
// policy-controller's own evaluator (its cmd/tester, the code the admission webhook runs)
// against images in the real registry: Spartan's signed python image and a signed multi-arch
// index (whose tag carries the index's own provenance) are admitted by both policies; an
// unsigned image, and an image signed with the key whose SLSA provenance names another
// builder, are refused, each for its reason.
func testAdmissionPolicy(t *testing.T, s *signed) {
	tester := policyTester(t)
	dir := t.TempDir()
	out := must(t, spartan(t, nil, "policy", "--key", s.pub, "--engine", "policy-controller", "--images", s.host+"/**"), "spartan policy").stdout
	dec := yaml.NewDecoder(strings.NewReader(out))
	policies := map[string]string{} // signature|provenance → file
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		name := doc["metadata"].(map[string]any)["name"].(string)
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name+".yaml")
		writeFile(t, file, string(data))
		policies[strings.TrimPrefix(name, "spartan-images-")] = file
	}
	if len(policies) != 2 || policies["signature"] == "" || policies["provenance"] == "" {
		t.Fatalf("spartan policy wrote %v", policies)
	}
	admit := func(policy, ref string) result {
		t.Helper()
		return run(t, nil, tester, "--policy", policies[policy], "--image", ref)
	}

	multi := s.host + "/spartan/static:multi"
	must(t, spartan(t, []string{"COSIGN_PASSWORD=" + password}, "build", filepath.Join(repoRoot, "images", "static"),
		"--arch", "amd64,arm64", "--sign-key", s.key, "--push", multi), "build static (amd64,arm64) --sign-key --push")
	for _, ref := range []string{s.ref, multi} {
		for _, p := range []string{"signature", "provenance"} {
			if r := admit(p, ref); r.err != nil {
				t.Errorf("%s policy refuses %s: %v\n%s", p, ref, r.err, tail(r.stdout+r.stderr))
			}
		}
	}

	unsigned := s.host + "/other/static:1"
	must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images", "static"), "--arch", "amd64", "--push", unsigned), "push unsigned static")
	for p, want := range map[string]string{"signature": "no signatures found", "provenance": "no matching attestations"} {
		if r := admit(p, unsigned); r.err == nil || !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("%s policy on an unsigned image: %v, want %q\n%s", p, r.err, want, tail(r.stdout+r.stderr))
		}
	}

	// Signed with the key, but the provenance is another builder's: the CUE check refuses it.
	foreign := s.host + "/foreign/static:1"
	d := lastLine(must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images", "static"), "--arch", "amd64", "--push", foreign), "push static").stdout)
	st, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "static", "digest": map[string]string{"sha256": strings.TrimPrefix(d, "sha256:")}}},
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate":     map[string]any{"runDetails": map[string]any{"builder": map[string]string{"id": "https://example.com/another-builder"}}},
	})
	stFile := filepath.Join(dir, "foreign.json")
	writeFile(t, stFile, string(st))
	must(t, spartan(t, []string{"COSIGN_PASSWORD=" + password}, "sign", foreign, "--key", s.key, "--attest", stFile), "sign with a foreign provenance")
	if r := admit("signature", foreign); r.err != nil {
		t.Errorf("signature policy refuses a signed image: %v\n%s", r.err, tail(r.stdout+r.stderr))
	}
	if r := admit("provenance", foreign); r.err == nil || !strings.Contains(r.stdout+r.stderr, "another-builder") {
		t.Errorf("provenance policy on another builder's provenance: %v\n%s", r.err, tail(r.stdout+r.stderr))
	}
}

// policyTester is sigstore policy-controller's tester, built from the release's module source
// (its go.mod has replace directives, so `go install` refuses it) and kept in
// $HOME/go/bin-cache/tester-<version> like the other tools; the first build takes minutes.
func policyTester(t *testing.T) string {
	t.Helper()
	const module, version = "github.com/sigstore/policy-controller", "v0.13.1"
	home, _ := os.UserHomeDir()
	cached := filepath.Join(home, "go", "bin-cache", "tester-"+version, "tester")
	if _, err := os.Stat(cached); err == nil {
		return cached
	}
	dl, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		t.Fatalf("go mod download %s@%s: %v", module, version, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(dl, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", module, version, err, dl)
	}
	src := filepath.Join(workDir, "tools", "policy-controller")
	must(t, run(t, nil, "cp", "-r", m.Dir, src), "copy the module source")
	must(t, run(t, nil, "chmod", "-R", "u+w", src), "make it writable")
	bin := filepath.Join(workDir, "tools", "tester")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tester")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build policy-controller's tester: %v\n%s", err, tail(string(out)))
	}
	t.Logf("built policy-controller %s tester in %s", version, time.Since(start).Round(time.Second))
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
		if data, err := os.ReadFile(bin); err == nil && os.WriteFile(cached+".tmp", data, 0o755) == nil {
			os.Rename(cached+".tmp", cached)
		}
	}
	return bin
}
