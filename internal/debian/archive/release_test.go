package archive

import (
	"strings"
	"testing"
	"time"
)

const sum1 = "1111111111111111111111111111111111111111111111111111111111111111"

func TestParseRelease(t *testing.T) {
	base := "Origin: Debian\nSuite: stable\nCodename: trixie\nDate: Sat, 21 Nov 2026 09:15:44 UTC\n"
	tests := []struct {
		name string
		text string
		want string // "" for success, else an error substring
		test func(t *testing.T, r *Release)
	}{
		{
			name: "full",
			text: "Origin: Debian\nLabel: Debian\nSuite: stable\nVersion: 13.2\nCodename: trixie\n" +
				"Date: Sat, 21 Nov 2026 09:15:44 UTC\nValid-Until: Sat, 28 Nov 2026 09:15:44 +0000\n" +
				"Acquire-By-Hash: yes\nArchitectures: all amd64 arm64\nComponents: main contrib\n" +
				"Description: Debian 13.2 Released 08 November 2026\nMD5Sum:\n 0123 12 main/Contents-all\n" +
				"SHA256:\n " + strings.ToUpper(sum1) + " 1234 main/binary-amd64/Packages.xz\n " + sum1 + "    0 main/binary-amd64/Release\n",
			test: func(t *testing.T, r *Release) {
				if r.Origin != "Debian" || r.Label != "Debian" || r.Suite != "stable" || r.Codename != "trixie" || r.Version != "13.2" {
					t.Errorf("names: %+v", r)
				}
				if want := time.Date(2026, 11, 21, 9, 15, 44, 0, time.UTC); !r.Date.Equal(want) || r.Date.Location() != time.UTC {
					t.Errorf("Date = %v", r.Date)
				}
				if want := time.Date(2026, 11, 28, 9, 15, 44, 0, time.UTC); !r.ValidUntil.Equal(want) {
					t.Errorf("ValidUntil = %v", r.ValidUntil)
				}
				if !r.AcquireByHash || strings.Join(r.Architectures, ",") != "all,amd64,arm64" || strings.Join(r.Components, ",") != "main,contrib" {
					t.Errorf("lists: %+v", r)
				}
				if len(r.Files) != 2 || r.Files["main/binary-amd64/Packages.xz"] != (FileHash{sum1, 1234}) ||
					r.Files["main/binary-amd64/Release"] != (FileHash{sum1, 0}) {
					t.Errorf("Files = %v", r.Files)
				}
			},
		},
		{
			name: "no Valid-Until",
			text: base + "SHA256:\n " + sum1 + " 1 main/binary-amd64/Packages\n",
			test: func(t *testing.T, r *Release) {
				if !r.ValidUntil.IsZero() || r.AcquireByHash {
					t.Errorf("ValidUntil %v, AcquireByHash %v", r.ValidUntil, r.AcquireByHash)
				}
			},
		},
		{name: "empty", text: "", want: "empty"},
		{name: "no SHA256", text: base + "MD5Sum:\n 00 1 main/binary-amd64/Packages\n", want: "SHA-256"},
		{name: "empty SHA256", text: base + "SHA256:\n", want: "SHA-256"},
		{name: "no Date", text: "Suite: stable\nSHA256:\n " + sum1 + " 1 p\n", want: "no Date"},
		{name: "no suite", text: "Date: Sat, 21 Nov 2026 09:15:44 UTC\nSHA256:\n " + sum1 + " 1 p\n", want: "neither Suite nor Codename"},
		{name: "bad date", text: strings.Replace(base, "Sat, 21 Nov 2026", "21/11/2026", 1) + "SHA256:\n " + sum1 + " 1 p\n", want: "field Date"},
		{name: "named zone", text: strings.Replace(base, "UTC", "EST", 1) + "SHA256:\n " + sum1 + " 1 p\n", want: "field Date"},
		{name: "bad Valid-Until", text: base + "Valid-Until: soon\nSHA256:\n " + sum1 + " 1 p\n", want: "field Valid-Until"},
		{name: "short hash", text: base + "SHA256:\n abcd 1 p\n", want: "not a SHA-256"},
		{name: "non-hex hash", text: base + "SHA256:\n " + strings.Repeat("g", 64) + " 1 p\n", want: "not a SHA-256"},
		{name: "negative size", text: base + "SHA256:\n " + sum1 + " -1 p\n", want: "invalid size"},
		{name: "missing path", text: base + "SHA256:\n " + sum1 + " 1\n", want: "want"},
		{name: "path escapes", text: base + "SHA256:\n " + sum1 + " 1 ../../etc/passwd\n", want: "unsafe path"},
		{name: "absolute path", text: base + "SHA256:\n " + sum1 + " 1 /p\n", want: "unsafe path"},
		{name: "conflicting duplicate", text: base + "SHA256:\n " + sum1 + " 1 p\n " + sum1 + " 2 p\n", want: "listed twice"},
		{name: "second paragraph", text: base + "SHA256:\n " + sum1 + " 1 p\n\nSuite: other\n", want: "more than one paragraph"},
		{name: "garbage line", text: base + "this is not a field\n", want: "line 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRelease([]byte(tt.text))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.test(t, r)
		})
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2026, 11, 21, 9, 15, 44, 0, time.UTC)
	tests := []struct {
		in string
		ok bool
	}{
		{"Sat, 21 Nov 2026 09:15:44 UTC", true},
		{"Sat, 21 Nov 2026 09:15:44 GMT", true},
		{"Sat, 21 Nov 2026 09:15:44 +0000", true},
		{"Sat, 21 Nov 2026 10:15:44 +0100", true},
		{"Sat,  21 Nov 2026  09:15:44 UTC", true},
		{"21 Nov 2026 09:15:44 UTC", true},
		{"Sat, 21 Nov 2026 09:15:44", false},
		{"Sat, 21 Nov 2026 09:15:44 CET", false},
		{"2026-11-21T09:15:44Z", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := parseDate(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("parseDate(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, want %v", tt.in, got, want)
		}
	}
	// A one-digit day, as some archive tools write.
	if got, err := parseDate("Sun, 1 Nov 2026 00:00:00 UTC"); err != nil || got.Day() != 1 {
		t.Errorf("one-digit day: %v, %v", got, err)
	}
}
