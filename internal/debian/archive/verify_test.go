package archive

import (
	"bytes"
	"context"
	"crypto"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/spartan-images/spartan/internal/cache"
)

// The trixie-updates InRelease in testdata was fetched from the Debian mirror named in the
// host's apt sources; it is signed by the bookworm and trixie archive keys.
const realInRelease = "testdata/trixie-updates.InRelease"

// serveFile serves one body at /dists/<suite>/InRelease.
func serveFile(t *testing.T, suite string, body []byte) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dists/"+suite+"/InRelease" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestRealInRelease(t *testing.T) {
	data, err := os.ReadFile(realInRelease)
	if err != nil {
		t.Fatal(err)
	}
	// Now is pinned to the file's own Date, read from the text without trusting it: the test
	// must not start failing the week the real Valid-Until passes.
	date, validUntil := dateFields(t, data)

	tampered := bytes.Replace(data, []byte("Suite: stable-updates"), []byte("Suite: stable-updatez"), 1)
	if bytes.Equal(tampered, data) {
		t.Fatal("tamper target not found")
	}
	tests := []struct {
		name  string
		body  []byte
		suite string
		now   time.Time
		want  string // "" for success, else an error substring
	}{
		{"verifies at its Date", data, "trixie-updates", date, ""},
		{"matches Suite too", data, "stable-updates", date, ""},
		{"verifies just before Valid-Until", data, "trixie-updates", validUntil.Add(-time.Second), ""},
		{"expired after Valid-Until", data, "trixie-updates", validUntil.Add(time.Second), "stale or replaying an old release"},
		{"one byte changed in the signed text", tampered, "trixie-updates", date, "bad signature"},
		{"another suite", data, "trixie", date, `asked for suite "trixie"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := cache.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(ch)
			c.Now = func() time.Time { return tt.now }
			url := serveFile(t, tt.suite, tt.body)
			rel, err := c.Release(context.Background(), Source{URL: url, Suite: tt.suite})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rel.Codename != "trixie-updates" || rel.Suite != "stable-updates" || rel.Origin != "Debian" {
				t.Errorf("Codename, Suite, Origin = %q, %q, %q", rel.Codename, rel.Suite, rel.Origin)
			}
			if !rel.Date.Equal(date) || !rel.ValidUntil.Equal(validUntil) {
				t.Errorf("Date, ValidUntil = %v, %v; want %v, %v", rel.Date, rel.ValidUntil, date, validUntil)
			}
			fh, ok := rel.Files["main/binary-amd64/Packages.xz"]
			if !ok || !isSHA256(fh.SHA256) || fh.Size <= 0 {
				t.Errorf("Files[main/binary-amd64/Packages.xz] = %+v, %v", fh, ok)
			}
			if !rel.AcquireByHash {
				t.Error("AcquireByHash = false")
			}
		})
	}
}

func dateFields(t *testing.T, data []byte) (date, validUntil time.Time) {
	t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		var err error
		switch {
		case strings.HasPrefix(line, "Date: "):
			date, err = time.Parse(time.RFC1123, strings.TrimPrefix(line, "Date: "))
		case strings.HasPrefix(line, "Valid-Until: "):
			validUntil, err = time.Parse(time.RFC1123, strings.TrimPrefix(line, "Valid-Until: "))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if date.IsZero() || validUntil.IsZero() {
		t.Fatal("Date or Valid-Until missing from " + realInRelease)
	}
	return date.UTC(), validUntil.UTC()
}

// newKey makes an Ed25519 key created at created, expiring after life (0: never).
func newKey(t *testing.T, name string, created time.Time, life time.Duration) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256,
		Time: func() time.Time { return created }, KeyLifetimeSecs: uint32(life / time.Second)}
	e, err := openpgp.NewEntity(name, "", name+"@example.invalid", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func clearsignBy(t *testing.T, text string, when time.Time, keys ...*openpgp.Entity) []byte {
	t.Helper()
	var priv []*packet.PrivateKey
	for _, k := range keys {
		priv = append(priv, k.PrivateKey)
	}
	var buf bytes.Buffer
	w, err := clearsign.EncodeMulti(&buf, priv, &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return when }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyInRelease(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(48 * time.Hour)
	oldKey := newKey(t, "old", t0, 24*time.Hour) // expired by now
	newK := newKey(t, "new", t0, 0)
	stranger := newKey(t, "stranger", t0, 0)
	text := "Suite: x\nDate: Wed, 01 Jan 2025 00:00:00 UTC\n- dashed line\n"
	signedBoth := clearsignBy(t, text, t0.Add(time.Hour), oldKey, newK)

	tests := []struct {
		name    string
		data    []byte
		keyring openpgp.EntityList
		want    string
	}{
		{"second signer verifies when the first key expired", signedBoth, openpgp.EntityList{oldKey, newK}, ""},
		{"only the second key known", signedBoth, openpgp.EntityList{newK}, ""},
		{"only the expired key known", signedBoth, openpgp.EntityList{oldKey}, "signing key has expired"},
		{"no key known", signedBoth, openpgp.EntityList{stranger}, "unknown key"},
		{"trailing unsigned data", append(bytes.Clone(signedBoth), "Suite: y\n"...), openpgp.EntityList{newK}, "unsigned data after"},
		{"not signed", []byte(text), openpgp.EntityList{newK}, "not an OpenPGP clearsigned file"},
		{"empty", nil, openpgp.EntityList{newK}, "not an OpenPGP clearsigned file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verifyInRelease("http://mirror.invalid/dists/x/InRelease", tt.data, tt.keyring, now)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one containing %q", err, tt.want)
				}
				if !strings.Contains(err.Error(), "http://mirror.invalid/dists/x/InRelease") {
					t.Errorf("error %q does not name the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The signed text comes back with dash-escaping undone.
			if strings.TrimSuffix(string(got), "\n") != strings.TrimSuffix(text, "\n") {
				t.Errorf("text = %q, want %q", got, text)
			}
		})
	}
}

func TestPacketLength(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want int // -1: error
	}{
		{"new format one-octet", append([]byte{0xc2, 3}, 1, 2, 3), 5},
		{"new format two-octet", append([]byte{0xc2, 192, 0}, make([]byte, 192)...), 195},
		{"new format five-octet", append([]byte{0xc2, 255, 0, 0, 0, 2}, 1, 2), 8},
		{"old format one-octet", []byte{0x88, 1, 9}, 3},
		{"old format two-octet", []byte{0x89, 0, 1, 9}, 4},
		{"old format indeterminate", []byte{0x8b, 1}, -1},
		{"partial length", []byte{0xc2, 230, 1}, -1},
		{"not a packet", []byte{0x12, 1}, -1},
		{"truncated body", []byte{0xc2, 5, 1}, -1},
		{"truncated header", []byte{0xc2}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := packetLength(tt.in)
			if tt.want < 0 {
				if err == nil {
					t.Fatalf("packetLength = %d, want an error", n)
				}
				return
			}
			if err != nil || n != tt.want {
				t.Fatalf("packetLength = %d, %v; want %d", n, err, tt.want)
			}
		})
	}
}
