package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"

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
		comparePieces(t, string(in), rel)
		return
	}
	if dump(got) != dump(want) {
		t.Fatalf("scanner differs from parser for %q:\n%s\nvs\n%s", in, dump(got), dump(want))
	}
	comparePieces(t, string(in), rel)
	decoded, err := decodePackages(encodePackages(got), rel)
	if err != nil {
		t.Fatalf("cache entry of %q does not decode: %v", in, err)
	}
	if dump(decoded) != dump(got) {
		t.Fatalf("cache round trip differs for %q:\n%s\nvs\n%s", in, dump(decoded), dump(got))
	}
}

// comparePieces fails unless scanning text in pieces, as readIndex does while it
// decompresses, gives what scanning it whole gives: the same packages, or the same error. It
// splits after every line, and in pieces of a few lines.
func comparePieces(t *testing.T, text string, rel *Release) {
	t.Helper()
	want, wantErr := scanIndex(text, rel)
	for _, every := range []int{1, 3} {
		s := newIndexScanner(rel, 0)
		var err error
		rest := text
		for rest != "" && err == nil {
			end := 0
			for range every {
				if i := strings.IndexByte(rest[end:], '\n'); i >= 0 {
					end += i + 1
				} else {
					end = len(rest)
					break
				}
			}
			err = s.scan(rest[:end])
			rest = rest[end:]
		}
		var got []*Package
		if err == nil {
			got, err = s.finish()
		}
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("in pieces of %d lines: err = %v, whole: %v, for %q", every, err, wantErr, text)
		}
		if dump(got) != dump(want) {
			t.Fatalf("in pieces of %d lines differs for %q:\n%s\nvs\n%s", every, text, dump(got), dump(want))
		}
	}
}

// TestSplitIndex checks the pieces readIndex scans while it decompresses: they end at line
// ends, add up to the text, and stop at the size limit or when the scanner gives up.
func TestSplitIndex(t *testing.T) {
	var text strings.Builder
	for i := range 200 {
		text.WriteString(stanzaOK(fmt.Sprint("p", i)))
		text.WriteString("\n")
	}
	text.WriteString("Description: no final newline")
	split := func(r io.Reader, limit int64, stop chan struct{}) ([]string, error) {
		pieces := make(chan string)
		done := make(chan error, 1)
		go func() {
			defer close(pieces)
			done <- splitIndex(r, limit, 1000, pieces, stop)
		}()
		var out []string
		for p := range pieces {
			out = append(out, p)
			if len(out) == 3 && stop != nil {
				close(stop)
			}
		}
		return out, <-done
	}
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"large reads", strings.NewReader(text.String())},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(text.String()))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pieces, err := split(tt.r, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(pieces) < 10 {
				t.Errorf("%d pieces, want the text split", len(pieces))
			}
			for i, p := range pieces[:len(pieces)-1] {
				if !strings.HasSuffix(p, "\n") || len(p) > 2000 {
					t.Fatalf("piece %d is %d bytes ending %q", i, len(p), p[len(p)-1:])
				}
			}
			if strings.Join(pieces, "") != text.String() {
				t.Error("pieces do not add up to the text")
			}
		})
	}
	t.Run("limit", func(t *testing.T) {
		if _, err := split(strings.NewReader(text.String()), int64(text.Len()-1), nil); !errors.Is(err, errIndexTooLarge) {
			t.Fatalf("err = %v, want errIndexTooLarge", err)
		}
		if _, err := split(strings.NewReader(text.String()), int64(text.Len()), nil); err != nil {
			t.Fatalf("an index of exactly the limit: %v", err)
		}
	})
	t.Run("stop", func(t *testing.T) {
		pieces, err := split(strings.NewReader(text.String()), 1<<20, make(chan struct{}))
		if !errors.Is(err, errScanStopped) || len(pieces) != 3 {
			t.Fatalf("err = %v after %d pieces, want errScanStopped after 3", err, len(pieces))
		}
	})
}

// TestReadIndexFileErrors covers readIndex's own refusals: a bad stanza (from the scanner,
// which stops the decompressor) and a truncated compressed file.
func TestReadIndexFileErrors(t *testing.T) {
	var text strings.Builder
	for i := range 30000 {
		text.WriteString(stanzaOK(fmt.Sprint("p", i)) + "\n")
	}
	bad := text.String() + "Package: broken\n"
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	good := gz(text.String())
	tests := []struct {
		name, path, want string
	}{
		{"bad stanza at the end", write("bad.gz", gz(bad)), "no Version field"},
		{"bad stanza first", write("first.gz", gz("Package: broken\n\n"+text.String())), "stanza ending at line 2"},
		{"truncated", write("trunc.gz", good[:len(good)/2]), "decompress .gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readIndexFile(tt.path, ".gz", nil, 0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	pkgs, err := readIndexFile(write("good.gz", good), ".gz", nil, int64(text.Len()))
	if err != nil || len(pkgs) != 30000 || pkgs[29999].Name != "p29999" {
		t.Fatalf("good index: %d packages, err %v", len(pkgs), err)
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

// readIndexFile reads a stored index file with readIndex, as the tests and benchmarks keep
// their indexes in files.
func readIndexFile(path, ext string, rel *Release, sizeHint int64) ([]*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readIndex(f, ext, rel, sizeHint)
}
