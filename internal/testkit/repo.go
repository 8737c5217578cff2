package testkit

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ulikunitz/xz"
)

// Repo is a fake Debian repository: suites of packages signed by Key.
type Repo struct {
	Suites map[string]*Suite // suite name (the dists/ directory) → content
	Key    *openpgp.Entity   // private signing key
}

// Suite is one dists/<suite> tree.
type Suite struct {
	Codename, Version string           // Codename defaults to the suite name
	Date              time.Time        // zero → DefaultDate; also the signature's creation time
	ValidUntil        time.Time        // zero → no Valid-Until field
	Components        map[string][]Deb // component → debs of any arch; "all" goes in every arch's index
	Archs             []string         // default ["amd64"]
	AcquireByHash     bool             // also serve indexes under by-hash/SHA256/<hex>
}

// keyEpoch predates any Date a test may pick, so signatures made "in the
// past" still verify against the key.
var keyEpoch = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

var keys struct {
	once          sync.Once
	signer, other *openpgp.Entity
	err           error
}

// testKeys generates the two Ed25519 keys once per process: the repository
// key and a stranger's key for BadSignature.
func testKeys() (signer, other *openpgp.Entity, err error) {
	keys.once.Do(func() {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256, Time: func() time.Time { return keyEpoch }}
		keys.signer, keys.err = openpgp.NewEntity("Spartan Test Kit Archive Key", "", "archive@example.invalid", cfg)
		if keys.err == nil {
			keys.other, keys.err = openpgp.NewEntity("Spartan Test Kit Impostor", "", "impostor@example.invalid", cfg)
		}
	})
	if keys.err != nil {
		return nil, nil, fmt.Errorf("generate test OpenPGP key: %w", keys.err)
	}
	return keys.signer, keys.other, nil
}

// NewRepo returns an empty repository signed by the process-wide test key.
func NewRepo() (*Repo, error) {
	signer, _, err := testKeys()
	if err != nil {
		return nil, err
	}
	return &Repo{Suites: map[string]*Suite{}, Key: signer}, nil
}

// Keyring returns the public part of Key, as a client would hold it.
func (r *Repo) Keyring() openpgp.EntityList {
	var buf bytes.Buffer
	if err := r.Key.Serialize(&buf); err != nil {
		return nil
	}
	el, err := openpgp.ReadKeyRing(&buf)
	if err != nil {
		return nil
	}
	return el
}

// ArmoredPublicKey returns Key's public part, ASCII-armored (for gpg or files).
func (r *Repo) ArmoredPublicKey() []byte {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil
	}
	if r.Key.Serialize(w) != nil || w.Close() != nil {
		return nil
	}
	return buf.Bytes()
}

// PoolPath is where a deb of the component lives, relative to the repository root.
func PoolPath(component string, d Deb) string {
	prefix := d.Name
	if len(prefix) > 1 {
		prefix = prefix[:1]
	}
	if strings.HasPrefix(d.Name, "lib") && len(d.Name) > 3 {
		prefix = d.Name[:4]
	}
	return fmt.Sprintf("pool/%s/%s/%s/%s", component, prefix, d.Name, d.Filename())
}

// site is everything the server publishes: path (no leading "/") → body,
// plus the InRelease/Release.gpg variants signed by the impostor key.
type site struct {
	files, forged map[string][]byte
}

func (r *Repo) build() (*site, error) {
	_, other, err := testKeys()
	if err != nil {
		return nil, err
	}
	s := &site{files: map[string][]byte{}, forged: map[string][]byte{}}
	names := sortedKeys(r.Suites)
	for _, name := range names {
		if err := r.buildSuite(s, name, r.Suites[name], other); err != nil {
			return nil, fmt.Errorf("build suite %s: %w", name, err)
		}
	}
	return s, nil
}

func (r *Repo) buildSuite(s *site, name string, su *Suite, other *openpgp.Entity) error {
	archs := su.Archs
	if len(archs) == 0 {
		archs = []string{"amd64"}
	}
	date := su.Date
	if date.IsZero() {
		date = DefaultDate
	}
	codename := su.Codename
	if codename == "" {
		codename = name
	}
	comps := sortedKeys(su.Components)
	var sums strings.Builder
	for _, comp := range comps {
		stanzas := map[string][]string{}
		for _, d := range su.Components[comp] {
			if d.Name == "" {
				return fmt.Errorf("component %s: a Deb has no Name", comp)
			}
			deb, err := d.Build()
			if err != nil {
				return err
			}
			d = d.withDefaults()
			pool := PoolPath(comp, d)
			if old, ok := s.files[pool]; ok && !bytes.Equal(old, deb) {
				return fmt.Errorf("two different debs at %s; give them distinct versions", pool)
			}
			s.files[pool] = deb
			stanza := formatFields(append(d.fields(),
				[2]string{"Filename", pool},
				[2]string{"Size", fmt.Sprint(len(deb))},
				[2]string{"SHA256", fmt.Sprintf("%x", sha256.Sum256(deb))}))
			if d.Arch != "all" && !slices.Contains(archs, d.Arch) {
				return fmt.Errorf("deb %s is %s but the suite's Archs are %v", d.Name, d.Arch, archs)
			}
			for _, a := range archs {
				if d.Arch == a || d.Arch == "all" {
					stanzas[a] = append(stanzas[a], stanza)
				}
			}
		}
		for _, a := range archs {
			plain := []byte(strings.Join(stanzas[a], "\n"))
			dir := fmt.Sprintf("%s/binary-%s/", comp, a)
			fmt.Fprintf(&sums, " %x %16d %s\n", sha256.Sum256(plain), len(plain), dir+"Packages")
			for _, ext := range []string{".gz", ".xz"} {
				body, err := compress(plain, ext)
				if err != nil {
					return fmt.Errorf("compress %sPackages%s: %w", dir, ext, err)
				}
				sum := sha256.Sum256(body)
				fmt.Fprintf(&sums, " %x %16d %s\n", sum, len(body), dir+"Packages"+ext)
				base := "dists/" + name + "/" + dir
				s.files[base+"Packages"+ext] = body
				if su.AcquireByHash {
					s.files[fmt.Sprintf("%sby-hash/SHA256/%x", base, sum)] = body
				}
			}
		}
	}
	fs := [][2]string{{"Origin", "Debian"}, {"Label", "Debian"}, {"Suite", name}, {"Version", su.Version},
		{"Codename", codename}, {"Date", date.UTC().Format(time.RFC1123)}}
	if !su.ValidUntil.IsZero() {
		fs = append(fs, [2]string{"Valid-Until", su.ValidUntil.UTC().Format(time.RFC1123)})
	}
	if su.AcquireByHash {
		fs = append(fs, [2]string{"Acquire-By-Hash", "yes"})
	}
	fs = append(fs, [2]string{"Architectures", strings.Join(archs, " ")},
		[2]string{"Components", strings.Join(comps, " ")})
	release := []byte(formatFields(fs) + "SHA256:\n" + sums.String())

	base := "dists/" + name + "/"
	s.files[base+"Release"] = release
	for _, k := range []struct {
		key *openpgp.Entity
		out map[string][]byte
	}{{r.Key, s.files}, {other, s.forged}} {
		in, det, err := sign(k.key, release, date)
		if err != nil {
			return fmt.Errorf("sign Release: %w", err)
		}
		k.out[base+"InRelease"], k.out[base+"Release.gpg"] = in, det
	}
	return nil
}

// sign returns the clearsigned InRelease and the detached Release.gpg, both
// dated like the Release itself as the archive's signer does.
func sign(key *openpgp.Entity, release []byte, date time.Time) (inRelease, detached []byte, err error) {
	deterministic := false // same Repo → same bytes, so tests can compare digests across Publish
	cfg := &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return date },
		NonDeterministicSignaturesViaNotation: &deterministic}
	var in, det bytes.Buffer
	w, err := clearsign.Encode(&in, key.PrivateKey, cfg)
	if err != nil {
		return nil, nil, err
	}
	if _, err := w.Write(release); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, err
	}
	in.WriteByte('\n') // the encoder stops right after the armor footer; real files end in a newline
	if err := openpgp.ArmoredDetachSign(&det, key, bytes.NewReader(release), cfg); err != nil {
		return nil, nil, err
	}
	return in.Bytes(), det.Bytes(), nil
}

func compress(b []byte, ext string) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	if ext == ".xz" {
		xw, err := xz.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		w = xw
	} else {
		w = gzip.NewWriter(&buf)
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
