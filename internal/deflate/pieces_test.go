package deflate

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// gzipPieces is AppendGzip with a chosen piece size.
func gzipPieces(src []byte, size int) []byte {
	dst := append([]byte(nil), gzipHeader[:]...)
	dst, crc := appendPieces(dst, src, size)
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
}

// TestPieces cuts every test input at sizes from one byte to beyond the window and checks
// that the joined stream inflates (Go's decoder, which checks the CRC) to the input.
func TestPieces(t *testing.T) {
	for _, tc := range testCases() {
		for _, size := range []int{1, 3, 100, 4096, windowSize, windowSize + 7, 100000} {
			if len(tc.data)/size > 2000 {
				continue // many tiny pieces say nothing more
			}
			gz := gzipPieces(tc.data, size)
			if got := gunzip(t, gz); !bytes.Equal(got, tc.data) {
				t.Fatalf("%s, pieces of %d: round trip differs", tc.name, size)
			}
			// Each piece may be a run of stored blocks plus a sync marker.
			if n := len(tc.data); len(gz)-18 > storedBound(n)+11*(n/size) {
				t.Errorf("%s, pieces of %d: %d bytes grew to %d", tc.name, size, n, len(gz)-18)
			}
		}
	}
}

// TestPiecesUseHistory checks that a piece refers back into the one before it: a repeat of
// 20 KiB of random bytes, cut in the middle of the copy, costs hardly more than uncut.
func TestPiecesUseHistory(t *testing.T) {
	r := randomBytes(5, 20000)
	src := append(bytes.Clone(r), r...)
	whole := len(gzipPieces(src, len(src)))
	cut := len(gzipPieces(src, 30000))
	if cut > whole+200 {
		t.Errorf("cut at 30000: %d bytes, whole: %d; the second piece did not use the first as history", cut, whole)
	}
}

// TestPiecesDeterministic checks that the bytes do not depend on GOMAXPROCS.
func TestPiecesDeterministic(t *testing.T) {
	data := skewed(3 << 20)
	want := Gzip(data)
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		if !bytes.Equal(Gzip(data), want) {
			t.Errorf("output changed with GOMAXPROCS=%d", procs)
		}
	}
}

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := randomBytes(9, 5000)
	for range 200 {
		i := r.IntN(len(data) + 1)
		a, b := data[:i], data[i:]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(data); got != want {
			t.Fatalf("split at %d: %08x, want %08x", i, got, want)
		}
	}
}

// FuzzPieces checks the joined stream against Go's gzip decoder for any input and piece size.
func FuzzPieces(f *testing.F) {
	f.Add([]byte{}, uint16(1))
	f.Add([]byte("abcabcabcabd"), uint16(5))
	f.Add(bytes.Repeat([]byte("spartan "), 9000), uint16(40000))
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		// At most 64 pieces: each indexes up to 32 KiB of history, and more
		// pieces of the same input test nothing new.
		size = max(size, uint16(min(len(data)/64+1, 1<<16-1)))
		gz := gzipPieces(data, int(size))
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		var out bytes.Buffer
		if _, err := out.ReadFrom(zr); err != nil {
			t.Fatalf("pieces of %d: %v", size, err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("pieces of %d: round trip differs", size)
		}
		if !bytes.Equal(gzipPieces(data, int(size)), gz) {
			t.Fatalf("pieces of %d: not deterministic", size)
		}
	})
}

// TestPiecesHelpers checks the shared bound on helper goroutines: with none allowed the
// caller compresses every piece alone, to the same bytes; many concurrent calls never run
// more helpers than GOMAXPROCS, and every helper is accounted back when it ends.
func TestPiecesHelpers(t *testing.T) {
	data := skewed(4*pieceSize + 99)
	want := Gzip(data)

	helpers.Add(1 << 20) // no room for any helper
	got := Gzip(data)
	helpers.Add(-1 << 20)
	if !bytes.Equal(got, want) {
		t.Fatal("output differs when the caller compresses every piece alone")
	}

	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
				if h := helpers.Load(); h > peak.Load() {
					peak.Store(h)
				}
				runtime.Gosched()
			}
		}
	}()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if !bytes.Equal(Gzip(data), want) {
				t.Error("output differs under concurrent calls")
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	if p := peak.Load(); p > 2 {
		t.Errorf("%d helpers at once with GOMAXPROCS=2", p)
	}
	if h := helpers.Load(); h != 0 {
		t.Errorf("%d helpers still counted after every call returned", h)
	}
}
