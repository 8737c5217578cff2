package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const testDigest = "sha256:7bbc08cc6604b72c3f787c4ef7e4ae937b0fc9c395a86618d088ddc0d1b15b52"

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSimpleSigningPayload(t *testing.T) {
	got, err := SimpleSigningPayload("registry.example/spartan/python", testDigest)
	if err != nil {
		t.Fatal(err)
	}
	// The exact bytes cosign signs (its payload.Cosign marshalling).
	want := `{"critical":{"identity":{"docker-reference":"registry.example/spartan/python"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"cosign container image signature"},"optional":null}`
	if string(got) != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}
	d, err := PayloadDigest(got)
	if err != nil || d != testDigest {
		t.Fatalf("PayloadDigest = %q, %v", d, err)
	}
	if _, err := SimpleSigningPayload("r", "sha256:abc"); err == nil {
		t.Fatal("short digest accepted")
	}
}

func TestTags(t *testing.T) {
	sig, err := SignatureTag(testDigest)
	if err != nil || sig != "sha256-"+testDigest[7:]+".sig" {
		t.Fatalf("SignatureTag = %q, %v", sig, err)
	}
	att, _ := AttestationTag(testDigest)
	for _, tt := range []struct {
		tag  string
		want bool
	}{{sig, true}, {att, true}, {"3.13", false}, {"sha256-abc.sig", false}, {strings.TrimSuffix(sig, ".sig") + ".sbom", false}} {
		if got := IsAttachmentTag(tt.tag); got != tt.want {
			t.Errorf("IsAttachmentTag(%q) = %v", tt.tag, got)
		}
	}
	if _, err := SignatureTag("latest"); err == nil {
		t.Fatal("tag for a non-digest")
	}
}

func statement(t *testing.T, predicateType, digest string) []byte {
	t.Helper()
	s, err := NewStatement(predicateType, "spartan/python", digest, []byte(`{"k":"v"}`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDSSE(t *testing.T) {
	key, other := testKey(t), testKey(t)
	stmt := statement(t, "https://slsa.dev/provenance/v1", testDigest)
	env, err := SignStatement(key, stmt)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	if e.PayloadType != InTotoPayloadType || len(e.Signatures) != 1 {
		t.Fatalf("envelope shape: %s", env)
	}
	tamper := func(f func()) []byte {
		saved := e
		saved.Signatures = append(saved.Signatures[:0:0], e.Signatures...)
		f()
		out, _ := json.Marshal(e)
		e = saved
		return out
	}
	evil := strings.Replace(string(stmt), `"v"`, `"w"`, 1)
	tests := []struct {
		name string
		env  []byte
		key  *ecdsa.PublicKey
		want string
	}{
		{"round trip", env, &key.PublicKey, ""},
		{"wrong key", env, &other.PublicKey, "does not verify"},
		{"tampered payload", tamper(func() { e.Payload = base64.StdEncoding.EncodeToString([]byte(evil)) }), &key.PublicKey, "does not verify"},
		{"payload type changed", tamper(func() { e.PayloadType = "application/json" }), &key.PublicKey, "payload type"},
		{"no signatures", tamper(func() { e.Signatures = nil }), &key.PublicKey, "no signatures"},
		{"garbage signature", tamper(func() { e.Signatures[0].Sig = "!!" }), &key.PublicKey, "does not verify"},
		{"not JSON", []byte("{"), &key.PublicKey, "not a DSSE envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyEnvelope(tt.key, tt.env)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(stmt) {
					t.Fatalf("payload changed in the round trip")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBlobSignature(t *testing.T) {
	key := testKey(t)
	sig, err := SignBlob(key, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBlob(&key.PublicKey, []byte("payload"), sig); err != nil {
		t.Fatal(err)
	}
	if err := VerifyBlob(&key.PublicKey, []byte("payloaD"), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
	if err := VerifyBlob(&testKey(t).PublicKey, []byte("payload"), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestParseStatement(t *testing.T) {
	good := statement(t, "https://spdx.dev/Document", testDigest)
	s, err := ParseStatement(good)
	if err != nil {
		t.Fatal(err)
	}
	if !s.About(testDigest) || s.About("sha256:"+strings.Repeat("0", 64)) || s.About("latest") {
		t.Fatal("About is wrong")
	}
	for _, bad := range []string{`{}`, `{"_type":"x","predicateType":"p"}`, `{"_type":"https://in-toto.io/Statement/v1"}`, `[`} {
		if _, err := ParseStatement([]byte(bad)); err == nil {
			t.Errorf("ParseStatement(%s) accepted", bad)
		}
	}
}
