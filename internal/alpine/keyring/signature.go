package keyring

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spartan-images/spartan/internal/alpine/segment"
)

const maxSignature = 64 << 10 // one RSA-4096 signature is 512 bytes; a few keys fit many times

// ReadSignatures reads the signature segment apk puts first in an index or a package: a tar
// holding only .SIGN.RSA.<key> / .SIGN.RSA256.<key> entries. Indexes and packages share it, so both
// refuse the same things the same way.
func ReadSignatures(seg *segment.Reader) ([]Signature, error) {
	body, err := seg.Next()
	if errors.Is(err, segment.ErrNoMore) {
		return nil, errors.New("empty file: no signature segment")
	}
	if err != nil {
		return nil, fmt.Errorf("signature segment: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(body, maxSignature))
	var sigs []Signature
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("signature segment: %w", err)
		}
		alg, key, ok := ParseSignatureName(hdr.Name)
		if !ok {
			if len(sigs) == 0 {
				return nil, fmt.Errorf("not signed: the first entry is %q, not a .SIGN.RSA.* signature; refusing unsigned content", clip(hdr.Name))
			}
			return nil, fmt.Errorf("signature segment: unexpected entry %q after the signatures", clip(hdr.Name))
		}
		var v bytes.Buffer
		if _, err := io.Copy(&v, tr); err != nil {
			return nil, fmt.Errorf("signature %s: %w", key, err)
		}
		sigs = append(sigs, Signature{Algorithm: alg, KeyName: key, Value: v.Bytes()})
	}
	// The rest of the segment must decompress cleanly, or its end was not where we think.
	if n, err := io.Copy(io.Discard, body); err != nil {
		return nil, fmt.Errorf("signature segment: %w", err)
	} else if n > 0 && len(sigs) == 0 {
		return nil, errors.New("signature segment holds no signature")
	}
	if len(sigs) == 0 {
		return nil, errors.New("not signed: no .SIGN.RSA.* entry; refusing unsigned content")
	}
	return sigs, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
