package sign

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	priv, pub, err := GenerateKeyPair([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(priv); b == nil || b.Type != SigstorePrivateKey {
		t.Fatalf("private key PEM type: %+v", b)
	}
	k, err := DecryptPrivateKey(priv, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey.Equal(p) {
		t.Fatal("public key does not match the private key")
	}
}

func TestDecryptPrivateKeyErrors(t *testing.T) {
	priv, pub, err := GenerateKeyPair([]byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(priv)
	legacy := pem.EncodeToMemory(&pem.Block{Type: CosignPrivateKey, Bytes: block.Bytes})
	damaged := pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKey, Bytes: block.Bytes[:len(block.Bytes)/2]})
	tests := []struct {
		name     string
		data     []byte
		password string
		want     string // "" means success
	}{
		{"sigstore type", priv, "right", ""},
		{"older cosign type", legacy, "right", ""},
		{"wrong password", priv, "wrong", "wrong password"},
		{"empty password", priv, "", "wrong password"},
		{"damaged", damaged, "right", "damaged"},
		{"public key given", pub, "right", "not a cosign private key"},
		{"not PEM", []byte("hello"), "right", "not a PEM file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecryptPrivateKey(tt.data, []byte(tt.password))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if tt.want == "wrong password" && !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("error %v is not ErrWrongPassword", err)
			}
		})
	}
}

func TestWriteKeyPair(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "cosign")
	keyPath, pubPath, err := WriteKeyPair(prefix, []byte("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{keyPath: 0o600, pubPath: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), mode)
		}
	}
	before, _ := os.ReadFile(keyPath)
	if _, _, err := WriteKeyPair(prefix, []byte("pw"), false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second keygen: %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(keyPath); !bytes.Equal(before, after) {
		t.Fatal("refused keygen changed the key file")
	}
	if _, _, err := WriteKeyPair(prefix, []byte("pw"), true); err != nil {
		t.Fatalf("--force: %v", err)
	}
	if after, _ := os.ReadFile(keyPath); bytes.Equal(before, after) {
		t.Fatal("--force did not replace the key")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) > 0 {
		t.Fatalf("temporary files left behind: %v", m)
	}
}

func TestLoadPrivateKey(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, err := WriteKeyPair(filepath.Join(dir, "k"), []byte("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	pw := func(s string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(s), nil } }
	k, err := LoadPrivateKey(keyPath, pw("pw"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey.Equal(pub) {
		t.Fatal("loaded keys do not match")
	}
	if _, err := LoadPrivateKey(keyPath, pw("nope")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadPrivateKey(keyPath, pw("pw"))
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+keyPath) {
			t.Fatalf("mode %04o: %v, want a chmod 600 hint", mode, err)
		}
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "missing.key"), pw("pw")); err == nil {
		t.Fatal("missing key file loaded")
	}
}

// testdata/cosign.key and cosign.pub were made by `cosign generate-key-pair` (v3.1.3) with
// COSIGN_PASSWORD=spartan-test, and cosign.sig by `cosign sign-blob --key cosign.key
// hello.txt`: they prove Spartan reads cosign's keys and cosign's signatures without
// needing cosign at test time.
func TestCosignKeyVector(t *testing.T) {
	data, err := os.ReadFile("testdata/cosign.key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := DecryptPrivateKey(data, []byte("spartan-test"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey("testdata/cosign.pub")
	if err != nil {
		t.Fatal(err)
	}
	if !k.PublicKey.Equal(pub) {
		t.Fatal("cosign's key pair does not match")
	}
	blob, err := os.ReadFile("testdata/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile("testdata/cosign.sig")
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBlob(pub, blob, strings.TrimSpace(string(sig))); err != nil {
		t.Fatalf("cosign's signature: %v", err)
	}
	if err := VerifyBlob(pub, append(blob, '!'), strings.TrimSpace(string(sig))); err == nil {
		t.Fatal("cosign's signature verified over other content")
	}
}

// TestKeyFormatMatchesCosign compares the envelope of a key Spartan writes with the one cosign
// wrote (testdata): same PEM type, same KDF and cipher with the same parameters.
func TestKeyFormatMatchesCosign(t *testing.T) {
	theirs, err := os.ReadFile("testdata/cosign.key")
	if err != nil {
		t.Fatal(err)
	}
	ours, _, err := GenerateKeyPair([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	type envelope struct {
		KDF struct {
			Name   string         `json:"name"`
			Params map[string]int `json:"params"`
		} `json:"kdf"`
		Cipher struct {
			Name string `json:"name"`
		} `json:"cipher"`
	}
	parse := func(data []byte) (string, envelope) {
		b, _ := pem.Decode(data)
		var e envelope
		if err := json.Unmarshal(b.Bytes, &e); err != nil {
			t.Fatal(err)
		}
		return b.Type, e
	}
	tt, te := parse(theirs)
	ot, oe := parse(ours)
	if tt != ot || te.KDF.Name != oe.KDF.Name || te.Cipher.Name != oe.Cipher.Name || !maps.Equal(te.KDF.Params, oe.KDF.Params) {
		t.Fatalf("cosign: %s %+v\nspartan: %s %+v", tt, te, ot, oe)
	}
}
