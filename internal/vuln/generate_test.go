package vuln

import (
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap samples the heap while fn runs; runtime.ReadMemStats has no high-water mark.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

func writeGenerated(t testing.TB, packages, scale int) (string, int64) {
	path := filepath.Join(t.TempDir(), "generated-tracker.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := GenerateFeed(f, packages, scale); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	return path, st.Size()
}

// TestImportBoundedMemory imports a generated feed of ~17 MB; reading it whole and decoding it
// into maps would hold several times that on the heap, the streaming import holds one CVE
// entry and one write batch.
func TestImportBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports a 17 MB feed")
	}
	feed, size := writeGenerated(t, 1500, 1)
	db := filepath.Join(t.TempDir(), "vuln.db")
	var m Meta
	var err error
	peak := peakHeap(func() { m, err = ImportTrackerFile(db, feed, now) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated feed %.1f MB, %d packages, %d records, peak heap %.1f MB", float64(size)/1e6, m.Packages, m.Records, float64(peak)/1e6)
	if m.Packages != 1500 {
		t.Errorf("packages %d", m.Packages)
	}
	if limit := uint64(size); peak > limit {
		t.Errorf("peak heap %d bytes exceeds the feed's size %d: the import is not streaming", peak, size)
	}
}

// BenchmarkImportFullFeed imports a GENERATED feed the size of the real one (about 70 MB) and
// reports time, peak heap and records per second.
func BenchmarkImportFullFeed(b *testing.B) {
	feed, size := writeGenerated(b, 6000, 1)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db := filepath.Join(b.TempDir(), "vuln.db")
		var m Meta
		var err error
		start := time.Now()
		peak := peakHeap(func() { m, err = ImportTrackerFile(db, feed, now) })
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		b.ReportMetric(float64(size)/1e6, "feed-MB")
		b.ReportMetric(float64(m.Records)/time.Since(start).Seconds(), "records/s")
	}
}

// TestWriteGeneratedFeed writes the benchmark's generated feed to $SPARTAN_GENERATE_FEED, so
// that the CLI's import can be measured on it (docs/vulnerabilities.md shows how).
func TestWriteGeneratedFeed(t *testing.T) {
	out := os.Getenv("SPARTAN_GENERATE_FEED")
	if out == "" {
		t.Skip("set SPARTAN_GENERATE_FEED=FILE to write a generated full-size feed")
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := GenerateFeed(f, 6000, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
