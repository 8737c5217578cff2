package xz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ulikunitz "github.com/ulikunitz/xz"
)

func decode(raw []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// testFiles returns the .xz files of testdata, made by XZ Utils (see TestTestdataFiles), with
// the SHA-256 of what `xz -dc` made of each.
func testFiles(tb testing.TB) map[string]string {
	tb.Helper()
	f, err := os.Open("testdata/SHA256SUMS")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			tb.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

// TestTestdataFiles decodes files XZ Utils 5.4 made with every check type, several blocks,
// sizes in block headers (multi-threaded xz), uncompressed chunks, lc/lp/pb and dictionary
// variants, an empty file and two concatenated streams with padding, and compares each with
// what `xz -dc` and ulikunitz/xz make of it.
func TestTestdataFiles(t *testing.T) {
	for name, want := range testFiles(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != want {
				t.Errorf("decoded %d bytes whose SHA-256 differs from xz -dc's", len(got))
			}
			ur, err := ulikunitz.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			other, err := io.ReadAll(ur)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, other) {
				t.Error("differs from ulikunitz/xz")
			}
		})
	}
}

// TestRejects damages valid files where a decoder that skipped a check would still produce
// output.
func TestRejects(t *testing.T) {
	read := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	flip := func(name string, off int) []byte {
		raw := read(name)
		if off < 0 {
			off += len(raw)
		}
		raw[off] ^= 0x01
		return raw
	}
	text := read("text-crc64.xz")
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty input", nil, "unexpected EOF"},
		{"not xz", []byte("hello, this is not xz"), "bad magic"},
		{"stream flags CRC", flip("text-crc64.xz", 7), "stream header: CRC32"},
		{"block header CRC", flip("text-crc64.xz", 13), "block header: CRC32"},
		{"CRC64 of the data", flip("text-crc64.xz", checkOffset(read("text-crc64.xz"), 8)), "CRC64 of the data"},
		{"CRC32 of the data", flip("text-crc32.xz", checkOffset(read("text-crc32.xz"), 4)), "CRC32 of the data"},
		{"SHA-256 of the data", flip("text-sha256.xz", checkOffset(read("text-sha256.xz"), 32)), "SHA-256 of the data"},
		{"index CRC", flip("text-crc64.xz", -13), "index: CRC32"},
		{"footer CRC", flip("text-crc64.xz", -10), "footer: CRC32"},
		{"footer magic", flip("text-crc64.xz", -1), "footer"},
		{"truncated", text[:len(text)-1], "unexpected EOF"},
		{"truncated in data", text[:len(text)/2], ""},
		{"trailing garbage", append(bytes.Clone(text), 1, 2, 3, 4), ""},
		{"padding not a multiple of four", append(bytes.Clone(text), 0, 0), "stream padding"},
		{"LZMA data", flip("text-none.xz", 200), "corrupt LZMA2 data"},
		{"BCJ x86 filter", read("refuse-x86-head.xz"), "filter chain BCJ x86 + LZMA2 is not supported"},
		{"delta filter", read("refuse-delta.xz"), "filter chain delta + LZMA2 is not supported"},
		{"reserved check type", withCheckType(read("text-crc64.xz"), 2), "unsupported check type 2"},
		{"block header reserved flags", withBlockFlags(read("text-crc64.xz"), 0x04), "block header: unsupported flags"},
		{"second stream garbage", append(bytes.Clone(text), 0xfd, '7', 'z', 'X', 'Z', 1), "xz stream header"},
		{"index record count", withIndexCount(read("text-crc64.xz"), 2), "index: lists 2 blocks, the stream has 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDictionaryLimit(t *testing.T) {
	raw, err := os.ReadFile("testdata/text-crc64.xz")
	if err != nil {
		t.Fatal(err)
	}
	// The LZMA2 properties byte is the last before the header's padding and CRC32; 40 is a
	// 4 GiB dictionary. Fix the header CRC so only the limit can refuse it.
	hdr := raw[12 : 12+(int(raw[12])+1)*4]
	hdr[len(hdr)-4-3-1] = 40 // header: size, flags, filter ID, props size, props, 3 padding, CRC32
	fixHeaderCRC(hdr)
	if _, err := decode(raw); err == nil || !strings.Contains(err.Error(), "exceeds the 128 MiB limit") {
		t.Fatalf("err = %v, want the dictionary limit", err)
	}
}

// withCheckType sets the stream flags' check type in the header and footer, with valid CRCs.
func withCheckType(raw []byte, check byte) []byte {
	raw[7] = check
	binary.LittleEndian.PutUint32(raw[8:], crc32.ChecksumIEEE(raw[6:8]))
	f := raw[len(raw)-12:]
	f[9] = check
	binary.LittleEndian.PutUint32(f[:4], crc32.ChecksumIEEE(f[4:10]))
	return raw
}

// withBlockFlags sets bits in the first block header's flags byte and fixes its CRC32.
func withBlockFlags(raw []byte, bits byte) []byte {
	hdr := raw[12 : 12+(int(raw[12])+1)*4]
	hdr[1] |= bits
	fixHeaderCRC(hdr)
	return raw
}

// withIndexCount rewrites the record count of a one-block file's index (a one-byte integer)
// and fixes the index CRC32, so only the comparison with the blocks read can refuse it.
func withIndexCount(raw []byte, n byte) []byte {
	size := (int(binary.LittleEndian.Uint32(raw[len(raw)-8:])) + 1) * 4
	index := raw[len(raw)-12-size : len(raw)-12]
	index[1] = n
	binary.LittleEndian.PutUint32(index[size-4:], crc32.ChecksumIEEE(index[:size-4]))
	return raw
}

func fixHeaderCRC(hdr []byte) {
	binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], crc32.ChecksumIEEE(hdr[:len(hdr)-4]))
}

// checkOffset locates the last block's check field of a single-stream file: it precedes the
// index, whose size the footer gives, and the 12-byte footer.
func checkOffset(raw []byte, size int) int {
	index := (int(binary.LittleEndian.Uint32(raw[len(raw)-8:])) + 1) * 4
	return len(raw) - 12 - index - size
}

// TestSmallReads reads through a one-byte buffer, so the window is drained between every byte.
func TestSmallReads(t *testing.T) {
	raw, err := os.ReadFile("testdata/text-blocks.xz")
	if err != nil {
		t.Fatal(err)
	}
	want, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		got = append(got, b[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Error("byte-wise read differs")
	}
}

// FuzzReader holds the decoder to two oracles: ulikunitz/xz, and where the two disagree on
// whether the input is valid, XZ Utils' `xz -dc` (the reference implementation) when it is
// installed. Whatever two decoders accept must decode to the same bytes. Seeds: the testdata
// files and testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	for name := range testFiles(f) {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		// Large seeds make every mutation and minimization slow; TestTestdataFiles covers them.
		if len(raw) <= 16<<10 {
			f.Add(raw)
		}
	}
	xzTool, _ := exec.LookPath("xz")
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := decode(raw)
		var want []byte
		ur, uerr := ulikunitz.NewReader(bytes.NewReader(raw))
		if uerr == nil {
			want, uerr = io.ReadAll(ur)
		}
		if err == nil && uerr == nil {
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded %d bytes, ulikunitz/xz %d, and they differ", len(got), len(want))
			}
			return
		}
		if (err == nil) == (uerr == nil) {
			return
		}
		if xzTool == "" {
			t.Skipf("this decoder says %v, ulikunitz/xz says %v; no xz tool to arbitrate", err, uerr)
		}
		cmd := exec.Command(xzTool, "-dc")
		cmd.Stdin = bytes.NewReader(raw)
		ref, cerr := cmd.Output()
		switch {
		case err == nil && cerr != nil:
			t.Fatalf("accepted what xz -dc refuses (%v)", cerr)
		case err != nil && cerr == nil:
			t.Fatalf("refused what xz -dc accepts: %v", err)
		case err == nil && !bytes.Equal(got, ref):
			t.Fatalf("decoded %d bytes, xz -dc %d, and they differ", len(got), len(ref))
		}
	})
}

// benchFiles times decode over every .xz file in $SPARTAN_BENCH_XZ; decode gets each file's
// path and content and returns how many bytes it decompressed to.
func benchFiles(b *testing.B, decode func(path string, raw []byte) (int64, error)) {
	dir := os.Getenv("SPARTAN_BENCH_XZ")
	if dir == "" {
		b.Skip("set SPARTAN_BENCH_XZ to a directory of .xz files (such as the data.tar.xz members of an image's packages)")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.xz"))
	if err != nil || len(paths) == 0 {
		b.Fatalf("no .xz files in %s", dir)
	}
	var files [][]byte
	var total int64
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, raw)
		total += int64(len(raw))
	}
	b.SetBytes(total)
	var out int64
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		for i, raw := range files {
			n, err := decode(paths[i], raw)
			if err != nil {
				b.Fatalf("%s: %v", paths[i], err)
			}
			out += n
		}
	}
	b.StopTimer()
	// The machine is shared, so wall time swings with the load; CPU time (this process's and
	// its children's, which counts the xz tool) is the steadier figure. Output bytes per CPU
	// second is what an image build pays per byte of data.tar it unpacks.
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(out)/1e6/cpu.Seconds(), "out-MB/cpu-s")
}

func drain(r io.Reader, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, r)
}

// cpuTime is the user and system time of this process and its waited-for children.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// BenchmarkDecode and BenchmarkUlikunitz compare the two decoders on the same files; the
// figures in docs/BENCHMARKS.md come from them and BenchmarkXZTool.
func BenchmarkDecode(b *testing.B) {
	benchFiles(b, func(_ string, raw []byte) (int64, error) {
		return drain(NewReader(bytes.NewReader(raw)))
	})
}

func BenchmarkUlikunitz(b *testing.B) {
	benchFiles(b, func(_ string, raw []byte) (int64, error) {
		return drain(ulikunitz.NewReader(bytes.NewReader(raw)))
	})
}

// BenchmarkXZTool runs XZ Utils' `xz -dc -T1` (C) on the same files, reading the file itself
// and writing to /dev/null so no pipe copying is counted against it: the floor the pure-Go
// decoders are measured against. Each run pays a process start (about a millisecond), small
// next to decoding a package's data.tar.xz.
func BenchmarkXZTool(b *testing.B) {
	tool, err := exec.LookPath("xz")
	if err != nil {
		b.Skip("no xz tool installed")
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	// Output sizes come from this package's decoder, before the timer starts.
	sizes := map[string]int64{}
	paths, _ := filepath.Glob(filepath.Join(os.Getenv("SPARTAN_BENCH_XZ"), "*.xz"))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		n, err := drain(NewReader(f))
		f.Close()
		if err != nil {
			b.Fatalf("%s: %v", p, err)
		}
		sizes[p] = n
	}
	benchFiles(b, func(path string, _ []byte) (int64, error) {
		cmd := exec.Command(tool, "-dc", "-T1", path)
		cmd.Stdout = devNull
		return sizes[path], cmd.Run()
	})
}

// TestParallelBlocks decodes a stream of several blocks with both sizes in their headers (as
// dpkg-deb's threaded compression writes) with 1, 2 and 8 blocks at once: the bytes are the
// same, and a damaged check in the third block is reported in stream order, after exactly the
// first two blocks' bytes when blocks are decoded apart (an unverified block is never handed
// out) and after at most three blocks when decoded as the stream goes.
func TestParallelBlocks(t *testing.T) {
	raw, err := os.ReadFile("testdata/mixed-T2-blocks.xz")
	if err != nil {
		t.Fatal(err)
	}
	want, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(raw)
	bad[31084+12512-8] ^= 1 // block 3 (xz --list -vv: offset 31084, 12,512 bytes) ends with its CRC64
	for _, n := range []int{1, 2, 8} {
		read := func(in []byte) ([]byte, error) {
			r, err := NewReader(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			r.parallel = n
			return io.ReadAll(r)
		}
		got, err := read(raw)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("parallel %d: %d bytes, err %v; want the %d bytes xz -dc makes", n, len(got), err, len(want))
		}
		got, err = read(bad)
		if err == nil || !strings.Contains(err.Error(), "CRC64 of the data does not match") {
			t.Errorf("parallel %d: err %v, want the third block's CRC64 mismatch", n, err)
		}
		if !bytes.HasPrefix(want, got) {
			t.Errorf("parallel %d: the bytes before the error are not the stream's", n)
		}
		switch {
		case n > 1 && len(got) != 2*65536:
			t.Errorf("parallel %d: %d bytes before the error, want the first two blocks' %d", n, len(got), 2*65536)
		case n == 1 && len(got) > 3*65536:
			t.Errorf("parallel 1: %d bytes before the error, more than three blocks", len(got))
		}
	}
}

// TestParallelBlockDictionaryResets: a block whose LZMA2 data resets the dictionary more than
// once (legal, though xz itself resets only at a block's start) decodes to all its chunks
// when decoded apart, where the window starts over at each reset.
func TestParallelBlockDictionaryResets(t *testing.T) {
	a, b := bytes.Repeat([]byte("first "), 100), bytes.Repeat([]byte("second "), 100)
	var data []byte
	for _, c := range [][]byte{a, b} { // uncompressed chunks that reset the dictionary (control 1)
		data = append(data, 1, byte((len(c)-1)>>8), byte(len(c)-1))
		data = append(data, c...)
	}
	data = append(data, 0) // end of the LZMA2 data
	raw := handmadeStream(data, len(a)+len(b))
	want := append(bytes.Clone(a), b...)
	for _, n := range []int{1, 2} {
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		r.parallel = n
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("parallel %d: %q, err %v", n, got, err)
		}
	}
}

// handmadeStream wraps one block's LZMA2 data in an xz stream with no check, the block header
// declaring both sizes.
func handmadeStream(data []byte, uncomp int) []byte {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	vli := func(v uint64) []byte {
		var out []byte
		for v >= 0x80 {
			out = append(out, byte(v)|0x80)
			v >>= 7
		}
		return append(out, byte(v))
	}
	flags := []byte{0, 0} // check type none
	out := append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, flags...)
	out = append(out, le32(crc32.ChecksumIEEE(flags))...)
	// Block header: flags 0xc0 (both sizes, one filter), sizes, LZMA2 with dictionary code 0.
	hb := append([]byte{0, 0xc0}, vli(uint64(len(data)))...)
	hb = append(hb, vli(uint64(uncomp))...)
	hb = append(hb, 0x21, 1, 0)
	for (len(hb)+4)%4 != 0 {
		hb = append(hb, 0)
	}
	hb[0] = byte((len(hb)+4)/4 - 1)
	hb = append(hb, le32(crc32.ChecksumIEEE(hb))...)
	out = append(out, hb...)
	out = append(out, data...)
	for i := len(data); i%4 != 0; i++ {
		out = append(out, 0) // block padding
	}
	// Index: one record (unpadded size, uncompressed size), padding, CRC32.
	idx := append([]byte{0, 1}, vli(uint64(len(hb)+len(data)))...)
	idx = append(idx, vli(uint64(uncomp))...)
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = append(idx, le32(crc32.ChecksumIEEE(idx))...)
	out = append(out, idx...)
	foot := append(le32(uint32(len(idx)/4-1)), flags...)
	out = append(out, le32(crc32.ChecksumIEEE(foot))...)
	out = append(out, foot...)
	return append(out, 'Y', 'Z')
}
