package deb

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files in testdata/xz were made by XZ Utils 5.4 with the options their names say, from
// 112 KiB of words or (incompressible.xz) 30000 random bytes; multistream.xz is both streams
// with stream padding between them. The .xz decompressor must decode them, read in awkward
// pieces, or refuse them with an error saying why.
func TestXZRealStreams(t *testing.T) {
	const (
		text  = "ca639685376fa1aeb77050e8f28374a041743aa08471ffd9cffeb7104b91d8df" // 112 KiB of words
		rand  = "833f717c6421697166716c5dd354f2cf6631a558063df0f94b7f710e0b7a0d10" // 30000 random bytes
		multi = "d80ee73427bff77729ccaeed57a6c46c22ad274503b30d58bf8b52d71744b7dc" // text then rand
	)
	tests := []struct {
		file    string
		wantErr string
		sha256  string // of the content
	}{
		{file: "single.xz", sha256: text},
		{file: "blocks.xz", sha256: text},
		{file: "check-none.xz", sha256: text},
		{file: "check-sha256.xz", sha256: text},
		{file: "incompressible.xz", sha256: rand},
		{file: "multistream.xz", sha256: multi},
		{file: "bcj-x86.xz", wantErr: "filter chain BCJ x86 + LZMA2 is not supported"},
		{file: "dict-192m.xz", wantErr: "dictionary of 192 MiB exceeds the 128 MiB"},
	}
	open, err := decompressor("data.tar", "data.tar.xz")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "xz", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			zr, err := open(&chunky{r: bytes.NewReader(raw), n: 7})
			if err == nil {
				_, err = io.Copy(h, zr)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused a valid stream: %v", err)
			}
			if fmt.Sprintf("%x", h.Sum(nil)) != tc.sha256 {
				t.Errorf("content sha256 %x", h.Sum(nil))
			}
		})
	}
}

// chunky returns at most n bytes per Read.
type chunky struct {
	r io.Reader
	n int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// TestReadRefusesHugeXZDictionary patches a package's data.tar.xz block header to ask for a
// 4 GiB dictionary (CRC fixed up): Read must refuse it without allocating it.
func TestReadRefusesHugeXZDictionary(t *testing.T) {
	raw, err := sample("xz").Build()
	if err != nil {
		t.Fatal(err)
	}
	p := splitAr(t, raw)
	data := append([]byte(nil), p[2].data...)
	hdr := data[12 : 12+(int(data[12])+1)*4]
	i := bytes.Index(hdr, []byte{0x21, 0x01})
	if i < 0 {
		t.Fatalf("no LZMA2 filter in block header % x", hdr)
	}
	hdr[i+2] = 40
	binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], crc32.ChecksumIEEE(hdr[:len(hdr)-4]))
	_, err = Read(bytes.NewReader(joinAr(p[0], p[1], arPart{"data.tar.xz", data})), func(*tar.Header, io.Reader) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "data.tar.xz") || !strings.Contains(err.Error(), "dictionary of 4095 MiB") {
		t.Fatalf("err = %v", err)
	}
}
