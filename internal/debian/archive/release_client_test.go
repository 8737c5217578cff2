package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/testkit"
)

func TestReleaseGood(t *testing.T) {
	e := newEnv(t)
	rel, err := e.client.Release(context.Background(), e.source("trixie", "main"))
	if err != nil {
		t.Fatal(err)
	}
	inRelease, _ := e.srv.Body("/dists/trixie/InRelease")
	sum := sha256.Sum256(inRelease)
	checks := []struct {
		name, got, want string
	}{
		{"Suite", rel.Suite, "trixie"},
		{"Codename", rel.Codename, "trixie"},
		{"Origin", rel.Origin, "Debian"},
		{"Version", rel.Version, "13.2"},
		{"URL", rel.URL, e.srv.URL + "/dists/trixie/InRelease"},
		{"SHA256", rel.SHA256, hex.EncodeToString(sum[:])},
		{"Components", strings.Join(rel.Components, " "), "contrib main"},
		{"Architectures", strings.Join(rel.Architectures, " "), "amd64"},
		{"Source.Suite", rel.Source.Suite, "trixie"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !rel.Date.Equal(testkit.DefaultDate) {
		t.Errorf("Date = %v, want %v", rel.Date, testkit.DefaultDate)
	}
	if !rel.ValidUntil.Equal(testkit.DefaultDate.Add(7 * 24 * time.Hour)) {
		t.Errorf("ValidUntil = %v", rel.ValidUntil)
	}
	if !rel.AcquireByHash {
		t.Error("AcquireByHash = false")
	}
	xz, _ := e.srv.Body("/dists/trixie/main/binary-amd64/Packages.xz")
	xsum := sha256.Sum256(xz)
	if got := rel.Files["main/binary-amd64/Packages.xz"]; got.SHA256 != hex.EncodeToString(xsum[:]) || got.Size != int64(len(xz)) {
		t.Errorf("Files[Packages.xz] = %+v, want sha256 %x size %d", got, xsum, len(xz))
	}
}

func TestReleaseRefused(t *testing.T) {
	kit, err := testkit.NewRepo() // the test kit signs every repository with one key
	if err != nil {
		t.Fatal(err)
	}
	fpr := fingerprintOf(t, kit)
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env) Source
		want  []string // substrings of the error
	}{
		{
			name: "unknown key (signed by a stranger)",
			setup: func(t *testing.T, e *env) Source {
				e.srv.BadSignature = true
				return e.source("trixie")
			},
			want: []string{"unknown key", "--keyring FILE", "/dists/trixie/InRelease"},
		},
		{
			name: "keyring without the repository key",
			setup: func(t *testing.T, e *env) Source {
				src := e.source("trixie")
				var err error
				if src.Keyring, err = DefaultKeyring(); err != nil {
					t.Fatal(err)
				}
				return src
			},
			want: []string{"unknown key", fpr, "--keyring FILE"},
		},
		{
			name: "signed text altered",
			setup: func(t *testing.T, e *env) Source {
				url := rewriting(t, e.srv.URL, func(p string) ([]byte, bool) {
					if p != "/dists/trixie/InRelease" {
						return nil, false
					}
					b, _ := e.srv.Body(p)
					return bytes.Replace(b, []byte("Version: 13.2"), []byte("Version: 13.3"), 1), true
				})
				src := e.source("trixie")
				src.URL = url
				return src
			},
			want: []string{"bad signature", "signature does not match", "/dists/trixie/InRelease"},
		},
		{
			name: "unsigned Release served as InRelease",
			setup: func(t *testing.T, e *env) Source {
				url := rewriting(t, e.srv.URL, func(p string) ([]byte, bool) {
					if p != "/dists/trixie/InRelease" {
						return nil, false
					}
					b, _ := e.srv.Body("/dists/trixie/Release")
					return b, true
				})
				src := e.source("trixie")
				src.URL = url
				return src
			},
			want: []string{"not an OpenPGP clearsigned file", "/dists/trixie/InRelease"},
		},
		{
			name: "fields prepended outside the signature",
			setup: func(t *testing.T, e *env) Source {
				url := rewriting(t, e.srv.URL, func(p string) ([]byte, bool) {
					if p != "/dists/trixie/InRelease" {
						return nil, false
					}
					b, _ := e.srv.Body(p)
					return append([]byte("Valid-Until: Sat, 01 Jan 2100 00:00:00 UTC\n\n"), b...), true
				})
				src := e.source("trixie")
				src.URL = url
				return src
			},
			want: []string{"unsigned data before the signed message"},
		},
		{
			name: "expired Valid-Until",
			setup: func(t *testing.T, e *env) Source {
				e.client.Now = func() time.Time { return testkit.DefaultDate.Add(8 * 24 * time.Hour) }
				return e.source("trixie")
			},
			want: []string{"expired on Sat, 16 Aug 2025 09:15:44 UTC", "stale or replaying an old release"},
		},
		{
			name: "suite substitution",
			setup: func(t *testing.T, e *env) Source {
				// A validly signed release of another suite, served in place of the one asked for.
				url := rewriting(t, e.srv.URL, func(p string) ([]byte, bool) {
					if p != "/dists/trixie/InRelease" {
						return nil, false
					}
					b, _ := e.srv.Body("/dists/trixie-updates/InRelease")
					return b, true
				})
				src := e.source("trixie")
				src.URL = url
				return src
			},
			want: []string{`asked for suite "trixie"`, `"trixie-updates"`},
		},
		{
			name: "date in the future",
			setup: func(t *testing.T, e *env) Source {
				e.client.Now = func() time.Time { return testkit.DefaultDate.Add(-2 * time.Hour) }
				return e.source("trixie")
			},
			want: []string{"in the future", "check the host clock"},
		},
		{
			name: "missing suite",
			setup: func(t *testing.T, e *env) Source {
				return e.source("sid")
			},
			want: []string{"release sid", "404"},
		},
		{
			name:  "bad suite name",
			setup: func(t *testing.T, e *env) Source { return e.source("../trixie") },
			want:  []string{`invalid suite "../trixie"`},
		},
		{
			name: "not an http URL",
			setup: func(t *testing.T, e *env) Source {
				src := e.source("trixie")
				src.URL = "cdrom:/media"
				return src
			},
			want: []string{"must start with http://", "--mirror URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			src := tt.setup(t, e)
			rel, err := e.client.Release(context.Background(), src)
			if err == nil {
				t.Fatalf("Release succeeded (%+v), want an error", rel)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func fingerprintOf(t *testing.T, repo *testkit.Repo) string {
	t.Helper()
	// Test-kit signatures are made by the primary key and carry its fingerprint.
	return strings.ToUpper(hex.EncodeToString(repo.Key.PrimaryKey.Fingerprint))
}

func TestReleaseRetriesTransientFailure(t *testing.T) {
	e := newEnv(t)
	e.srv.FailTimes = map[string]int{"/dists/trixie/InRelease": 2}
	if _, err := e.client.Release(context.Background(), e.source("trixie")); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.RequestsFor("/dists/trixie/InRelease"); n != 3 {
		t.Errorf("InRelease requested %d times, want 3 (two 503s, then success)", n)
	}
}

func TestReleaseMatchesCodenameOrSuite(t *testing.T) {
	repo, err := testkit.NewRepo()
	if err != nil {
		t.Fatal(err)
	}
	// dists/stable is trixie: asking for "stable" matches Suite, and the Codename is recorded.
	repo.Suites["stable"] = &testkit.Suite{Codename: "trixie", Components: map[string][]testkit.Deb{"main": {{Name: "a"}}}}
	e := newEnvFor(t, repo, repo.Serve(t))
	rel, err := e.client.Release(context.Background(), e.source("stable"))
	if err != nil {
		t.Fatal(err)
	}
	if rel.Suite != "stable" || rel.Codename != "trixie" {
		t.Errorf("Suite, Codename = %q, %q", rel.Suite, rel.Codename)
	}
}

func TestReleaseNoDownloader(t *testing.T) {
	var c Client
	if _, err := c.Release(context.Background(), Source{URL: "http://127.0.0.1", Suite: "trixie"}); err == nil ||
		!strings.Contains(err.Error(), "no downloader") {
		t.Errorf("err = %v, want a missing-downloader error", err)
	}
}
