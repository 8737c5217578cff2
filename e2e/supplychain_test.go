//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/spartan-images/spartan/internal/sign"
	"github.com/spartan-images/spartan/internal/verify"
)

// Tool versions the supply-chain tests check Spartan's output against.
const (
	cosignModule  = "github.com/sigstore/cosign/v3/cmd/cosign"
	cosignVersion = "v3.1.3"
	syftModule    = "github.com/anchore/syft/cmd/syft"
	syftVersion   = "v1.57.1"
)

// startRegistry runs Debian's docker-registry (CNCF Distribution) on a free loopback port with
// storage in a temporary directory, until the test ends. It returns "127.0.0.1:PORT".
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatal("docker-registry not installed: run e2e/setup.sh (bash e2e/run.sh does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	writeFile(t, conf, fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "storage"), addr))
	cmd := exec.Command(bin, "serve", conf)
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("registry on %s did not come up: %v\n%s", addr, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// goTool installs a Go program with `go install` (the module proxy is the only network it
// needs) into the run's work dir, reusing $HOME/go/bin-cache/<name>-<version> when that cache
// directory exists, so reruns skip the multi-minute build.
func goTool(t *testing.T, module, version string) string {
	t.Helper()
	if p, ok := tools.Load(module); ok {
		return p.(string)
	}
	p := installTool(t, module, version)
	tools.Store(module, p)
	return p
}

var tools sync.Map // module → installed binary

func installTool(t *testing.T, module, version string) string {
	t.Helper()
	bin := filepath.Base(module)
	home, _ := os.UserHomeDir()
	cacheRoot := filepath.Join(home, "go", "bin-cache")
	cached := filepath.Join(cacheRoot, bin+"-"+version, bin)
	if _, err := os.Stat(cached); err == nil {
		t.Logf("%s %s: cached at %s", bin, version, cached)
		return cached
	}
	gobin := filepath.Join(workDir, "tools", bin+"-"+version)
	start := time.Now()
	cmd := exec.Command("go", "install", module+"@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", module, version, err, tail(string(out)))
	}
	t.Logf("go install %s@%s took %s", module, version, time.Since(start).Round(time.Second))
	path := filepath.Join(gobin, bin)
	if fi, err := os.Stat(cacheRoot); err == nil && fi.IsDir() {
		if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
			if data, err := os.ReadFile(path); err == nil && os.WriteFile(cached+".tmp", data, 0o755) == nil {
				os.Rename(cached+".tmp", cached)
			}
		}
	}
	return path
}

// signed is the python image built, signed and pushed once for the supply-chain tests.
type signed struct {
	host, ref, digest   string
	layoutDir, key, pub string
	buildOut            result
}

const password = "e2e-password"

// TestSupplyChain builds the python image once, signs it with a key from `spartan keygen`,
// pushes it with its SBOMs and provenance to a real registry, and checks the result with
// Spartan, cosign, syft, skopeo and podman. The registry lives as long as this test, so the
// checks are its subtests (run one with -run 'TestSupplyChain/Tamper').
func TestSupplyChain(t *testing.T) {
	s := signedPython(t)
	t.Run("SpartanVerify", func(t *testing.T) { testSpartanVerify(t, s) })
	t.Run("CosignVerify", func(t *testing.T) { testCosignVerify(t, s) })
	t.Run("Tamper", func(t *testing.T) { testTamper(t, s) })
	t.Run("ThirdPartyClients", func(t *testing.T) { testThirdPartyClients(t, s) })
	t.Run("Syft", func(t *testing.T) { testSyft(t, s) })
	t.Run("IncrementalPush", func(t *testing.T) { testIncrementalPush(t, s) })
	t.Run("MultiArch", func(t *testing.T) { testMultiArch(t, s) })
	t.Run("AdmissionPolicy", func(t *testing.T) { testAdmissionPolicy(t, s) })
	t.Run("SignCommand", func(t *testing.T) { testSignCommand(t, s) })
	t.Run("Rebuild", func(t *testing.T) { testRebuild(t, s) })
	t.Run("AttachedSBOM", func(t *testing.T) { testAttachedSBOM(t, s) })
}

// testAttachedSBOM prints the SBOMs attached in the registry (signature checked) and compares
// their packages with the SBOM generated from the image itself.
func testAttachedSBOM(t *testing.T, s *signed) {
	names := func(doc, format string) map[string]bool {
		out := map[string]bool{}
		if format == "spdx" {
			var d struct {
				Packages []struct{ Name, VersionInfo string }
			}
			if err := json.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatalf("SPDX: %v", err)
			}
			for _, p := range d.Packages {
				out[p.Name+"="+p.VersionInfo] = true
			}
			return out
		}
		var d struct {
			Components []struct{ Name, Version string }
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("CycloneDX: %v", err)
		}
		for _, c := range d.Components {
			out[c.Name+"="+c.Version] = true
		}
		return out
	}
	for _, f := range []string{"spdx", "cyclonedx"} {
		attached := must(t, spartan(t, nil, "sbom", s.ref, "--key", s.pub, "--format", f), "sbom (attached) "+f)
		local := must(t, spartan(t, nil, "sbom", s.layoutDir, "--format", f), "sbom (from the image) "+f)
		a, l := names(attached.stdout, f), names(local.stdout, f)
		var onlyA, onlyL []string
		for k := range a {
			if !l[k] {
				onlyA = append(onlyA, k)
			}
		}
		for k := range l {
			if !a[k] {
				onlyL = append(onlyL, k)
			}
		}
		// The document's own subject is named after the reference in one and the layout in the
		// other: one entry each side may differ, nothing more.
		if len(a) < 20 || len(onlyA) > 1 || len(onlyL) > 1 {
			t.Fatalf("%s: only in the attached SBOM: %v; only in the image's: %v", f, onlyA, onlyL)
		}
	}
	if r := spartan(t, nil, "sbom", s.ref, "--key", filepath.Join(workDir, "supplychain", "other.pub")); r.err == nil {
		t.Fatal("sbom --key accepted an SBOM signed by another key")
	}
}

// testRebuild re-derives the pushed images from their signed provenance alone (spec digest and
// exact .debs), each on a fresh cache, and expects the same digests: the single-arch python
// image and the two-platform base index.
func testRebuild(t *testing.T, s *signed) {
	for _, ref := range []string{s.ref, s.host + "/spartan/base:multi"} {
		fresh := t.TempDir()
		r := must(t, run(t, nil, spartanBin, "--cache", fresh, "rebuild", "--verify", ref, "--key", s.pub), "rebuild --verify "+ref)
		if !strings.HasPrefix(strings.TrimSpace(r.stdout), "reproduced sha256:") {
			t.Fatalf("rebuild output: %s\n%s", r.stdout, r.stderr)
		}
		t.Logf("%s: %s", ref, strings.TrimSpace(r.stdout))
	}
	wrong := filepath.Join(workDir, "supplychain", "other.pub")
	if _, err := os.Stat(wrong); err == nil {
		if r := spartan(t, nil, "rebuild", "--verify", s.ref, "--key", wrong); r.err == nil {
			t.Fatal("rebuild accepted provenance signed by another key")
		}
	}
}

// testSignCommand signs images that were built without a key: one already in the registry,
// one in an OCI layout (offline) that is pushed afterwards with its signature.
func testSignCommand(t *testing.T, s *signed) {
	env := []string{"COSIGN_PASSWORD=" + password}
	dir := filepath.Join(workDir, "sign-cmd-oci")
	must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images", "static"), "--arch", "amd64", "--oci", dir), "build static")

	remoteRef := s.host + "/signcmd/remote:1"
	must(t, spartan(t, nil, "push", dir, remoteRef), "push unsigned")
	c := cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", remoteRef)
	if c.err == nil {
		t.Fatal("cosign verified an unsigned image")
	}
	must(t, spartan(t, env, "sign", remoteRef, "--key", s.key), "spartan sign (registry)")
	must(t, cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", remoteRef), "cosign verify after spartan sign")

	must(t, spartan(t, env, "sign", "oci:"+dir, "--key", s.key), "spartan sign (layout)")
	must(t, spartan(t, nil, "verify", "oci:"+dir, "--key", s.pub), "spartan verify (layout)")
	layoutRef := s.host + "/signcmd/layout:1"
	must(t, spartan(t, nil, "push", dir, layoutRef), "push signed layout")
	must(t, cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", layoutRef), "cosign verify pushed layout")
}

// testMultiArch signs a two-platform index: the index digest and each platform image are
// signed, and each platform image carries its own SBOMs and provenance.
func testMultiArch(t *testing.T, s *signed) {
	ref := s.host + "/spartan/base:multi"
	b := must(t, spartan(t, []string{"COSIGN_PASSWORD=" + password}, "build", filepath.Join(repoRoot, "images", "base"),
		"--arch", "amd64,arm64", "--sign-key", s.key, "--push", ref), "build base (amd64,arm64) --sign-key --push")
	index := lastLine(b.stdout)
	must(t, spartan(t, nil, "verify", ref, "--key", s.pub, "--require", "sbom,provenance"), "spartan verify index")
	must(t, cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", ref), "cosign verify index")
	// The tag users pull carries its own provenance, about the index and naming its images.
	att := must(t, cosign(t, "verify-attestation", "--key", s.pub, "--type", "slsaprovenance1", "--insecure-ignore-tlog=true", "--allow-http-registry", ref), "cosign verify-attestation slsaprovenance1 on the index tag")
	sts := attested(t, att.stdout)
	if len(sts) == 0 {
		t.Fatalf("cosign verify-attestation printed no statement:\n%s", att.stdout)
	}
	st := sts[0]
	var p struct {
		BuildDefinition struct {
			ExternalParameters struct{ Archs []string }
		}
	}
	if err := json.Unmarshal(st.Predicate, &p); err != nil {
		t.Fatalf("index provenance predicate: %v", err)
	}
	if len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != index ||
		strings.Join(p.BuildDefinition.ExternalParameters.Archs, ",") != "amd64,arm64" {
		t.Fatalf("index provenance is not about index %s for amd64,arm64: %s", index, st.Predicate)
	}
	testSBOMOfIndex(t, ref)
	repo, err := name.NewRepository(s.host+"/spartan/base", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(index)
	idx, err := remote.Index(repo.Digest(h.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("index lists %d images, want 2", len(m.Manifests))
	}
	for _, d := range m.Manifests {
		pref := repo.Digest(d.Digest.String()).String()
		must(t, cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", pref), "cosign verify "+d.Platform.Architecture)
		for _, typ := range []string{"spdxjson", "cyclonedx", "slsaprovenance1"} {
			must(t, cosign(t, "verify-attestation", "--key", s.pub, "--type", typ, "--insecure-ignore-tlog=true", "--allow-http-registry", pref), "cosign verify-attestation "+typ+" "+d.Platform.Architecture)
		}
		// The per-architecture tag (multi-amd64, multi-arm64) names the same signed image.
		archTag := repo.Tag("multi-" + d.Platform.Architecture)
		desc, err := remote.Head(archTag)
		if err != nil {
			t.Fatalf("per-architecture tag: %v", err)
		}
		if desc.Digest != d.Digest {
			t.Errorf("%s = %s, the index's %s image is %s", archTag, desc.Digest, d.Platform.Architecture, d.Digest)
		}
		must(t, cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", archTag.String()), "cosign verify "+archTag.String())
	}
}

// testSBOMOfIndex reads the SBOM of the pushed two-platform index without --arch: the host's
// platform is taken and named on stderr; --arch picks the other; a platform the index lacks
// is an error listing those it has.
func testSBOMOfIndex(t *testing.T, ref string) {
	host := runtime.GOARCH
	if host != "amd64" && host != "arm64" {
		t.Logf("host %s: not a platform of the index, only --arch is checked", host)
	} else {
		r := must(t, spartan(t, nil, "sbom", ref), "spartan sbom (index, no --arch)")
		t.Logf("spartan sbom %s: %s", ref, strings.TrimSpace(r.stderr))
		if !strings.Contains(r.stderr, ref+": platform linux/"+host) || !strings.Contains(r.stderr, "the host's platform") {
			t.Fatalf("sbom did not say it took linux/%s:\n%s", host, r.stderr)
		}
		if !strings.Contains(r.stdout, "arch="+host) {
			t.Fatalf("the SBOM is not the %s image's", host)
		}
	}
	r := must(t, spartan(t, nil, "sbom", ref, "--arch", "arm64"), "spartan sbom --arch arm64")
	if !strings.Contains(r.stderr, "platform linux/arm64/v8 (as asked") || !strings.Contains(r.stdout, "arch=arm64") || strings.Contains(r.stdout, "arch=amd64") {
		t.Fatalf("sbom --arch arm64: stderr %s", r.stderr)
	}
	r = spartan(t, nil, "sbom", ref, "--arch", "s390x")
	if r.err == nil || !strings.Contains(r.stderr, "no image for platform linux/s390x; the index has linux/amd64, linux/arm64/v8") {
		t.Fatalf("sbom --arch s390x: err %v, stderr %s", r.err, r.stderr)
	}
}

func signedPython(t *testing.T) *signed {
	t.Helper()
	s := &signed{host: startRegistry(t)}
	dir := filepath.Join(workDir, "supplychain")
	os.MkdirAll(dir, 0o755)
	s.key, s.pub = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	must(t, spartan(t, []string{"COSIGN_PASSWORD=" + password}, "keygen", "--output-key-prefix", filepath.Join(dir, "cosign")), "keygen")
	s.ref = s.host + "/spartan/python:3.13"
	s.layoutDir = filepath.Join(dir, "python-oci")
	s.buildOut = must(t, spartan(t, []string{"COSIGN_PASSWORD=" + password}, "-v", "build", filepath.Join(repoRoot, "images", "python"),
		"--arch", "amd64", "--oci", s.layoutDir, "--sign-key", s.key, "--push", s.ref), "build --sign-key --push")
	s.digest = lastLine(s.buildOut.stdout)
	t.Logf("build+sign+push took %s: %s", s.buildOut.elapsed.Round(time.Millisecond), pushLine(s.buildOut.stderr))
	return s
}

var pushRE = regexp.MustCompile(`uploaded (\d+) bytes in (\d+) blobs \((\d+) already present\)`)

func pushLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "pushed ") {
			return l
		}
	}
	return ""
}

func cosign(t *testing.T, args ...string) result {
	t.Helper()
	bin := goTool(t, cosignModule, cosignVersion)
	// Offline: no transparency log, plain HTTP to the loopback registry.
	return run(t, nil, bin, args...)
}

func testSpartanVerify(t *testing.T, s *signed) {
	r := must(t, spartan(t, nil, "verify", s.ref, "--key", s.pub, "--require", "sbom,provenance"), "spartan verify (registry)")
	t.Logf("spartan verify:\n%s", r.stderr)
	must(t, spartan(t, nil, "verify", "oci:"+s.layoutDir, "--key", s.pub, "--require", "sbom,provenance"), "spartan verify (layout)")
	if got := strings.TrimPrefix(strings.TrimSpace(r.stdout), "verified "); got != s.digest {
		t.Fatalf("verified %s, built %s", got, s.digest)
	}
}

func testCosignVerify(t *testing.T, s *signed) {
	r := must(t, cosign(t, "verify", "--key", s.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", s.ref), "cosign verify")
	if !strings.Contains(r.stdout, s.digest) {
		t.Fatalf("cosign verify output does not name %s:\n%s", s.digest, r.stdout)
	}
	for _, typ := range []string{"spdxjson", "cyclonedx", "slsaprovenance1"} {
		must(t, cosign(t, "verify-attestation", "--key", s.pub, "--type", typ, "--insecure-ignore-tlog=true", "--allow-http-registry", s.ref), "cosign verify-attestation --type "+typ)
	}
}

func testTamper(t *testing.T, s *signed) {
	dir := filepath.Join(workDir, "supplychain")
	env := []string{"COSIGN_PASSWORD=" + password}

	// Both verifiers must fail, and for the reason the tampering gives, not for an unrelated
	// one (an unreachable registry would fail them too).
	expectBothFail := func(t *testing.T, ref, pub, require, spartanWhy, cosignWhy string, cosignArgs ...string) {
		t.Helper()
		r := spartan(t, nil, "verify", ref, "--key", pub, "--require", require)
		switch {
		case r.err == nil:
			t.Errorf("spartan verify %s passed", ref)
		case !strings.Contains(r.stderr, spartanWhy):
			t.Errorf("spartan verify %s failed, but not with %q:\n%s", ref, spartanWhy, tail(r.stderr))
		default:
			t.Logf("spartan verify failed as it should: %s", strings.TrimSpace(lastLine(r.stderr)))
		}
		c := cosign(t, append(cosignArgs, "--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry", ref)...)
		switch {
		case c.err == nil:
			t.Errorf("cosign %s %s passed", cosignArgs[0], ref)
		case !strings.Contains(c.stderr, cosignWhy):
			t.Errorf("cosign %s %s failed, but not with %q:\n%s", cosignArgs[0], ref, cosignWhy, tail(c.stderr))
		default:
			t.Logf("cosign failed as it should: %s", strings.TrimSpace(lastLine(c.stderr)))
		}
	}

	t.Run("wrong key", func(t *testing.T) {
		must(t, spartan(t, env, "keygen", "--output-key-prefix", filepath.Join(dir, "other")), "keygen")
		expectBothFail(t, s.ref, filepath.Join(dir, "other.pub"), "sbom", "does not verify with the given public key", "no matching signatures", "verify")
	})

	t.Run("other image under the signed tag", func(t *testing.T) {
		ref := s.host + "/tamper/swap:1"
		must(t, spartan(t, nil, "push", s.layoutDir, ref), "push signed layout")
		must(t, spartan(t, nil, "verify", ref, "--key", s.pub), "verify before the swap")
		other := filepath.Join(dir, "static-oci")
		must(t, spartan(t, nil, "build", filepath.Join(repoRoot, "images", "static"), "--arch", "amd64", "--oci", other), "build static")
		must(t, spartan(t, nil, "push", other, ref), "push other image under the same tag")
		expectBothFail(t, ref, s.pub, "sbom", "is not signed", "no signatures found", "verify")
	})

	t.Run("modified attestation", func(t *testing.T) {
		ref := s.host + "/tamper/att:1"
		must(t, spartan(t, nil, "push", s.layoutDir, ref), "push signed layout")
		must(t, cosign(t, "verify-attestation", "--key", s.pub, "--type", "slsaprovenance1", "--insecure-ignore-tlog=true", "--allow-http-registry", ref), "cosign verify-attestation before tampering")
		repo, err := name.NewRepository(s.host+"/tamper/att", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := sign.AttestationTag(s.digest)
		att, err := remote.Image(repo.Tag(tag))
		if err != nil {
			t.Fatal(err)
		}
		entries, err := sign.Entries(att)
		if err != nil {
			t.Fatal(err)
		}
		// Change the provenance statement inside its envelope, keeping the signature.
		changed := 0
		adds := []mutate.Addendum{}
		for _, e := range entries {
			if strings.HasPrefix(e.Annotations[sign.AnnotationPredicateType], "https://slsa.dev/provenance/") {
				var env struct {
					PayloadType string            `json:"payloadType"`
					Payload     string            `json:"payload"`
					Signatures  []json.RawMessage `json:"signatures"`
				}
				if err := json.Unmarshal(e.Payload, &env); err != nil {
					t.Fatal(err)
				}
				stmt, _ := base64.StdEncoding.DecodeString(env.Payload)
				stmt = []byte(strings.Replace(string(stmt), `"predicate":{`, `"predicate":{"tampered":true,`, 1))
				env.Payload = base64.StdEncoding.EncodeToString(stmt)
				e.Payload, _ = json.Marshal(env)
				changed++
			}
			adds = append(adds, mutate.Addendum{Layer: static.NewLayer(e.Payload, e.MediaType), Annotations: e.Annotations, MediaType: e.MediaType})
		}
		if changed != 1 {
			t.Fatalf("found %d provenance attestations, want 1", changed)
		}
		base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		img, err := mutate.Append(base, adds...)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(repo.Tag(tag), img); err != nil {
			t.Fatal(err)
		}
		expectBothFail(t, ref, s.pub, "provenance", "no verified provenance attestation", "none of the attestations matched the predicate type: slsaprovenance1", "verify-attestation", "--type", "slsaprovenance1")
		// The untouched SBOM attestations still verify: the failure is about provenance.
		must(t, spartan(t, nil, "verify", ref, "--key", s.pub, "--require", "sbom"), "verify sbom after provenance tampering")
	})
}

func testThirdPartyClients(t *testing.T, s *signed) {
	must(t, run(t, nil, "skopeo", "inspect", "--tls-verify=false", "docker://"+s.ref), "skopeo inspect")
	must(t, podman(t, "pull", "--tls-verify=false", s.ref), "podman pull")
	r := must(t, podman(t, "run", "--rm", s.ref, "-c", "import ssl, sqlite3; print('ok', ssl.OPENSSL_VERSION)"), "podman run")
	if !strings.HasPrefix(strings.TrimSpace(r.stdout), "ok OpenSSL") {
		t.Fatalf("podman run printed %q", r.stdout)
	}
}

// testSyft checks that syft, reading the pushed image from the registry, finds the
// same Debian packages as Spartan's signed SBOM.
func testSyft(t *testing.T, s *signed) {
	syft := goTool(t, syftModule, syftVersion)
	r := must(t, run(t, []string{"SYFT_REGISTRY_INSECURE_USE_HTTP=true", "SYFT_CHECK_FOR_APP_UPDATE=false"}, syft, "registry:"+s.ref, "-o", "json", "-q"), "syft")
	var doc struct {
		Artifacts []struct {
			Name, Version, Type string
		} `json:"artifacts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("syft output: %v", err)
	}
	syftPkgs := map[string]bool{}
	for _, a := range doc.Artifacts {
		if a.Type == "deb" {
			syftPkgs[a.Name+" "+a.Version] = true
		}
	}
	ours := sbomPackages(t, s)
	if len(syftPkgs) == 0 || !mapsEqual(syftPkgs, ours) {
		t.Fatalf("syft sees %d packages, Spartan's SBOM lists %d:\nsyft: %v\nsbom: %v", len(syftPkgs), len(ours), keys(syftPkgs), keys(ours))
	}
	t.Logf("syft and Spartan's SBOM agree on %d Debian packages", len(ours))
}

// sbomPackages reads the SPDX attestation from the signed layout and returns its Debian packages.
func sbomPackages(t *testing.T, s *signed) map[string]bool {
	t.Helper()
	p, err := layout.FromPath(s.layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	ii, _ := p.ImageIndex()
	m, _ := ii.IndexManifest()
	tag, _ := sign.AttestationTag(s.digest)
	for _, d := range m.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] != tag {
			continue
		}
		img, err := ii.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := sign.Entries(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Annotations[sign.AnnotationPredicateType] != verify.PredicateSPDX {
				continue
			}
			var env struct{ Payload string }
			json.Unmarshal(e.Payload, &env)
			raw, _ := base64.StdEncoding.DecodeString(env.Payload)
			st, err := sign.ParseStatement(raw)
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := verify.SBOMPackages(verify.PredicateSPDX, st.Predicate)
			if err != nil {
				t.Fatal(err)
			}
			return pkgs
		}
	}
	t.Fatalf("no SPDX attestation in %s", s.layoutDir)
	return nil
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// testIncrementalPush pushes a variant of the python image with one extra small
// package to the same repository and checks that only the blobs the registry lacked travel.
func testIncrementalPush(t *testing.T, s *signed) {
	specDir := filepath.Join(workDir, "python-plus")
	spec, err := os.ReadFile(filepath.Join(repoRoot, "images", "python", "spartan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(specDir, "spartan.yaml"), strings.Replace(string(spec), "packages:\n", "packages:\n  - liblz4-1\n", 1))
	out := filepath.Join(workDir, "python-plus-oci")
	b := must(t, spartan(t, nil, "build", specDir, "--arch", "amd64", "--oci", out), "build python + liblz4-1")
	newDigest := lastLine(b.stdout)
	if newDigest == s.digest {
		t.Fatal("the extra package did not change the image")
	}

	// What the registry lacks: the new image's blobs that the first push did not send.
	oldBlobs := blobSizes(t, s.layoutDir, s.digest)
	newBlobs := blobSizes(t, out, newDigest)
	var want, total int64
	missing := 0
	for d, size := range newBlobs {
		total += size
		if _, ok := oldBlobs[d]; !ok {
			want += size
			missing++
		}
	}
	r := must(t, spartan(t, nil, "push", out, s.host+"/spartan/python:3.13-plus"), "push variant")
	m := pushRE.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("push did not report its upload: %s", r.stderr)
	}
	got, _ := strconv.ParseInt(m[1], 10, 64)
	blobs, _ := strconv.Atoi(m[2])
	present, _ := strconv.Atoi(m[3])
	t.Logf("incremental push: %s (image %d bytes in %d blobs; %d blobs, %d bytes were new)", pushLine(r.stderr), total, len(newBlobs), missing, want)
	if got != want || blobs != missing || present != len(newBlobs)-missing {
		t.Fatalf("uploaded %d bytes in %d blobs (%d present), want %d bytes in %d blobs", got, blobs, present, want, missing)
	}
	if want >= total/2 {
		t.Fatalf("one extra package changed %d of %d bytes: layers are not shared", want, total)
	}
}

// blobSizes maps the config and layer digests of the image digest in a layout to their sizes.
func blobSizes(t *testing.T, dir, digest string) map[v1.Hash]int64 {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	ii, _ := p.ImageIndex()
	h, _ := v1.NewHash(digest)
	img, err := ii.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[v1.Hash]int64{m.Config.Digest: m.Config.Size}
	for _, l := range m.Layers {
		out[l.Digest] = l.Size
	}
	return out
}
