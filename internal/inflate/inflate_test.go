package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/spartan-images/spartan/internal/deflate"
)

// corpus returns inputs shaped like what Spartan inflates: text, binary-ish data with long
// zero runs (tar padding), random bytes (stored blocks), and edge sizes.
func corpus() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 9))
	random := make([]byte, 300_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var text strings.Builder
	for i := 0; text.Len() < 3<<20; i++ {
		text.WriteString("Package: lib")
		text.WriteString(strings.Repeat("x", i%37))
		text.WriteString("\nVersion: 1.2.3-4\nDepends: libc6 (>= 2.34), zlib1g\n\n")
	}
	tarish := make([]byte, 0, 2<<20)
	for len(tarish) < 2<<20 {
		tarish = append(tarish, random[:rng.IntN(2000)]...)
		tarish = append(tarish, make([]byte, rng.IntN(5000))...)
	}
	return map[string][]byte{
		"empty":  {},
		"one":    {'a'},
		"run":    bytes.Repeat([]byte{0}, 100_000),
		"period": bytes.Repeat([]byte("abc"), 50_000),
		"text":   []byte(text.String()),
		"random": random,
		"tarish": tarish,
	}
}

// encoders are the producers whose streams must read back: ours (what the layer check reads)
// and compress/gzip at several levels (stored, fixed and dynamic blocks, like Debian's indexes).
var encoders = map[string]func([]byte) []byte{
	"spartan":        deflate.Gzip,
	"stdlib-0":       func(b []byte) []byte { return stdGzip(b, gzip.NoCompression) },
	"stdlib-1":       func(b []byte) []byte { return stdGzip(b, gzip.BestSpeed) },
	"stdlib-9":       func(b []byte) []byte { return stdGzip(b, gzip.BestCompression) },
	"stdlib-huffman": func(b []byte) []byte { return stdGzip(b, gzip.HuffmanOnly) },
}

func stdGzip(b []byte, level int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, level)
	w.Name = "Packages" // exercises FNAME
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for name, data := range corpus() {
		for ename, enc := range encoders {
			gz := enc(data)
			for rname, wrap := range map[string]func(io.Reader) io.Reader{
				"whole":    func(r io.Reader) io.Reader { return r },
				"one byte": iotest.OneByteReader,
				"half":     iotest.HalfReader,
			} {
				if rname == "one byte" && len(gz) > 200_000 {
					continue
				}
				z, err := NewReader(wrap(bytes.NewReader(gz)))
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", name, ename, rname, err)
				}
				got, err := io.ReadAll(z)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s/%s/%s: %d bytes, err %v; want %d bytes", name, ename, rname, len(got), err, len(data))
				}
			}
			// WriteTo, as io.Copy uses it.
			z, err := NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, z); err != nil || !bytes.Equal(buf.Bytes(), data) {
				t.Errorf("%s/%s WriteTo: %d bytes, err %v", name, ename, buf.Len(), err)
			}
		}
	}
}

func TestMultipleMembers(t *testing.T) {
	a, b := []byte("first member\n"), bytes.Repeat([]byte("second "), 1000)
	gz := append(stdGzip(a, 6), deflate.Gzip(b)...)
	z, err := NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(z)
	if err != nil || string(got) != string(a)+string(b) {
		t.Fatalf("got %d bytes, err %v", len(got), err)
	}
}

// TestRefusals: every damaged stream is an error, never a short or altered result taken for
// the whole.
func TestRefusals(t *testing.T) {
	data := corpus()["text"][:200_000]
	good := stdGzip(data, 6)
	flip := func(i int, mask byte) []byte {
		b := bytes.Clone(good)
		b[i] ^= mask
		return b
	}
	// A back-reference before the start of the output: fixed block, length 3, distance 1.
	far := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255, 0x03, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	// A second member that refers back into the first.
	tricky := append(stdGzip([]byte("abc"), 6), far...)
	tests := []struct {
		name string
		in   []byte
		want error // nil: any error
		msg  string
	}{
		{"bad magic", flip(0, 1), ErrHeader, ""},
		{"method", flip(2, 1), ErrHeader, ""},
		{"header CRC", func() []byte {
			b := bytes.Clone(good)
			b[3] |= 0x02 // FHCRC with a wrong value: the FNAME bytes stand in for it
			return b
		}(), nil, ""},
		{"truncated in data", good[:len(good)/2], io.ErrUnexpectedEOF, ""},
		{"truncated in trailer", good[:len(good)-3], io.ErrUnexpectedEOF, ""},
		{"CRC", flip(len(good)-8, 1), ErrChecksum, ""},
		{"length", flip(len(good)-1, 1), ErrChecksum, ""},
		{"data byte", flip(len(good)/2, 0x10), nil, ""},
		{"distance too far", far, nil, "before the start"},
		{"distance into the previous member", tricky, nil, "before the start"},
		{"trailing garbage", append(bytes.Clone(good), 'x'), nil, ""},
		{"stored length", func() []byte {
			b := stdGzip([]byte("hello"), gzip.NoCompression)
			b[10+9+1+2] ^= 1 // NLEN of the first stored block: after the header, "Packages\x00", the block header byte and LEN
			return b
		}(), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := NewReader(bytes.NewReader(tt.in))
			if err == nil {
				_, err = io.ReadAll(z)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want it to say %q", err, tt.msg)
			}
		})
	}
}
