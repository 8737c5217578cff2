package spec

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

// maxRefFile bounds the files a spec points at; CA bundles and keyrings
// are kilobytes, and a spec must not make the tool read a disk image.
const maxRefFile = 16 << 20

func readRef(p string) ([]byte, string) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Sprintf("%s is not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRefFile+1))
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err))
	}
	if len(data) > maxRefFile {
		return nil, fmt.Sprintf("%s is larger than %d MiB", p, maxRefFile>>20)
	}
	return data, ""
}

// unwrapPath drops the *PathError wrapper: the message already names the
// file and would otherwise repeat it.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// checkCertFile requires at least one PEM CERTIFICATE block and that every
// such block parses: a corrupt extra CA would otherwise only show up as
// TLS failures inside the running container.
func checkCertFile(p string) string {
	data, msg := readRef(p)
	if msg != "" {
		return msg
	}
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Sprintf("%s: certificate %d does not parse: %v", p, n, err)
		}
	}
	if n == 0 {
		return fmt.Sprintf("%s contains no PEM CERTIFICATE block", p)
	}
	return ""
}

// checkKeyringFile is a light sanity check; the archive client does the
// real OpenPGP parsing and reports key problems with the repository.
func checkKeyringFile(p string) string {
	data, msg := readRef(p)
	if msg != "" {
		return msg
	}
	switch {
	case len(data) == 0:
		return fmt.Sprintf("%s is empty", p)
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN ")):
		if !bytes.Contains(data, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			return fmt.Sprintf("%s is armored but holds no PGP PUBLIC KEY BLOCK", p)
		}
	case data[0]&0x80 == 0:
		// Binary OpenPGP packets always start with the high bit set.
		return fmt.Sprintf("%s is neither an armored nor a binary OpenPGP keyring", p)
	}
	return ""
}
