// Package keyring holds the RSA public keys that Alpine repositories and packages are signed
// with, and checks the detached signatures apk-tools puts in front of an index or a package.
package keyring

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // apk's ".SIGN.RSA." signatures are RSA over SHA-1 by definition.
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Alpine's release keys, embedded so a build trusts exactly these (see keys/README.md).
//
//go:embed keys/*.rsa.pub
var alpineKeys embed.FS

// Keyring maps a key's file name, as signatures name it, to the key.
type Keyring map[string]*rsa.PublicKey

var defaultKeyring = sync.OnceValues(func() (Keyring, error) {
	entries, err := alpineKeys.ReadDir("keys")
	if err != nil {
		return nil, fmt.Errorf("embedded Alpine keys: %w", err)
	}
	kr := Keyring{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".rsa.pub") {
			continue
		}
		data, err := alpineKeys.ReadFile(path.Join("keys", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("embedded Alpine key %s: %w", e.Name(), err)
		}
		if err := kr.Add(e.Name(), data); err != nil {
			return nil, fmt.Errorf("embedded Alpine key: %w", err)
		}
	}
	if len(kr) == 0 {
		return nil, errors.New("embedded Alpine keyring is empty; the binary was built without keys/*.rsa.pub")
	}
	return kr, nil
})

// Default returns Alpine's release keys built into the binary.
func Default() (Keyring, error) {
	kr, err := defaultKeyring()
	// A copy, so a caller adding its own keys cannot change what others see.
	return maps.Clone(kr), err
}

// Add parses a PEM public key (PKIX or PKCS#1) and stores it under name, the file name a
// signature will refer to it by (e.g. "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub").
func (k Keyring) Add(name string, pemData []byte) error {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("key name %q: must be a plain file name", name)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		return fmt.Errorf("key %s: no PEM block; want a \"BEGIN PUBLIC KEY\" file as in /etc/apk/keys", name)
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return fmt.Errorf("key %s: PEM block %q, want PUBLIC KEY", name, block.Type)
	}
	if err != nil {
		return fmt.Errorf("key %s: %w", name, err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("key %s: %T, apk signatures need an RSA key", name, pub)
	}
	k[name] = rk
	return nil
}

// Load reads a key file; its base name is the name signatures use.
func (k Keyring) Load(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read apk key: %w", err)
	}
	return k.Add(filepath.Base(file), data)
}

// Names lists the key names, sorted, for messages.
func (k Keyring) Names() []string { return slices.Sorted(maps.Keys(k)) }

// Algorithm is how a signature was made, from the prefix of its file name.
type Algorithm int

const (
	RSASHA1   Algorithm = iota + 1 // ".SIGN.RSA.<key>"
	RSASHA256                      // ".SIGN.RSA256.<key>"
)

// Signature is one signature entry of a signature segment.
type Signature struct {
	Algorithm Algorithm
	KeyName   string
	Value     []byte
}

// ParseSignatureName splits ".SIGN.RSA.<key>" / ".SIGN.RSA256.<key>"; ok is false for any other
// entry name.
func ParseSignatureName(name string) (Algorithm, string, bool) {
	switch {
	case strings.HasPrefix(name, ".SIGN.RSA256."):
		return RSASHA256, strings.TrimPrefix(name, ".SIGN.RSA256."), true
	case strings.HasPrefix(name, ".SIGN.RSA."):
		return RSASHA1, strings.TrimPrefix(name, ".SIGN.RSA."), true
	}
	return 0, "", false
}

// Digests are the hashes of a signed segment; both are computed since the algorithm is only
// known once the signature has been read.
type Digests struct {
	SHA1, SHA256 []byte
}

// Verify checks that one of sigs is a valid signature of the segment hashed in d by a key in
// k. Signatures by keys not in k are skipped, as apk does; the error names what was tried so
// the user knows which key to add.
func (k Keyring) Verify(what string, sigs []Signature, d Digests) (string, error) {
	if len(sigs) == 0 {
		return "", fmt.Errorf("%s: not signed (no .SIGN.RSA.* entry); refusing unsigned content", what)
	}
	var unknown []string
	for _, s := range sigs {
		key, ok := k[s.KeyName]
		if !ok {
			unknown = append(unknown, s.KeyName)
			continue
		}
		h, sum := crypto.SHA1, d.SHA1
		if s.Algorithm == RSASHA256 {
			h, sum = crypto.SHA256, d.SHA256
		}
		if err := rsa.VerifyPKCS1v15(key, h, sum, s.Value); err != nil {
			return "", fmt.Errorf("%s: signature by %s does not verify: the content was altered or is corrupt", what, s.KeyName)
		}
		return s.KeyName, nil
	}
	return "", fmt.Errorf("%s: signed by %s, which is not a trusted key (trusted: %s); add the repository's key file to its keyring: in the spec",
		what, strings.Join(unknown, ", "), strings.Join(k.Names(), ", "))
}

// Digest hashes data both ways, for content already in memory.
func Digest(data []byte) Digests {
	s1 := sha1.Sum(data) //nolint:gosec // see import
	s256 := sha256.Sum256(data)
	return Digests{SHA1: s1[:], SHA256: s256[:]}
}
