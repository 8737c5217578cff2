package assemble

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// javaTrustStorePath is where Debian's OpenJDK packages look for trusted CAs: every
// $JAVA_HOME/lib/security/cacerts they ship is a link to it. ca-certificates-java's
// maintainer script fills it with a Java program, which never runs in a built image.
const javaTrustStorePath = "etc/ssl/certs/java/cacerts"

// javaTrustStore writes the CA bundle as a PKCS#12 trust store when an installed package
// links to javaTrustStorePath, so Java trusts exactly what OpenSSL and Go programs trust,
// the spec's extra certificates included.
//
// The store is password-less (no MAC, certificates not encrypted), like the cacerts the JDK
// itself ships since JDK 18: Java reads it whether or not a program sets
// javax.net.ssl.trustStorePassword (a password is then simply not needed), and with nothing
// to encrypt there is no salt, so the bytes depend on the bundle alone.
func (a *assembler) javaTrustStore() error {
	if !a.linksTo("/" + javaTrustStorePath) {
		return nil
	}
	if n := a.tree.nodes[javaTrustStorePath]; n != nil {
		return nil // a package ships its own store: leave it alone
	}
	bundle := a.tree.nodes["etc/ssl/certs/ca-certificates.crt"]
	if bundle == nil || bundle.kind != kindReg {
		a.notes = append(a.notes, fmt.Sprintf("no CA bundle: /%s (the Java trust store) is not written; install ca-certificates or list certificates in the spec", javaTrustStorePath))
		return nil
	}
	store, err := encodeTrustStore(bundle.blob.data)
	if err != nil {
		return fmt.Errorf("java trust store /%s: %w", javaTrustStorePath, err)
	}
	return a.synthFile(javaTrustStorePath, store, 0o644, bundle.owners[0])
}

// linksTo reports whether some symlink in the image points at target (an absolute path).
func (a *assembler) linksTo(target string) bool {
	for _, n := range a.tree.nodes {
		if n.kind == kindSymlink && n.target == target {
			return true
		}
	}
	return false
}

// errNoRandomness fails any attempt of the encoder to draw random bytes (a salt), which
// would make the store differ from build to build.
type errNoRandomness struct{}

func (errNoRandomness) Read([]byte) (int, error) {
	return 0, errors.New("the trust store encoder asked for random bytes: the output would not be reproducible")
}

// encodeTrustStore turns a PEM bundle into a password-less PKCS#12 Java trust store, in
// bundle order. Aliases are the subject plus a fingerprint prefix: Java keys entries by
// alias, so two CAs with the same subject (a renewed root) must not collide.
func encodeTrustStore(bundle []byte) ([]byte, error) {
	var entries []pkcs12.TrustStoreEntry
	seen := map[[32]byte]bool{}
	rest := bundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle certificate %d: %w", len(entries)+1, err)
		}
		sum := sha256.Sum256(cert.Raw)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		name := cert.Subject.CommonName
		if name == "" {
			name = cert.Subject.String()
		}
		entries = append(entries, pkcs12.TrustStoreEntry{
			Cert:         cert,
			FriendlyName: fmt.Sprintf("%s [%x]", strings.ToLower(name), sum[:6]),
		})
	}
	if len(entries) == 0 {
		return nil, errors.New("the CA bundle holds no certificate")
	}
	return pkcs12.Passwordless.WithRand(errNoRandomness{}).EncodeTrustStoreEntries(entries, "")
}
