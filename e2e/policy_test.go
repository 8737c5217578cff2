//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// testAdmissionPolicy checks what `spartan policy` writes with each admission controller's
// own code, against images in the real registry: sigstore policy-controller's tester (the
// ClusterImagePolicies) and Kyverno's CLI, `kyverno apply` of the ClusterPolicy to a Pod with
// registry access. Spartan's signed python image and a signed multi-arch index (whose tag
// carries the index's own provenance) are admitted; an unsigned image, and an image signed
// with the key whose SLSA provenance names another builder, are refused, each for its reason.
func testAdmissionPolicy(t *testing.T, s *signed) {
	tester := moduleTool(t, "github.com/sigstore/policy-controller", "v0.13.1", "./cmd/tester", "tester")
	kyverno := moduleTool(t, "github.com/kyverno/kyverno", "v1.19.1", "./cmd/cli/kubectl-kyverno", "kubectl-kyverno")
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
	kyPolicy := filepath.Join(dir, "kyverno.yaml")
	writeFile(t, kyPolicy, must(t, spartan(t, nil, "policy", "--key", s.pub, "--engine", "kyverno", "--images", s.host+"/**"), "spartan policy --engine kyverno").stdout)
	pods := 0
	admit := func(policy, ref string) result {
		t.Helper()
		if policy != "kyverno" {
			return run(t, nil, tester, "--policy", policies[policy], "--image", ref)
		}
		pods++
		pod := filepath.Join(dir, fmt.Sprintf("pod%d.yaml", pods))
		writeFile(t, pod, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: app%d, namespace: default}\nspec:\n  containers:\n    - {name: app, image: %q}\n", pods, ref))
		return run(t, nil, kyverno, "apply", kyPolicy, "--resource", pod, "--registry")
	}

	multi := s.host + "/spartan/static:multi"
	must(t, spartan(t, []string{"COSIGN_PASSWORD=" + password}, "build", filepath.Join(repoRoot, "images", "static"),
		"--arch", "amd64,arm64", "--sign-key", s.key, "--push", multi), "build static (amd64,arm64) --sign-key --push")
	for _, ref := range []string{s.ref, multi} {
		for _, p := range []string{"signature", "provenance", "kyverno"} {
			r := admit(p, ref)
			if r.err != nil {
				t.Errorf("%s policy refuses %s: %v\n%s", p, ref, r.err, tail(r.stdout+r.stderr))
			}
			// A Pod no rule matched passes too: the rules must have run and passed.
			if p == "kyverno" && (strings.Contains(r.stdout, "pass: 0,") || !strings.Contains(r.stdout, "fail: 0, warn: 0, error: 0, skip: 0")) {
				t.Errorf("kyverno apply on %s:\n%s", ref, r.stdout)
			}
		}
	}

	unsigned := s.host + "/other/static:1"
	must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images", "static"), "--arch", "amd64", "--push", unsigned), "push unsigned static")
	for p, want := range map[string]string{"signature": "no signatures found", "provenance": "no matching attestations", "kyverno": "no signatures found"} {
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
	if r := admit("kyverno", foreign); r.err == nil || !strings.Contains(r.stdout+r.stderr, "attestation checks failed") {
		t.Errorf("Kyverno on another builder's provenance: %v\n%s", r.err, tail(r.stdout+r.stderr))
	}
}

// moduleTool builds the command at pkg of module@version from the release's module source
// (policy-controller's and Kyverno's go.mod have replace directives, so `go install` refuses
// them) and keeps it in $HOME/go/bin-cache/<name>-<version> like the other tools: the first
// build takes a quarter of an hour or more, so it is made only when SPARTAN_E2E_POLICY_TOOLS is
// set; later runs reuse it.
func moduleTool(t *testing.T, module, version, pkg, name string) string {
	t.Helper()
	home, _ := os.UserHomeDir()
	cached := filepath.Join(home, "go", "bin-cache", name+"-"+version, name)
	if _, err := os.Stat(cached); err == nil {
		return cached
	}
	if os.Getenv("SPARTAN_E2E_POLICY_TOOLS") == "" {
		// Built cold, the two engines take about 40 minutes on two cores: more than CI's budget
		// leaves. The policies' shape is still checked against the engines' schemas by
		// internal/policy's tests.
		t.Skipf("%s@%s is not in %s: run once with SPARTAN_E2E_POLICY_TOOLS=1 to build it (about 20 minutes) and check the policies with the real engines", module, version, filepath.Dir(cached))
	}
	dl, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		t.Fatalf("go mod download %s@%s: %v", module, version, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(dl, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", module, version, err, dl)
	}
	src := filepath.Join(workDir, "tools", name+"-src")
	must(t, run(t, nil, "cp", "-r", m.Dir, src), "copy the module source")
	must(t, run(t, nil, "chmod", "-R", "u+w", src), "make it writable")
	bin := filepath.Join(workDir, "tools", name)
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s from %s@%s: %v\n%s", name, module, version, err, tail(string(out)))
	}
	t.Logf("built %s from %s@%s in %s", name, module, version, time.Since(start).Round(time.Second))
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
		if data, err := os.ReadFile(bin); err == nil && os.WriteFile(cached+".tmp", data, 0o755) == nil {
			os.Rename(cached+".tmp", cached)
		}
	}
	return bin
}
