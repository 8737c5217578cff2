package testkit

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ulikunitz/xz"
)

func get(t *testing.T, url string) (int, []byte, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	code, body, err := get(t, url)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, code, err)
	}
	return body
}

// paragraphs is a minimal deb822 reader: continuation lines are joined with "\n".
func paragraphs(text string) []map[string]string {
	var out []map[string]string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		p, last := map[string]string{}, ""
		for _, line := range strings.Split(para, "\n") {
			if strings.HasPrefix(line, " ") && last != "" {
				p[last] += "\n" + strings.TrimSpace(line)
			} else if k, v, ok := strings.Cut(line, ":"); ok {
				last, p[k] = k, strings.TrimSpace(v)
			}
		}
		out = append(out, p)
	}
	return out
}

func verify(t *testing.T, keyring openpgp.EntityList, inRelease []byte, now time.Time) (string, error) {
	t.Helper()
	block, rest := clearsign.Decode(inRelease)
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("InRelease is not one clearsigned block:\n%s", inRelease)
	}
	_, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(block.Bytes), block.ArmoredSignature.Body,
		&packet.Config{Time: func() time.Time { return now }})
	return string(block.Plaintext), err
}

func sampleRepo(t *testing.T) *Repo {
	t.Helper()
	r, err := NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	r.Suites["trixie"] = &Suite{Version: "13.1", Date: time.Date(2026, 11, 21, 9, 15, 44, 0, time.UTC),
		ValidUntil: time.Date(2026, 11, 28, 9, 15, 44, 0, time.UTC), AcquireByHash: true, Archs: []string{"amd64", "arm64"},
		Components: map[string][]Deb{
			"main": {
				{Name: "libc6", Version: "2.41-12", Source: "glibc", MultiArch: "same", Files: sampleFiles},
				{Name: "libc6", Version: "2.41-12", Arch: "arm64", Source: "glibc"},
				{Name: "tzdata", Version: "2025b-4", Arch: "all", Priority: "required"},
			},
			"contrib": {{Name: "extra", Depends: "libc6 (>= 2.34)", Compression: "gzip"}},
		}}
	r.Suites["trixie-security"] = &Suite{Codename: "trixie-security", Components: map[string][]Deb{"main": {{Name: "libc6", Version: "2.41-13"}}}}
	return r
}

func TestRepoServesVerifiedChain(t *testing.T) {
	r := sampleRepo(t)
	s := r.Serve(t)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

	release, err := verify(t, r.Keyring(), mustGet(t, s.URL+"/dists/trixie/InRelease"), now)
	if err != nil {
		t.Fatalf("InRelease does not verify: %v", err)
	}
	f := paragraphs(release)[0]
	for k, want := range map[string]string{"Origin": "Debian", "Suite": "trixie", "Codename": "trixie", "Version": "13.1",
		"Date": "Sat, 21 Nov 2026 09:15:44 UTC", "Valid-Until": "Sat, 28 Nov 2026 09:15:44 UTC", "Acquire-By-Hash": "yes",
		"Architectures": "amd64 arm64", "Components": "contrib main"} {
		if f[k] != want {
			t.Errorf("Release %s = %q, want %q", k, f[k], want)
		}
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(r.Keyring(), bytes.NewReader(mustGet(t, s.URL+"/dists/trixie/Release")),
		bytes.NewReader(mustGet(t, s.URL+"/dists/trixie/Release.gpg")), &packet.Config{Time: func() time.Time { return now }}); err != nil {
		t.Errorf("Release.gpg does not verify: %v", err)
	}

	// Every index listed is served with the signed hash; plain Packages is
	// only listed (as on real mirrors), so check it through its compressed forms.
	type listed struct {
		sum, name string
		size      int
	}
	var entries []listed
	for _, line := range strings.Split(strings.TrimSpace(f["SHA256"]), "\n") {
		var e listed
		if _, err := fmt.Sscan(line, &e.sum, &e.size, &e.name); err != nil {
			t.Fatalf("SHA256 line %q: %v", line, err)
		}
		entries = append(entries, e)
	}
	if len(entries) != 12 {
		t.Fatalf("SHA256 section has %d lines, want 12 (2 comps × 2 archs × 3):\n%s", len(entries), f["SHA256"])
	}
	plain := map[string][]byte{}
	for _, e := range entries {
		url := s.URL + "/dists/trixie/" + e.name
		base, ext, _ := strings.Cut(e.name, "Packages")
		if ext == "" {
			if code, _, _ := get(t, url); code != http.StatusNotFound {
				t.Errorf("plain %s served with %d, want 404", e.name, code)
			}
			continue
		}
		body := mustGet(t, url)
		checkSum(t, e.name, body, e.sum, e.size)
		if byHash := mustGet(t, s.URL+"/dists/trixie/"+base+"by-hash/SHA256/"+e.sum); !bytes.Equal(byHash, body) {
			t.Errorf("by-hash copy of %s differs", e.name)
		}
		var zr io.Reader
		var err error
		if ext == ".xz" {
			zr, err = xz.NewReader(bytes.NewReader(body))
		} else {
			zr, err = gzip.NewReader(bytes.NewReader(body))
		}
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		dec, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		if prev, ok := plain[base+"Packages"]; ok && !bytes.Equal(prev, dec) {
			t.Errorf("%s decompresses to something else than its sibling", e.name)
		}
		plain[base+"Packages"] = dec
	}
	for _, e := range entries {
		if strings.HasSuffix(e.name, "Packages") {
			checkSum(t, e.name, plain[e.name], e.sum, e.size)
		}
	}

	// Packages stanzas point at debs whose size and hash match.
	names := map[string][]string{}
	for idx, text := range plain {
		for _, st := range paragraphs(string(text)) {
			if st["Package"] == "" {
				continue
			}
			names[idx] = append(names[idx], st["Package"]+"/"+st["Architecture"])
			deb := mustGet(t, s.URL+"/"+st["Filename"])
			checkSum(t, st["Filename"], deb, st["SHA256"], atoi(st["Size"]))
			if !strings.HasPrefix(string(deb), "!<arch>\ndebian-binary") {
				t.Errorf("%s is not a deb", st["Filename"])
			}
		}
	}
	want := map[string]string{
		"main/binary-amd64/Packages":    "libc6/amd64 tzdata/all",
		"main/binary-arm64/Packages":    "libc6/arm64 tzdata/all",
		"contrib/binary-amd64/Packages": "extra/amd64",
		"contrib/binary-arm64/Packages": "",
	}
	for idx, w := range want {
		if got := strings.Join(names[idx], " "); got != w {
			t.Errorf("%s lists %q, want %q", idx, got, w)
		}
	}
	st := paragraphs(string(plain["main/binary-amd64/Packages"]))[0]
	if st["Source"] != "glibc" || st["Multi-Arch"] != "same" || st["Filename"] != "pool/main/libc/libc6/libc6_2.41-12_amd64.deb" {
		t.Errorf("libc6 stanza: %v", st)
	}

	sec, err := verify(t, r.Keyring(), mustGet(t, s.URL+"/dists/trixie-security/InRelease"), time.Now())
	if err != nil || !strings.Contains(sec, "Date: Sat, 09 Aug 2025 09:15:44 UTC\n") || strings.Contains(sec, "Valid-Until") {
		t.Errorf("trixie-security InRelease (err %v):\n%s", err, sec)
	}
}

func checkSum(t *testing.T, name string, body []byte, sum string, size int) {
	t.Helper()
	if got := fmt.Sprintf("%x", sha256.Sum256(body)); got != sum || len(body) != size {
		t.Errorf("%s: sha256 %s size %d, signed %s %d", name, got, len(body), sum, size)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestKeyringIsPublicOnly(t *testing.T) {
	r, err := NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	kr := r.Keyring()
	if len(kr) != 1 || kr[0].PrivateKey != nil || kr[0].PrimaryKey.KeyId != r.Key.PrimaryKey.KeyId {
		t.Fatalf("Keyring = %+v", kr)
	}
	armored, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(r.ArmoredPublicKey()))
	if err != nil || len(armored) != 1 || armored[0].PrivateKey != nil || armored[0].PrimaryKey.KeyId != r.Key.PrimaryKey.KeyId {
		t.Fatalf("ArmoredPublicKey: %v %+v", err, armored)
	}
}

func TestBuildRejects(t *testing.T) {
	for name, su := range map[string]*Suite{
		"arch not in suite": {Components: map[string][]Deb{"main": {{Name: "a", Arch: "arm64"}}}},
		"pool conflict":     {Components: map[string][]Deb{"main": {{Name: "a"}, {Name: "a", Depends: "b"}}}},
		"no name":           {Components: map[string][]Deb{"main": {{Version: "1"}}}},
	} {
		r, _ := NewRepo()
		r.Suites["s"] = su
		if _, err := r.build(); err == nil {
			t.Errorf("%s: build succeeded, want error", name)
		}
	}
}

func TestTamperKnobs(t *testing.T) {
	r := sampleRepo(t)
	s := r.Serve(t)
	const idx = "/dists/trixie/main/binary-amd64/Packages.xz"
	orig, _ := s.Body(idx)

	s.BadSignature = true
	_, err := verify(t, r.Keyring(), mustGet(t, s.URL+"/dists/trixie/InRelease"), time.Now())
	if !errors.Is(err, pgperrors.ErrUnknownIssuer) {
		t.Errorf("BadSignature: verify error %v, want unknown issuer", err)
	}
	s.BadSignature = false

	s.CorruptPath = idx
	if got := mustGet(t, s.URL+idx); len(got) != len(orig) || bytes.Equal(got, orig) {
		t.Errorf("CorruptPath: body unchanged or resized")
	}
	s.CorruptPath = ""

	s.TruncatePath, s.TruncateTimes = idx, 1
	if _, body, err := get(t, s.URL+idx); err == nil || len(body) >= len(orig) {
		t.Errorf("TruncatePath: read %d of %d bytes, err %v; want a short read error", len(body), len(orig), err)
	}
	if got := mustGet(t, s.URL+idx); !bytes.Equal(got, orig) {
		t.Errorf("TruncateTimes=1: second request still tampered")
	}

	s.FailTimes = map[string]int{idx: 2}
	for i, want := range []int{503, 503, 200} {
		if code, _, _ := get(t, s.URL+idx); code != want {
			t.Errorf("FailTimes request %d: %d, want %d", i, code, want)
		}
	}

	s.Missing = map[string]bool{idx: true}
	if code, _, _ := get(t, s.URL+idx); code != http.StatusNotFound {
		t.Errorf("Missing: %d, want 404", code)
	}
	if code, _, _ := get(t, s.URL+"/no/such/file"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", code)
	}

	if got, want := s.RequestsFor(idx), 7; got != want {
		t.Errorf("RequestsFor = %d, want %d", got, want)
	}
	if got, want := s.Requests(), 9; got != want {
		t.Errorf("Requests = %d, want %d", got, want)
	}
}

func TestPublishPicksUpChanges(t *testing.T) {
	r := sampleRepo(t)
	s := r.Serve(t)
	before := mustGet(t, s.URL+"/dists/trixie-security/InRelease")
	if again, _ := s.Body("/dists/trixie-security/InRelease"); !bytes.Equal(before, again) {
		t.Fatal("Body differs from what was served")
	}
	if err := s.Publish(); err != nil {
		t.Fatal(err)
	}
	if same := mustGet(t, s.URL+"/dists/trixie-security/InRelease"); !bytes.Equal(before, same) {
		t.Error("republishing an unchanged repo changed InRelease; it should be deterministic")
	}
	su := r.Suites["trixie-security"]
	su.Components["main"] = append(su.Components["main"], Deb{Name: "libc6", Version: "2.41-14"})
	if err := s.Publish(); err != nil {
		t.Fatal(err)
	}
	if after := mustGet(t, s.URL+"/dists/trixie-security/InRelease"); bytes.Equal(before, after) {
		t.Error("InRelease unchanged after a new version was published")
	}
	mustGet(t, s.URL+"/pool/main/libc/libc6/libc6_2.41-14_amd64.deb")
}
