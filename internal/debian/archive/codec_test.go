package archive

import (
	"strings"
	"testing"
)

var twoStanzas = "Package: a\nVersion: 1\nArchitecture: all\nFilename: pool/a.deb\nSize: 1\nSHA256: " + sum1 +
	"\nDescription: first\n multi-line\n .\n end\n\n" +
	"package: b\nversion: 2\narchitecture: amd64\nfilename: pool/b.deb\nsize: 2\nsha256: " + strings.ToUpper(sum1) +
	"\nSource: c (3)\nEssential: yes\nInstalled-Size: 42\nX-Empty:\n"

func TestCodecRoundTrip(t *testing.T) {
	rel := &Release{URL: "http://mirror.invalid/dists/x/InRelease"}
	parsed, err := parsePackages(strings.NewReader(twoStanzas), rel)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := decodePackages(encodePackages(parsed), rel)
	if err != nil {
		t.Fatal(err)
	}
	if dump(decoded) != dump(parsed) {
		t.Fatalf("round trip differs:\n%s\nvs\n%s", dump(decoded), dump(parsed))
	}
	b := decoded[1]
	if b.Name != "b" || b.Source != "c" || b.SourceVersion != "3" || !b.Essential || b.InstalledSize != 42 || b.SHA256 != sum1 {
		t.Errorf("lower-case field names not honored: %+v", b)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := encodePackages(mustParse(t, twoStanzas))
	tests := map[string][]byte{
		"empty":         nil,
		"other version": append([]byte("spartan-packages-v1\n"), good[len(codecMagic):]...),
		"truncated":     good[:len(good)-3],
		"trailing":      append(append([]byte(nil), good...), 0),
		"huge count":    append([]byte(codecMagic), 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for name, data := range tests {
		if _, err := decodePackages(data, nil); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestParsePackagesRejects(t *testing.T) {
	stanza := func(over string) string {
		fields := map[string]string{"Package": "a", "Version": "1", "Architecture": "all",
			"Filename": "pool/a.deb", "Size": "1", "SHA256": sum1}
		for _, kv := range strings.Split(over, ";") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = v
			}
		}
		var b strings.Builder
		for _, k := range []string{"Package", "Version", "Architecture", "Filename", "Size", "SHA256", "Source", "Installed-Size"} {
			if v := fields[k]; v != "" {
				b.WriteString(k + ": " + v + "\n")
			}
		}
		return b.String()
	}
	tests := []struct{ over, want string }{
		{"Package=", "no Package"},
		{"Filename=", "no Filename"},
		{"SHA256=", "no SHA256"},
		{"SHA256=abc", "not a SHA-256"},
		{"Size=x", "invalid Size"},
		{"Installed-Size=-1", "invalid Installed-Size"},
		{"Filename=../../etc/passwd", "unsafe Filename"},
		{"Filename=/pool/a.deb", "unsafe Filename"},
		{"Filename=pool/a.deb?x=1", "unsafe Filename"},
		{"Source=c (3", "invalid Source"},
		{"Source=(3)", "invalid Source"},
	}
	for _, tt := range tests {
		t.Run(tt.over, func(t *testing.T) {
			_, err := scanIndex(stanza(tt.over), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := scanIndex(stanza("Filename=pool/main/a/a+b/a+b_1~rc1_all.deb"), nil); err != nil {
		t.Errorf("ordinary pool name refused: %v", err)
	}
}
