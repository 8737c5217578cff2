package cache

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkPut measures storing a 1 MiB blob: hash, write, fsync, rename.
func BenchmarkPut(b *testing.B) {
	c := newCache(b)
	data := payload("bench", 1<<20)
	h := sum(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := c.Put(h, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchHit measures a warm build's per-package cost: a stat, no
// network, no hashing.
func BenchmarkFetchHit(b *testing.B) {
	d := newDownloader(b)
	data := payload("bench", 1<<20)
	it := Item{Name: "bench", URL: "http://127.0.0.1:1/never-contacted", SHA256: sum(data), Size: int64(len(data))}
	if _, err := d.Cache.Put(it.SHA256, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := d.Fetch(ctx, it); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchAllHits measures a warm FetchAll over a typical image's
// package count.
func BenchmarkFetchAllHits(b *testing.B) {
	d := newDownloader(b)
	var items []Item
	for i := range 100 {
		data := payload(string(rune('a'+i%26))+"pkg", 1000+i)
		it := Item{URL: "http://127.0.0.1:1/x", SHA256: sum(data), Size: int64(len(data))}
		if _, err := d.Cache.Put(it.SHA256, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := d.FetchAll(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
}
