package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/spartan-images/spartan/internal/testkit"
)

func TestDefaultKeyring(t *testing.T) {
	el, err := DefaultKeyring()
	if err != nil {
		t.Fatal(err)
	}
	// The signing keys of trixie and bookworm and of their security archives, and the two
	// stable release keys (key ids as gpg --show-keys prints them).
	want := map[string]string{
		"225629DF75B188BD": "Debian Archive Automatic Signing Key (13/trixie)",
		"9904613D4CCE68C6": "Debian Security Archive Automatic Signing Key (13/trixie)",
		"762F67A0B2C39DE4": "Debian Stable Release Key (13/trixie)",
		"B7C5D7D6350947F8": "Debian Archive Automatic Signing Key (12/bookworm)",
		"254CF3B5AEC0A8F0": "Debian Security Archive Automatic Signing Key (12/bookworm)",
		"F8D2585B8783D481": "Debian Stable Release Key (12/bookworm)",
	}
	got := map[string]string{}
	for _, e := range el {
		for name := range e.Identities {
			got[e.PrimaryKey.KeyIdString()] = name
		}
	}
	if len(el) != len(want) {
		t.Errorf("%d keys, want %d", len(el), len(want))
	}
	for id, name := range want {
		if !strings.HasPrefix(got[id], name) {
			t.Errorf("key %s: identity %q, want %q…", id, got[id], name)
		}
	}
	// Callers get their own slice.
	el[0] = nil
	again, _ := DefaultKeyring()
	if again[0] == nil {
		t.Error("DefaultKeyring shares its slice with callers")
	}
}

func TestLoadKeyring(t *testing.T) {
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	armored := repo.ArmoredPublicKey()
	var binary bytes.Buffer
	if err := repo.Key.Serialize(&binary); err != nil {
		t.Fatal(err)
	}
	debianKey, err := debianKeys.ReadFile("keys/debian-archive-trixie-stable.pgp")
	if err != nil {
		t.Fatal(err)
	}
	// An exported file with two armored blocks and text around them.
	var twoBlocks []byte
	twoBlocks = append(twoBlocks, "key one:\n"...)
	twoBlocks = append(twoBlocks, armored...)
	twoBlocks = append(twoBlocks, "\n"...)
	twoBlocks = append(twoBlocks, armorKey(t, debianKey)...)
	twoBlocks = append(twoBlocks, "trailing comment\n"...)

	tests := []struct {
		name  string
		data  []byte
		nkeys int
		want  string // error substring
	}{
		{"armored", armored, 1, ""},
		{"binary", binary.Bytes(), 1, ""},
		{"debian binary", debianKey, 1, ""},
		{"two armored blocks", twoBlocks, 2, ""},
		{"empty", nil, 0, "file is empty"},
		{"text", []byte("hello\n"), 0, "no keys found"},
		{"armored garbage", []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64!\n-----END PGP PUBLIC KEY BLOCK-----\n"), 0, "armored block 1"},
		{"signature not key", []byte("-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n"), 0, "not a public key block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(file, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			el, err := LoadKeyring(file)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), file) {
					t.Fatalf("err = %v, want one naming the file and containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(el) != tt.nkeys {
				t.Errorf("%d keys, want %d", len(el), tt.nkeys)
			}
		})
	}
	if _, err := LoadKeyring(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "read keyring") {
		t.Errorf("missing file: err = %v", err)
	}
}

func armorKey(t *testing.T, binary []byte) []byte {
	t.Helper()
	el, err := parseKeyring(binary)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range el {
		if err := e.Serialize(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
