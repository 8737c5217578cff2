package archive

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/debian/control"
)

// parsePackages is the reference reader the scanner must agree with: the general deb822
// paragraph parser, then the same typed-field checks.
func parsePackages(r io.Reader, rel *Release) ([]*Package, error) {
	cr := control.NewReader(r)
	var out []*Package
	for {
		p, err := cr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v [numFields]string
		var seen uint32
		for _, f := range p.Fields {
			id := fieldID(f.Name)
			if id < 0 || seen&(1<<id) != 0 {
				continue
			}
			seen |= 1 << id
			v[id] = f.Value
		}
		pkg := &Package{Origin: rel}
		if err := fillPackage(pkg, &v); err != nil {
			return nil, fmt.Errorf("stanza ending at line %d: %w", cr.Line(), err)
		}
		out = append(out, pkg)
	}
}

func stanzaOK(name string) string {
	return "Package: " + name + "\nVersion: 1\nArchitecture: all\nFilename: pool/" + name + ".deb\nSize: 1\nSHA256: " + sum1 + "\n"
}

func TestScanIndexMatchesParser(t *testing.T) {
	tests := map[string]string{
		"empty":                 "",
		"blank lines only":      "\n \n\t\n",
		"two stanzas":           twoStanzas,
		"CRLF":                  strings.ReplaceAll(twoStanzas, "\n", "\r\n"),
		"double CR":             strings.ReplaceAll(stanzaOK("a"), "\n", "\r\r\n"),
		"no final newline":      strings.TrimSuffix(stanzaOK("a"), "\n"),
		"comment before":        "# generated\n" + stanzaOK("a"),
		"whitespace separator":  stanzaOK("a") + " \t \n" + stanzaOK("b"),
		"unicode space line":    stanzaOK("a") + "\u00a0\n" + stanzaOK("b"),
		"repeated field":        stanzaOK("a") + "Version: 2\n Depends: x\n",
		"multi-line Depends":    stanzaOK("a") + "Depends: b,\n c (>= 1),\n\td\n",
		"multi-line first":      stanzaOK("a") + "Depends: b, \n c\r\n",
		"empty Depends":         stanzaOK("a") + "Depends:\n x\n",
		"lower-case names":      strings.ToLower(stanzaOK("a")),
		"mixed-case names":      "PACKAGE: a\nversion: 1\nArchitecture: all\nFileName: pool/a.deb\nSize: 1\nSha256: " + sum1 + "\n",
		"hash inside stanza":    stanzaOK("a") + "#X: y\n",
		"continuation first":    " x\n" + stanzaOK("a"),
		"no colon":              stanzaOK("a") + "garbage\n",
		"space in name":         stanzaOK("a") + "Bad Name: x\n",
		"empty name":            stanzaOK("a") + ": x\n",
		"bad second stanza":     stanzaOK("a") + "\n" + "Package: b\n",
		"bad Size at EOF":       strings.Replace(stanzaOK("a"), "Size: 1", "Size: x", 1),
		"invalid UTF-8 value":   stanzaOK("a") + "Description: \xff\xfe\n",
		"tab continuation only": stanzaOK("a") + "Description: x\n\t\n .\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			compareScanners(t, []byte(in))
		})
	}
}

func TestScanIndexErrors(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"continuation first": {" x\n", "line 1: continuation line before any field"},
		"no colon":           {stanzaOK("a") + "garbage\n", `line 7: expected "Field: value", got "garbage"`},
		"space in name":      {stanzaOK("a") + "Bad Name: x\n", `line 7: invalid field name "Bad Name"`},
		"bad stanza":         {stanzaOK("a") + "\n" + strings.Replace(stanzaOK("b"), "Size: 1", "Size: -1", 1) + "\n", "stanza ending at line 14: package b: invalid Size"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := scanIndex(tt.in, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// compareScanners fails unless scanIndex and the reference parser agree on in: both refuse it,
// or both return the same packages. It also holds the parsed-index cache to a lossless round
// trip of what they return.
func compareScanners(t *testing.T, in []byte) {
	t.Helper()
	rel := &Release{URL: "http://mirror.invalid/dists/x/InRelease"}
	want, wantErr := parsePackages(strings.NewReader(string(in)), rel)
	got, gotErr := scanIndex(string(in), rel)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("parser err = %v, scanner err = %v for %q", wantErr, gotErr, in)
	}
	if wantErr != nil {
		return
	}
	if dump(got) != dump(want) {
		t.Fatalf("scanner differs from parser for %q:\n%s\nvs\n%s", in, dump(got), dump(want))
	}
	decoded, err := decodePackages(encodePackages(got), rel)
	if err != nil {
		t.Fatalf("cache entry of %q does not decode: %v", in, err)
	}
	if dump(decoded) != dump(got) {
		t.Fatalf("cache round trip differs for %q:\n%s\nvs\n%s", in, dump(decoded), dump(got))
	}
}

// FuzzScanIndex holds the index scanner to the reference paragraph parser as an oracle. Seeds
// are in testdata/fuzz/FuzzScanIndex.
func FuzzScanIndex(f *testing.F) {
	f.Add([]byte(twoStanzas))
	f.Add([]byte(stanzaOK("a") + "Depends: b,\n c\n\n" + stanzaOK("b") + "Provides: v (= 1)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareScanners(t, data)
	})
}
