package deflate

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func repeatText(n int) []byte {
	const s = "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.\n"
	return []byte(strings.Repeat(s, n/len(s)+1)[:n])
}

// periodic returns n bytes that repeat a random block of the given period,
// so every match sits at exactly that distance.
func periodic(period, n int) []byte {
	block := randomBytes(uint64(period), period)
	b := make([]byte, n)
	for i := range b {
		b[i] = block[i%period]
	}
	return b
}

// skewed mimics executables and UTF-16 data: a small alphabet with many
// short repeats, where 3-byte matches pay.
func skewed(n int) []byte {
	r := rand.New(rand.NewPCG(7, 7))
	b := make([]byte, 0, n)
	for len(b) < n {
		switch r.IntN(4) {
		case 0:
			b = append(b, byte(r.IntN(26)+'a'), 0)
		case 1:
			b = append(b, 0x48, 0x8b, byte(r.IntN(8)))
		case 2:
			if len(b) > 100 {
				off := len(b) - 1 - r.IntN(min(len(b)-1, 6000))
				l := 3 + r.IntN(6)
				for k := 0; k < l && len(b) < n; k++ {
					b = append(b, b[off+k])
				}
			}
		default:
			b = append(b, byte(r.IntN(256)))
		}
	}
	return b[:n]
}

type testCase struct {
	name string
	data []byte
}

func testCases() []testCase {
	mixed := append(randomBytes(3, 40000), repeatText(100000)...)
	mixed = append(mixed, randomBytes(4, 70000)...)
	nearWindow := randomBytes(5, 32768+1000)
	nearWindow = append(nearWindow, nearWindow[:5000]...) // distance 33768: out of reach
	nearWindow = append(nearWindow, nearWindow[1000:]...) // distance 32768 exactly
	return []testCase{
		{"empty", nil},
		{"one byte", []byte{'x'}},
		{"two bytes", []byte{0, 0}},
		{"three bytes", []byte("abc")},
		{"four equal", []byte("aaaa")},
		{"high literals", []byte{0x90, 0xf6, 0xff, 0x00, 0x8f, 0x91}}, // 9-bit fixed codes
		{"zeros 3MB", make([]byte, 3<<20)},
		{"random 1MB", randomBytes(1, 1<<20)},
		{"random 200000", randomBytes(2, 200000)},
		{"text 1MB", repeatText(1 << 20)},
		{"skewed 2MB", skewed(2 << 20)},
		{"mixed", mixed},
		{"text 32768", repeatText(32768)},
		{"random 32768", randomBytes(6, 32768)},
		{"text 65535", repeatText(65535)},
		{"random 65535", randomBytes(8, 65535)},
		{"random 65536", randomBytes(9, 65536)},
		{"text 65536", repeatText(65536)},
		{"random 65537", randomBytes(10, 65537)},
		{"period 32768", periodic(32768, 200000)},
		{"period 32767", periodic(32767, 200000)},
		{"period 32769", periodic(32769, 200000)},
		{"period 4096", periodic(4096, 100000)},
		{"period 4097 of 3", periodic(4097, 100000)[:4100]},
		{"near window", nearWindow},
		{"runs", bytes.Repeat(append(bytes.Repeat([]byte{'a'}, 1000), bytes.Repeat([]byte{'b'}, 300)...), 500)},
		{"run 258", bytes.Repeat([]byte{7}, 259)},
		{"run 259+1", append(bytes.Repeat([]byte{7}, 260), 8)},
	}
}

func gunzip(t testing.TB, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	// The member must be the whole output.
	if rest, _ := io.ReadAll(zr); len(rest) != 0 {
		t.Fatalf("trailing data after member")
	}
	return out
}

func inflate(t testing.TB, raw []byte) []byte {
	t.Helper()
	r := bytes.NewReader(raw)
	out, err := io.ReadAll(flate.NewReader(r))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes after the final block", r.Len())
	}
	return out
}

// storedBound is the size of src as stored blocks: what the encoder must
// never exceed, since it can always fall back to them.
func storedBound(n int) int {
	return n + 5*max(1, (n+65534)/65535) + 1
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range testCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw := Deflate(tc.data)
			if got := inflate(t, raw); !bytes.Equal(got, tc.data) {
				t.Fatalf("deflate round trip differs (len %d vs %d)", len(got), len(tc.data))
			}
			if len(raw) > storedBound(len(tc.data)) {
				t.Errorf("deflate of %d bytes is %d bytes, over the stored-block bound %d", len(tc.data), len(raw), storedBound(len(tc.data)))
			}
			gz := Gzip(tc.data)
			if got := gunzip(t, gz); !bytes.Equal(got, tc.data) {
				t.Fatalf("gzip round trip differs")
			}
			if !bytes.Equal(gz[10:len(gz)-8], raw) {
				t.Errorf("gzip body is not the deflate stream")
			}
		})
	}
}

// TestChunkBoundaries ends inputs on every symbol count around the chunk
// and buffer sizes: random bytes are nearly all literals, so each length
// near a boundary makes the last symbols land on either side of it.
func TestChunkBoundaries(t *testing.T) {
	for _, k := range []int{1, 2, bufChunks - 1, bufChunks, bufChunks + 1, 2 * bufChunks} {
		for d := -12; d <= 12; d++ {
			n := k*chunkSyms + d
			src := randomBytes(uint64(n), n)
			if got := inflate(t, Deflate(src)); !bytes.Equal(got, src) {
				t.Fatalf("length %d: round trip differs", n)
			}
		}
	}
}

func TestRandomUsesStoredBlocks(t *testing.T) {
	for _, n := range []int{1000, 16383, 65535, 65536, 1 << 20} {
		src := randomBytes(uint64(n), n)
		raw := Deflate(src)
		// Fixed or dynamic Huffman would expand random data by about 1/8;
		// stored blocks add 5 bytes per 64 KiB at most.
		if limit := storedBound(n); len(raw) > limit {
			t.Errorf("random %d: %d bytes, want <= %d", n, len(raw), limit)
		}
	}
}

func TestWriteStoredChunks(t *testing.T) {
	// A stored block holds at most 65535 bytes; longer ranges must be cut.
	src := randomBytes(11, 3*65535+17)
	var b blockWriter
	b.start(nil, src, 0, true)
	// An empty fixed-Huffman block first leaves the stored header off a
	// byte boundary, where the padding rule matters.
	b.writeHeader(1, false)
	b.writeBits(0, 7)
	want := 10 + b.storedBits(len(src))
	b.writeStored(src, true)
	out := b.finish()
	if got := len(out); got != (want+7)/8 {
		t.Errorf("stored output %d bytes, predicted %d bits", got, want)
	}
	if got := inflate(t, out); !bytes.Equal(got, src) {
		t.Fatal("stored chunks do not decode to the input")
	}
}

func TestGzipFraming(t *testing.T) {
	src := repeatText(100000)
	gz := Gzip(src)
	wantHeader := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	if !bytes.Equal(gz[:10], wantHeader) {
		t.Errorf("header % x, want % x", gz[:10], wantHeader)
	}
	if got, want := binary.LittleEndian.Uint32(gz[len(gz)-8:]), crc32.ChecksumIEEE(src); got != want {
		t.Errorf("CRC %08x, want %08x", got, want)
	}
	if got := binary.LittleEndian.Uint32(gz[len(gz)-4:]); got != uint32(len(src)) {
		t.Errorf("ISIZE %d, want %d", got, len(src))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if zr.OS != 255 || !zr.ModTime.IsZero() || zr.Name != "" || zr.Extra != nil || zr.Comment != "" {
		t.Errorf("header fields %+v", zr.Header)
	}

	empty := Gzip(nil)
	if got := gunzip(t, empty); len(got) != 0 {
		t.Errorf("empty input decoded to %d bytes", len(got))
	}
	if !bytes.Equal(empty[len(empty)-8:], make([]byte, 8)) {
		t.Errorf("empty trailer % x", empty[len(empty)-8:])
	}

	// AppendGzip keeps what dst held.
	prefix := []byte("prefix")
	out := AppendGzip(bytes.Clone(prefix), src)
	if !bytes.HasPrefix(out, prefix) || !bytes.Equal(out[len(prefix):], gz) {
		t.Errorf("AppendGzip did not append the same member")
	}
}

func TestDeterministic(t *testing.T) {
	data := skewed(1 << 20)
	want := Gzip(data)
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	if !bytes.Equal(Gzip(data), want) {
		t.Fatal("output changed with GOMAXPROCS=1")
	}
	runtime.GOMAXPROCS(old)
	// Pooled encoders must carry nothing from one input to the next.
	Gzip(randomBytes(12, 300000))
	var wg sync.WaitGroup
	outs := make([][]byte, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = Gzip(data)
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if !bytes.Equal(o, want) {
			t.Fatalf("concurrent run %d differs", i)
		}
	}
}

// TestLengthLimited checks codes that an unlimited Huffman construction
// would make 20+ bits deep (Fibonacci frequencies).
func TestLengthLimited(t *testing.T) {
	var h huffBuilder
	for _, tc := range []struct {
		n, limit int
	}{{numLitLen, maxCodeBits}, {30, maxCodeBits}, {numCodeLen, maxCLBits}, {2, 1}, {3, 2}, {1, maxCodeBits}, {0, maxCodeBits}} {
		freq := make([]uint32, max(tc.n, 2))
		a, b := uint32(1), uint32(1)
		for i := range tc.n {
			freq[i] = a
			a, b = b, min(a+b, 1<<30)
		}
		lens := make([]uint8, len(freq))
		h.lengths(freq, lens, tc.limit)
		kraft := 0.0
		used := 0
		for i, l := range lens {
			if int(l) > tc.limit {
				t.Errorf("n=%d: symbol %d has length %d > %d", tc.n, i, l, tc.limit)
			}
			if freq[i] != 0 && l == 0 {
				t.Errorf("n=%d: used symbol %d has no code", tc.n, i)
			}
			if l != 0 {
				kraft += 1 / float64(uint(1)<<l)
				used++
			}
		}
		if used < 2 || kraft != 1 {
			t.Errorf("n=%d limit %d: %d codes, Kraft sum %v, want a complete code", tc.n, tc.limit, used, kraft)
		}
	}
}

// corpus builds realistic layer-like data without touching the network: a
// tar of Go sources and the running test executable (an ELF binary).
func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if exe, err := os.Executable(); err == nil {
		if b, err := os.ReadFile(exe); err == nil {
			out["test executable"] = b
		}
	}
	if root := runtime.GOROOT(); root != "" {
		if b, err := tarDir(filepath.Join(root, "src", "net")); err == nil && len(b) > 1<<20 {
			out["tar of GOROOT/src/net"] = b
		}
	}
	if len(out) == 0 {
		t.Skip("no executable or GOROOT to build a corpus from")
	}
	return out
}

func tarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: rel, Mode: 0o644, Size: int64(len(b)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func flateSize(t testing.TB, src []byte, level int) int {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	return buf.Len()
}

// TestRatio is the point of the package: on binaries and source trees we
// must beat the Go encoders, which cannot emit 3-byte matches.
func TestRatio(t *testing.T) {
	for name, data := range corpus(t) {
		ours := len(Deflate(data))
		if got := inflate(t, Deflate(data)); !bytes.Equal(got, data) {
			t.Fatalf("%s: round trip differs", name)
		}
		std6 := flateSize(t, data, 6)
		std9 := flateSize(t, data, 9)
		t.Logf("%s: %d bytes -> ours %d, compress/flate 6 %d, 9 %d", name, len(data), ours, std6, std9)
		if ours >= std6 {
			t.Errorf("%s: %d bytes, not smaller than compress/flate level 6 (%d)", name, ours, std6)
		}
		if ours >= std9 {
			t.Errorf("%s: %d bytes, not smaller than compress/flate level 9 (%d)", name, ours, std9)
		}
	}
}

// TestRebase forces the table stamps to slide and to be cleared often, as
// they are every 1 GiB of input, and checks that nothing observable changes.
func TestRebase(t *testing.T) {
	inputs := [][]byte{skewed(3 << 20), repeatText(500000), randomBytes(13, 100000), periodic(32768, 300000)}
	var want [][]byte
	for _, in := range inputs {
		var e encoder
		want = append(want, e.deflate(nil, in, 0, true))
	}
	old := rebaseAt
	defer func() { rebaseAt = old }()
	for _, r := range []int{40000, 200000, 1 << 20} {
		rebaseAt = r
		var e encoder // not pooled: its stamps must start from this rebaseAt
		for round := range 2 {
			for i, in := range inputs {
				if got := e.deflate(nil, in, 0, true); !bytes.Equal(got, want[i]) {
					t.Fatalf("rebaseAt=%d round %d input %d: output differs", r, round, i)
				}
			}
		}
	}
}

// TestHuffmanMatchesPackageMerge checks the fast path against the general
// one: whenever a plain Huffman code fits the limit, package-merge must
// find a code of the same cost, since both are optimal.
func TestHuffmanMatchesPackageMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h huffBuilder
	for iter := range 2000 {
		n := 2 + r.IntN(numLitLen-1)
		freq := make([]uint32, n)
		for i := range freq {
			switch r.IntN(3) {
			case 0:
			case 1:
				freq[i] = uint32(r.IntN(10))
			default:
				freq[i] = uint32(r.ExpFloat64() * 1000)
			}
		}
		freq[0], freq[n-1] = 1, 5 // at least two used symbols
		k := 0
		for s, f := range freq {
			if f != 0 {
				h.keys[k] = uint64(f)<<16 | uint64(s)
				k++
			}
		}
		keys := h.keys[:k]
		slices.Sort(keys)
		a := make([]uint8, n)
		b := make([]uint8, n)
		if !h.huffman(keys, a, maxCodeBits) {
			continue
		}
		h.packageMerge(keys, b, maxCodeBits)
		var ca, cb int
		for i, f := range freq {
			ca += int(f) * int(a[i])
			cb += int(f) * int(b[i])
		}
		if ca != cb {
			t.Fatalf("iteration %d: Huffman cost %d, package-merge %d", iter, ca, cb)
		}
	}
}
