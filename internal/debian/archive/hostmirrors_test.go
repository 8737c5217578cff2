package archive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostMirrors(t *testing.T) {
	tests := []struct {
		name           string
		files          map[string]string // relative to the apt dir
		main, security string
		wantErr        string
	}{
		{
			name: "deb822 with comments inside a paragraph",
			files: map[string]string{"sources.list.d/debian.sources": `Types: deb
# a snapshot URL, commented out
URIs: http://mirror.example/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security/
Suites: trixie-security
Components: main
`},
			main: "http://mirror.example/debian", security: "http://mirror.example/debian-security",
		},
		{
			name: "one-line with options, deb-src and comments",
			files: map[string]string{"sources.list": `# deb http://commented.example/debian trixie main
deb-src http://src.example/debian trixie main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] https://mirror.example/debian/ trixie main # trailing
deb [ arch=amd64 ] https://mirror.example/debian-security trixie-security main
`},
			main: "https://mirror.example/debian", security: "https://mirror.example/debian-security",
		},
		{
			name: "old /updates security suite",
			files: map[string]string{"sources.list": "deb http://m.example/debian buster main\n" +
				"deb http://s.example/ buster/updates main\n"},
			main: "http://m.example/debian", security: "http://s.example",
		},
		{
			name: "disabled entries, cdrom and file are skipped",
			files: map[string]string{
				"sources.list": "deb cdrom:[Debian 13]/ trixie main\ndeb file:/srv/repo trixie main\n",
				"sources.list.d/a.sources": "Types: deb\nURIs: http://disabled.example/debian\nSuites: trixie\nEnabled: no\n\n" +
					"Types: deb-src\nURIs: http://src.example/debian\nSuites: trixie\n\n" +
					"Types: deb deb-src\nURIs: http://good.example/debian\nSuites: trixie\nComponents: main\n",
				"sources.list.d/b.list.disabled-by-admin": "deb http://off.example/debian trixie main\n",
				"sources.list.d/c.sources.disabled":       "Types: deb\nURIs: http://off.example/debian\nSuites: trixie\n",
				"sources.list.d/d.save":                   "deb http://off.example/debian trixie main\n",
			},
			main: "http://good.example/debian",
		},
		{
			name: "sources.list comes before sources.list.d, files in name order",
			files: map[string]string{
				"sources.list.d/b.list":    "deb http://b.example/debian trixie main\n",
				"sources.list.d/a.sources": "Types: deb\nURIs: http://a.example/debian\nSuites: trixie-security\n",
				"sources.list":             "deb http://first.example/debian trixie main\n",
			},
			main: "http://first.example/debian", security: "http://a.example/debian",
		},
		{
			name:    "only security",
			files:   map[string]string{"sources.list": "deb http://s.example/debian-security trixie-security main\n"},
			wantErr: "--mirror URL",
		},
		{
			name:    "nothing",
			files:   map[string]string{},
			wantErr: "SPARTAN_MIRROR",
		},
		{
			name:    "broken deb822",
			files:   map[string]string{"sources.list.d/x.sources": "Types deb\n"},
			wantErr: "x.sources",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			main, security, err := HostMirrors(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if main != tt.main || security != tt.security {
				t.Errorf("HostMirrors = %q, %q; want %q, %q", main, security, tt.main, tt.security)
			}
		})
	}
}
