package cache

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	c := newCache(t)
	good := []byte("good blob")
	bad := []byte("soon damaged")
	goodPath, _ := c.Put(sum(good), bytes.NewReader(good))
	badPath, _ := c.Put(sum(bad), bytes.NewReader(bad))
	// Same size, different bytes: only a re-hash can notice.
	if err := os.WriteFile(badPath, bytes.ToUpper(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(c.Dir, "blobs", "sha256", "not-a-digest")
	os.WriteFile(stray, []byte("?"), 0o644)

	if err := c.PutDerived("ok", []byte("fine")); err != nil {
		t.Fatal(err)
	}
	if err := c.PutDerived("broken", []byte("fine")); err != nil {
		t.Fatal(err)
	}
	brokenPath := filepath.Join(c.Dir, "derived", "broken")
	os.WriteFile(brokenPath, []byte("garbage"), 0o644)

	staleTmp := filepath.Join(c.Dir, "tmp", "blob-stale")
	freshTmp := filepath.Join(c.Dir, "tmp", "blob-fresh")
	os.WriteFile(staleTmp, []byte("partial"), 0o600)
	os.WriteFile(freshTmp, []byte("in progress"), 0o600)
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(staleTmp, old, old); err != nil {
		t.Fatal(err)
	}

	rep, err := c.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != 2 || rep.Bytes != int64(len(good)+len(bad)) || rep.Derived != 2 {
		t.Errorf("report = %+v", rep)
	}
	wantRemoved := []string{badPath, stray, brokenPath, staleTmp}
	slices.Sort(wantRemoved)
	slices.Sort(rep.Removed)
	if !slices.Equal(rep.Removed, wantRemoved) {
		t.Errorf("removed %v, want %v", rep.Removed, wantRemoved)
	}
	for _, p := range wantRemoved {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists", p)
		}
	}
	for _, p := range []string{goodPath, freshTmp, filepath.Join(c.Dir, "derived", "ok")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if c.Has(sum(bad)) {
		t.Error("damaged blob still reported by Has")
	}
}

func TestVerifyCancelled(t *testing.T) {
	c := newCache(t)
	data := []byte("x")
	c.Put(sum(data), bytes.NewReader(data))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Verify(ctx); err == nil {
		t.Fatal("Verify with cancelled context succeeded")
	}
}
