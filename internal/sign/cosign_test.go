package sign

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cosignBinary finds a cosign to check interoperability against: $SPARTAN_COSIGN, else PATH.
// Hermetic runs have none and skip; the e2e suite installs one.
func cosignBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SPARTAN_COSIGN"); p != "" {
		return p
	}
	p, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not available (set SPARTAN_COSIGN or put it on PATH)")
	}
	return p
}

// TestCosignReadsOurKeys has cosign decrypt a key pair Spartan wrote and verify a signature
// Spartan made.
func TestCosignReadsOurKeys(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	keyPath, pubPath, err := WriteKeyPair(filepath.Join(dir, "k"), []byte("interop"), false)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "public-key", "--key", keyPath)
	cmd.Env = append(os.Environ(), EnvPassword+"=interop")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cosign public-key: %v\n%s", err, out)
	}
	got, err := ParsePublicKey(out)
	if err != nil {
		t.Fatalf("cosign public-key output: %v\n%s", err, out)
	}
	want, _ := LoadPublicKey(pubPath)
	if !got.Equal(want) {
		t.Fatal("cosign derived another public key from our private key")
	}

	key, err := LoadPrivateKey(keyPath, func() ([]byte, error) { return []byte("interop"), nil })
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blob")
	os.WriteFile(blob, []byte("some content"), 0o644)
	sig, err := SignBlob(key, []byte("some content"))
	if err != nil {
		t.Fatal(err)
	}
	sigPath := filepath.Join(dir, "blob.sig")
	os.WriteFile(sigPath, []byte(sig), 0o644)
	verify := func(path string) error {
		return exec.Command(bin, "verify-blob", "--key", pubPath, "--signature", sigPath,
			"--insecure-ignore-tlog=true", "--new-bundle-format=false", path).Run()
	}
	if err := verify(blob); err != nil {
		t.Fatalf("cosign verify-blob rejected our signature: %v", err)
	}
	os.WriteFile(blob, []byte("other content"), 0o644)
	if err := verify(blob); err == nil {
		t.Fatal("cosign verify-blob accepted our signature over other content")
	}
}
