package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
)

var (
	benchOnce sync.Once
	benchData []byte
)

// benchCorpus is the test executable followed by a tar of GOROOT/src/net:
// an ELF binary and source text, like the layers we build.
func benchCorpus(b *testing.B) []byte {
	benchOnce.Do(func() {
		c := corpus(b)
		for _, k := range []string{"test executable", "tar of GOROOT/src/net"} {
			benchData = append(benchData, c[k]...)
		}
	})
	return benchData
}

func BenchmarkGzip(b *testing.B) {
	src := benchCorpus(b)
	dst := make([]byte, 0, len(src)+len(src)/8)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	var n int
	for b.Loop() {
		n = len(AppendGzip(dst[:0], src))
	}
	b.ReportMetric(float64(n)/float64(len(src)), "ratio")
}

func BenchmarkGzipSmall(b *testing.B) {
	// Many layers are small; the fixed cost per call matters there.
	src := benchCorpus(b)[:20000]
	dst := make([]byte, 0, 32<<10)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		AppendGzip(dst[:0], src)
	}
}

func BenchmarkStdlibFlate6(b *testing.B) {
	w, _ := flate.NewWriter(nil, 6)
	benchPeer(b, w)
}

func BenchmarkKlauspost5(b *testing.B) {
	w, _ := kgzip.NewWriterLevel(nil, 5)
	benchPeer(b, w)
}

// benchPeer runs another encoder over the same corpus, for the MB/s and ratio to compare with.
func benchPeer(b *testing.B, w interface {
	io.WriteCloser
	Reset(io.Writer)
}) {
	src := benchCorpus(b)
	var buf bytes.Buffer
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		buf.Reset()
		w.Reset(&buf)
		w.Write(src)
		w.Close()
	}
	b.ReportMetric(float64(buf.Len())/float64(len(src)), "ratio")
}

// TestCompareTars measures this encoder against the alternatives on real
// layer tars: DEFLATE_COMPARE=a.tar,b.tar go test -run CompareTars -v
// ./internal/deflate. Times are the best of DEFLATE_COMPARE_RUNS (default 3)
// runs, single-threaded; GNU gzip runs as a subprocess when on PATH, reading
// the file, so its time includes reading it from the page cache. Our output
// is also checked by decompressing it with gzip -dc.
func TestCompareTars(t *testing.T) {
	env := os.Getenv("DEFLATE_COMPARE")
	if env == "" {
		t.Skip("set DEFLATE_COMPARE to a comma-separated list of files")
	}
	runs := 3
	fmt.Sscan(os.Getenv("DEFLATE_COMPARE_RUNS"), &runs)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	type encoderFunc func(src []byte, path string) (int, error)
	goEnc := func(newW func(*bytes.Buffer) interface {
		Write([]byte) (int, error)
		Close() error
	}) encoderFunc {
		return func(src []byte, _ string) (int, error) {
			var buf bytes.Buffer
			buf.Grow(len(src) / 2)
			w := newW(&buf)
			if _, err := w.Write(src); err != nil {
				return 0, err
			}
			err := w.Close()
			return buf.Len(), err
		}
	}
	type wc = interface {
		Write([]byte) (int, error)
		Close() error
	}
	gnu := func(level string) encoderFunc {
		return func(_ []byte, path string) (int, error) {
			out, err := exec.Command("gzip", "-c", "-n", level, path).Output()
			return len(out), err
		}
	}
	encoders := []struct {
		name string
		fn   encoderFunc
	}{
		{"internal/deflate", func(src []byte, _ string) (int, error) { return len(Gzip(src)), nil }},
		{"GNU gzip -6", gnu("-6")},
		{"GNU gzip -9", gnu("-9")},
		{"klauspost gzip 5", goEnc(func(b *bytes.Buffer) wc { w, _ := kgzip.NewWriterLevel(b, 5); return w })},
		{"klauspost gzip 9", goEnc(func(b *bytes.Buffer) wc { w, _ := kgzip.NewWriterLevel(b, 9); return w })},
		{"compress/flate 6", goEnc(func(b *bytes.Buffer) wc { w, _ := flate.NewWriter(b, 6); return w })},
		{"compress/flate 9", goEnc(func(b *bytes.Buffer) wc { w, _ := flate.NewWriter(b, 9); return w })},
	}
	_, gzErr := exec.LookPath("gzip")
	for _, path := range strings.Split(env, ",") {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		gz := Gzip(src)
		if got := gunzip(t, gz); !bytes.Equal(got, src) {
			t.Fatalf("%s: round trip differs", path)
		}
		if gzErr == nil {
			// A second, independent inflater: GNU gzip's.
			cmd := exec.Command("gzip", "-dc")
			cmd.Stdin = bytes.NewReader(gz)
			out, err := cmd.Output()
			if err != nil || !bytes.Equal(out, src) {
				t.Fatalf("%s: gzip -dc of our output: %v, equal=%v", path, err, bytes.Equal(out, src))
			}
		}
		t.Logf("%s: %d bytes", path, len(src))
		t.Logf("  %-18s %12s %8s %9s %8s", "encoder", "bytes", "ratio", "seconds", "MB/s")
		for _, enc := range encoders {
			if strings.HasPrefix(enc.name, "GNU") && gzErr != nil {
				continue
			}
			size, best := 0, time.Duration(1<<62)
			for range runs {
				start := time.Now()
				n, err := enc.fn(src, path)
				if err != nil {
					t.Fatalf("%s: %v", enc.name, err)
				}
				best = min(best, time.Since(start))
				size = n
			}
			t.Logf("  %-18s %12d %8.4f %9.2f %8.1f", enc.name, size, float64(size)/float64(len(src)), best.Seconds(), float64(len(src))/best.Seconds()/1e6)
		}
	}
}
