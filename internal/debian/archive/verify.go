package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// keyringHint ends every signature error: the usual cause of an unknown key is a private or
// third-party mirror, and the fix is to tell Spartan its key.
const keyringHint = "if this is a private or third-party mirror, pass its public key with --keyring FILE (or keyring: in the spec)"

// verifyInRelease checks the clearsigned InRelease data against keyring and returns the signed
// text, with dash-escaping undone: the only part of the file that may be trusted.
func verifyInRelease(url string, data []byte, keyring openpgp.EntityList, now time.Time) ([]byte, error) {
	block, rest := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("verify %s: not an OpenPGP clearsigned file (no valid \"BEGIN PGP SIGNED MESSAGE\" block); "+
			"Spartan only accepts signed InRelease files; check the mirror URL and suite", url)
	}
	// apt refuses text outside the signed block; accepting it would let a man in the middle
	// prepend or append fields that a careless parser might read.
	if i := bytes.Index(data, []byte("-----BEGIN PGP SIGNED MESSAGE-----")); len(bytes.TrimSpace(data[:i])) != 0 {
		return nil, fmt.Errorf("verify %s: unsigned data before the signed message; the file was tampered with or is not an InRelease", url)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("verify %s: unsigned data after the signature; the file was tampered with or is not an InRelease", url)
	}

	sigs, err := readSignatures(block.ArmoredSignature.Body)
	if err != nil {
		return nil, fmt.Errorf("verify %s: reading the signature: %w", url, err)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("verify %s: the signature block holds no signature", url)
	}

	// Debian signs seconds after the Date it writes, and hosts' clocks drift: checking
	// signature times with the same tolerance as the Date keeps a freshly published release
	// from reading as "signed in the future". Key expiry moves by as much, which is harmless.
	cfg := &packet.Config{Time: func() time.Time { return now.Add(clockSkew) }}
	var failures []string
	var known, mismatch bool
	// Debian signs with several keys (this and the previous release's), and a key may expire
	// before the others. go-crypto checks only the first signature whose issuer it knows, so
	// each signer is tried on its own and one good signature suffices, as in apt.
	for _, sig := range sigs {
		entities := signerEntities(keyring, sig)
		if len(entities) == 0 {
			continue
		}
		known = true
		_, err := openpgp.CheckDetachedSignature(entities, bytes.NewReader(block.Bytes),
			bytes.NewReader(sig.raw), cfg)
		if err == nil {
			return block.Plaintext, nil
		}
		why, isMismatch := describeSigError(err)
		mismatch = mismatch || isMismatch
		failures = append(failures, fmt.Sprintf("key %s: %s", sig.keyID(), why))
	}
	if !known {
		ids := make([]string, len(sigs))
		for i, s := range sigs {
			ids[i] = s.keyID()
		}
		return nil, fmt.Errorf("verify %s: signed by unknown key %s, which is not in the keyring; %s",
			url, strings.Join(ids, ", "), keyringHint)
	}
	if mismatch {
		return nil, fmt.Errorf("verify %s: bad signature (%s); the file was altered in transit or on the mirror; "+
			"retry or choose another mirror with --mirror", url, strings.Join(failures, "; "))
	}
	return nil, fmt.Errorf("verify %s: no usable signature (%s)", url, strings.Join(failures, "; "))
}

// describeSigError explains a verification failure and says whether it means the content
// does not match (as opposed to a key or clock problem).
func describeSigError(err error) (string, bool) {
	switch {
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return "the signing key has expired; update Spartan for newer embedded keys, or pass a current key with --keyring FILE", false
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return "the signing key is revoked", false
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return "the signature is expired or dated in the future; check the host clock", false
	}
	var se pgperrors.SignatureError
	if errors.As(err, &se) {
		return "signature does not match the signed text", true
	}
	return err.Error(), true
}

// signature is one packet of a (possibly multi-signer) signature block, kept with its raw
// bytes so it can be verified on its own.
type signature struct {
	raw    []byte
	issuer uint64
	fpr    []byte
}

func (s signature) keyID() string {
	if len(s.fpr) > 0 {
		return fmt.Sprintf("%X", s.fpr)
	}
	return fmt.Sprintf("%016X", s.issuer)
}

// readSignatures splits the signature block into its packets, keeping each one's raw bytes:
// go-crypto cannot re-serialize a parsed signature faithfully, and verifying the original bytes
// is what matters.
func readSignatures(r io.Reader) ([]signature, error) {
	body, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	var out []signature
	for len(body) > 0 {
		n, err := packetLength(body)
		if err != nil {
			return nil, err
		}
		raw := body[:n]
		body = body[n:]
		p, err := packet.Read(bytes.NewReader(raw))
		if err != nil {
			// Unknown packet versions or algorithms: skip, another signature may still do.
			var ue pgperrors.UnsupportedError
			if errors.As(err, &ue) {
				continue
			}
			return nil, err
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			return nil, fmt.Errorf("unexpected %T in signature block", p)
		}
		s := signature{raw: raw, fpr: sig.IssuerFingerprint}
		switch {
		case sig.IssuerKeyId != nil:
			s.issuer = *sig.IssuerKeyId
		case len(s.fpr) == 20: // v4: the key id is the fingerprint's low 64 bits
			s.issuer = binary.BigEndian.Uint64(s.fpr[12:])
		case len(s.fpr) == 32: // v6: its high 64 bits
			s.issuer = binary.BigEndian.Uint64(s.fpr[:8])
		}
		out = append(out, s)
	}
	return out, nil
}

// packetLength returns the total length (header and body) of the OpenPGP packet at the start
// of b (RFC 9580 section 4.2). Partial body lengths are not allowed for signature packets.
func packetLength(b []byte) (int, error) {
	if b[0]&0x80 == 0 {
		return 0, errors.New("malformed packet header")
	}
	var hdr, body int
	if b[0]&0x40 != 0 { // new format
		if len(b) < 2 {
			return 0, errors.New("truncated packet header")
		}
		switch l := int(b[1]); {
		case l < 192:
			hdr, body = 2, l
		case l < 224:
			if len(b) < 3 {
				return 0, errors.New("truncated packet header")
			}
			hdr, body = 3, (l-192)<<8+int(b[2])+192
		case l == 255:
			if len(b) < 6 {
				return 0, errors.New("truncated packet header")
			}
			hdr, body = 6, int(b[2])<<24|int(b[3])<<16|int(b[4])<<8|int(b[5])
		default:
			return 0, errors.New("partial-length packet in a signature block")
		}
	} else { // old format
		switch b[0] & 3 {
		case 0:
			hdr = 2
		case 1:
			hdr = 3
		case 2:
			hdr = 5
		default:
			return 0, errors.New("indeterminate-length packet in a signature block")
		}
		if len(b) < hdr {
			return 0, errors.New("truncated packet header")
		}
		for _, c := range b[1:hdr] {
			body = body<<8 | int(c)
		}
	}
	if body < 0 || hdr+body > len(b) {
		return 0, errors.New("truncated packet")
	}
	return hdr + body, nil
}

// signerEntities returns the keyring entries that hold the key that made sig.
func signerEntities(keyring openpgp.EntityList, sig signature) openpgp.EntityList {
	var out openpgp.EntityList
	for _, k := range keyring.KeysById(sig.issuer) {
		if len(sig.fpr) > 0 && !bytes.Equal(sig.fpr, k.PublicKey.Fingerprint) {
			continue
		}
		if !containsEntity(out, k.Entity) {
			out = append(out, k.Entity)
		}
	}
	return out
}

func containsEntity(l openpgp.EntityList, e *openpgp.Entity) bool {
	for _, x := range l {
		if x == e {
			return true
		}
	}
	return false
}
