// Package sign makes and checks cosign-compatible signatures and attestations: ECDSA P-256
// keys in cosign's encrypted PEM format, simple-signing payloads over a manifest digest, DSSE
// envelopes around in-toto statements, and the `sha256-<hex>.sig` / `.att` images cosign
// stores them in. Anything signed here verifies with `cosign verify --key` and
// `cosign verify-attestation --key`, and keys from `cosign generate-key-pair` load here.
package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spartan-images/spartan/internal/atomicfile"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PEM block types. cosign writes SigstorePrivateKey since v2 and still reads the older
// CosignPrivateKey; both hold the same thing: a PKCS#8 DER key encrypted with scrypt and
// NaCl secretbox (go-securesystemslib's "encrypted" JSON).
const (
	SigstorePrivateKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	CosignPrivateKey   = "ENCRYPTED COSIGN PRIVATE KEY"
	PublicKeyPEM       = "PUBLIC KEY"
)

// ErrWrongPassword is returned when a private key does not decrypt with the password given.
var ErrWrongPassword = errors.New("wrong password (or the key file is corrupt)")

// GenerateKeyPair makes a new P-256 key and returns the encrypted private key PEM and the
// public key PEM, as cosign generate-key-pair would write them.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	privPEM, err = EncryptPrivateKey(key, password)
	if err != nil {
		return nil, nil, err
	}
	pubPEM, err = MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return privPEM, pubPEM, nil
}

// EncryptPrivateKey encodes key as PKCS#8, encrypts it with password using the library's
// standard scrypt parameters (the ones cosign uses) and wraps it in PEM.
func EncryptPrivateKey(key *ecdsa.PrivateKey, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKey, Bytes: enc}), nil
}

// MarshalPublicKey returns the PKIX PEM of pub.
func MarshalPublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyPEM, Bytes: der}), nil
}

// DecryptPrivateKey parses an encrypted private key PEM (either type cosign writes).
func DecryptPrivateKey(data, password []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file")
	}
	if block.Type != SigstorePrivateKey && block.Type != CosignPrivateKey {
		return nil, fmt.Errorf("PEM type %q is not a cosign private key (want %q)", block.Type, SigstorePrivateKey)
	}
	if !json.Valid(block.Bytes) {
		return nil, errors.New("encrypted key is not the JSON cosign writes: the file is damaged")
	}
	der, err := encrypted.Decrypt(block.Bytes, password)
	if err != nil {
		// secretbox cannot tell a bad password from a damaged ciphertext; the password is
		// by far the likelier cause.
		if err.Error() == "encrypted: decryption failed" {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is a %T; only ECDSA keys are supported", k)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key uses curve %s; only P-256 is supported", ec.Curve.Params().Name)
	}
	return ec, nil
}

// ParsePublicKey parses a PKIX PEM public key.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file")
	}
	if block.Type != PublicKeyPEM {
		return nil, fmt.Errorf("PEM type %q is not a public key (want %q)", block.Type, PublicKeyPEM)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is a %T; only ECDSA keys are supported", k)
	}
	return ec, nil
}

// LoadPrivateKey reads and decrypts a private key file. Files readable by group or others are
// refused: the encryption is only as strong as the password, so the file must stay private.
func LoadPrivateKey(path string, password func() ([]byte, error)) (*ecdsa.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("private key %s is accessible by group or others (mode %04o): run `chmod 600 %s`", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	pw, err := password()
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	k, err := DecryptPrivateKey(data, pw)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyPair generates a key pair and writes prefix.key (mode 0600) and prefix.pub. Existing
// files are kept unless force is set: overwriting a key by accident loses it for good.
func WriteKeyPair(prefix string, password []byte, force bool) (keyPath, pubPath string, err error) {
	keyPath, pubPath = prefix+".key", prefix+".pub"
	if !force {
		for _, p := range []string{keyPath, pubPath} {
			if _, err := os.Lstat(p); err == nil {
				return "", "", fmt.Errorf("%s already exists: refusing to overwrite a key (use --force, or another --output-key-prefix)", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", "", err
			}
		}
	}
	priv, pub, err := GenerateKeyPair(password)
	if err != nil {
		return "", "", err
	}
	if err := writeAtomic(keyPath, priv, 0o600); err != nil {
		return "", "", err
	}
	if err := writeAtomic(pubPath, pub, 0o644); err != nil {
		return "", "", err
	}
	return keyPath, pubPath, nil
}

// writeAtomic writes data to path through a temporary file, so that a crash never leaves half
// a key behind; the temporary file is created 0600 and only then given its final mode.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	return atomicfile.WriteBytes(path, mode, data)
}
