package archive

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/cache"
)

// TestLiveMirror loads trixie, trixie-updates and trixie-security (main, amd64) from the real
// Debian mirrors, cold and then warm, and reports counts and timings. It needs the network, so
// it runs only when SPARTAN_LIVE_MIRROR is set: to "host" to use the mirrors of the host's
// apt sources, or to the main mirror URL (the security mirror then comes from
// SPARTAN_LIVE_SECURITY_MIRROR or the host).
func TestLiveMirror(t *testing.T) {
	mirror := os.Getenv("SPARTAN_LIVE_MIRROR")
	if mirror == "" {
		t.Skip("set SPARTAN_LIVE_MIRROR=host (or a mirror URL) to run against the real archive")
	}
	hostMain, hostSec, err := HostMirrors("/etc/apt")
	if !strings.HasPrefix(mirror, "http") {
		if err != nil {
			t.Fatal(err)
		}
		mirror = hostMain
	}
	security := os.Getenv("SPARTAN_LIVE_SECURITY_MIRROR")
	if security == "" {
		security = hostSec
	}
	if security == "" {
		t.Fatal("no security mirror: set SPARTAN_LIVE_SECURITY_MIRROR")
	}
	srcs := []Source{
		{URL: mirror, Suite: "trixie", Components: []string{"main"}},
		{URL: mirror, Suite: "trixie-updates", Components: []string{"main"}},
		{URL: security, Suite: "trixie-security", Components: []string{"main"}},
	}
	ch, err := cache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(label string) []*Package {
		c := &Client{Downloader: &cache.Downloader{Cache: ch}}
		start := time.Now()
		pkgs, rels, err := c.Load(ctx, srcs, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d packages from %d releases in %v", label, len(pkgs), len(rels), time.Since(start).Round(time.Millisecond))
		return pkgs
	}
	cold := run("cold")
	warm := run("warm")
	if len(cold) != len(warm) || len(cold) < 50000 {
		t.Errorf("cold %d, warm %d packages", len(cold), len(warm))
	}

	// The warm load of trixie main alone, InRelease excluded: what the parsed-index cache buys.
	c := &Client{Downloader: &cache.Downloader{Cache: ch}}
	rel, err := c.Release(ctx, srcs[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		start := time.Now()
		pkgs, err := c.Packages(ctx, rel, "main", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("warm Packages(trixie main amd64): %d stanzas in %v", len(pkgs), time.Since(start).Round(time.Millisecond))
	}
}
