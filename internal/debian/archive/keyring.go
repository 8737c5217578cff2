package archive

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// Debian's archive signing keys, taken verbatim from the debian-archive-keyring package (see
// keys/README.md). Embedding them means a build trusts exactly these keys, not whatever the
// host happens to have in /etc/apt.
//
//go:embed keys/*.pgp
var debianKeys embed.FS

var defaultKeyring = sync.OnceValues(func() (openpgp.EntityList, error) {
	names, err := debianKeys.ReadDir("keys")
	if err != nil {
		return nil, fmt.Errorf("embedded Debian keyring: %w", err)
	}
	var all openpgp.EntityList
	for _, n := range names {
		name := path.Join("keys", n.Name())
		data, err := debianKeys.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("embedded Debian keyring %s: %w", name, err)
		}
		el, err := parseKeyring(data)
		if err != nil {
			return nil, fmt.Errorf("embedded Debian keyring %s: %w", name, err)
		}
		all = append(all, el...)
	}
	if len(all) == 0 {
		return nil, errors.New("embedded Debian keyring is empty; the binary was built without keys/*.pgp")
	}
	return all, nil
})

// DefaultKeyring returns the Debian archive signing keys (trixie and bookworm: archive,
// security archive and stable release keys) built into the binary.
func DefaultKeyring() (openpgp.EntityList, error) {
	el, err := defaultKeyring()
	// A copy, so a caller appending its own keys cannot change what others see.
	return slices.Clone(el), err
}

// LoadKeyring reads OpenPGP public keys from a file, ASCII-armored (one or more
// "BEGIN PGP PUBLIC KEY BLOCK" sections) or binary (as gpg --export or the .gpg/.pgp files of
// /usr/share/keyrings), for --keyring and a spec's keyring.
func LoadKeyring(file string) (openpgp.EntityList, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read keyring %s: %w", file, err)
	}
	el, err := parseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("read keyring %s: %w", file, err)
	}
	return el, nil
}

const keyHelp = "expected OpenPGP public keys, armored or binary (for example the output of gpg --export KEYID)"

func parseKeyring(data []byte) (openpgp.EntityList, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("file is empty; %s", keyHelp)
	}
	var el openpgp.EntityList
	// Every binary OpenPGP packet starts with a byte whose high bit is set; text never does.
	if trimmed[0]&0x80 == 0 {
		// openpgp.ReadArmoredKeyRing stops after the first block, and exported key files often
		// concatenate several, so each block is cut out and decoded on its own.
		for i, blk := range armoredBlocks(trimmed) {
			b, err := armor.Decode(bytes.NewReader(blk))
			if err != nil {
				return nil, fmt.Errorf("armored block %d: %w; %s", i+1, err, keyHelp)
			}
			if b.Type != openpgp.PublicKeyType && b.Type != openpgp.PrivateKeyType {
				return nil, fmt.Errorf("armored block %d is a %q, not a public key block; %s", i+1, b.Type, keyHelp)
			}
			part, err := openpgp.ReadKeyRing(b.Body)
			if err != nil {
				return nil, fmt.Errorf("armored block %d: %w; %s", i+1, err, keyHelp)
			}
			el = append(el, part...)
		}
	} else {
		var err error
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("binary keyring: %w; %s", err, keyHelp)
		}
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("no keys found; %s", keyHelp)
	}
	return el, nil
}

// armoredBlocks cuts data into its "-----BEGIN PGP …" to "-----END PGP …" sections. An
// unterminated last block is returned as is, so decoding reports it.
func armoredBlocks(data []byte) [][]byte {
	begin, endMark := []byte("-----BEGIN PGP"), []byte("-----END PGP")
	var out [][]byte
	for {
		i := bytes.Index(data, begin)
		if i < 0 {
			return out
		}
		data = data[i:]
		j := bytes.Index(data, endMark)
		if j < 0 {
			return append(out, data)
		}
		k := bytes.IndexByte(data[j:], '\n')
		if k < 0 {
			return append(out, data)
		}
		out = append(out, data[:j+k+1])
		data = data[j+k+1:]
	}
}
