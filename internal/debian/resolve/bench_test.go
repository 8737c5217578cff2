package resolve

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/debian/control"
)

// syntheticUniverse builds n packages shaped like a Debian release: a layer of libraries that
// depend on lower libraries, and applications on top, a security suite updating 5% of them,
// versioned and alternative relations, virtual packages, arch:all and foreign-arch entries, and
// dependencies the runtime policy cuts. The seed is fixed so every run measures the same graph.
func syntheticUniverse(n int) []*archive.Package {
	rng := rand.New(rand.NewPCG(1, 2))
	trixie := &archive.Release{Suite: "trixie"}
	security := &archive.Release{Suite: "trixie-security"}
	const libs = 3000
	pkgs := make([]*archive.Package, 0, n+n/10)
	add := func(p *archive.Package) { pkgs = append(pkgs, p) }
	add(&archive.Package{Name: "debconf", Version: "1.5.91", Architecture: "all", Provides: "debconf-2.0", Origin: trixie})
	add(&archive.Package{Name: "libc6", Version: "2.41-12", Architecture: "amd64", PreDepends: "libc-bin", Origin: trixie})
	add(&archive.Package{Name: "libc-bin", Version: "2.41-12", Architecture: "amd64", Origin: trixie})
	for i := 0; len(pkgs) < n; i++ {
		p := &archive.Package{Version: fmt.Sprintf("%d.%d-%d", i%7+1, i%13, i%3+1), Architecture: "amd64", Origin: trixie}
		var deps []string
		if i < libs {
			p.Name = fmt.Sprintf("lib%04d", i)
			deps = append(deps, "libc6 (>= 2.34)")
			for range rng.IntN(4) {
				if i > 0 {
					deps = append(deps, fmt.Sprintf("lib%04d", rng.IntN(i)))
				}
			}
			if i%50 == 0 {
				p.Provides = fmt.Sprintf("virt%03d (= 1.0)", i/50)
			}
		} else {
			p.Name = fmt.Sprintf("app%05d", i)
			for range 2 + rng.IntN(5) {
				deps = append(deps, fmt.Sprintf("lib%04d (>= 1.0)", rng.IntN(libs)))
			}
			switch i % 10 {
			case 0:
				deps = append(deps, fmt.Sprintf("lib%04dx | lib%04d", i%libs, rng.IntN(libs)))
			case 1:
				deps = append(deps, fmt.Sprintf("virt%03d (>= 1.0)", rng.IntN(libs/50)))
			case 2:
				deps = append(deps, "debconf (>= 0.5) | debconf-2.0")
			case 3:
				p.Architecture = "all"
				deps = append(deps, fmt.Sprintf("lib%04d:any [amd64 arm64]", rng.IntN(libs)))
			}
		}
		p.Depends = strings.Join(deps, ", ")
		add(p)
		if i%20 == 0 {
			up := *p
			up.Version += "+deb13u1"
			up.Origin = security
			add(&up)
		}
		if i%30 == 0 {
			foreign := *p
			foreign.Architecture = "arm64"
			foreign.Version += "+arm"
			add(&foreign)
		}
	}
	return pkgs
}

func BenchmarkResolve(b *testing.B) {
	pkgs := syntheticUniverse(60000)
	for _, bc := range []struct {
		name string
		apps int
	}{
		{"typical-20-apps", 20},
		{"wide-2000-apps", 2000},
	} {
		var req []string
		for i := range bc.apps {
			req = append(req, fmt.Sprintf("app%05d", 3000+i*13))
		}
		b.Run(bc.name, func(b *testing.B) {
			var res *Result
			for b.Loop() {
				var err error
				res, err = Resolve(pkgs, Request{Packages: req, Policy: RuntimePolicy(), Arch: "amd64"})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Packages)), "pkgs")
			b.ReportMetric(float64(len(res.Cuts)), "cuts")
		})
	}
}

// TestSyntheticUniverse keeps the benchmark honest: its universe must resolve, pick security
// updates, skip foreign packages and record the policy's cuts.
func TestSyntheticUniverse(t *testing.T) {
	pkgs := syntheticUniverse(6000)
	res, err := Resolve(pkgs, Request{Packages: []string{"app03000", "app03002", "app03011"}, Policy: RuntimePolicy(), Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) < 10 || len(res.Cuts) == 0 {
		t.Fatalf("got %d packages and %d cuts, want a real closure with cuts", len(res.Packages), len(res.Cuts))
	}
	for _, s := range res.Packages {
		if s.Pkg.Architecture == "arm64" {
			t.Errorf("foreign package %s selected", s.Pkg.ID())
		}
		if s.Pkg.Name == "app03000" && s.Pkg.Origin.Suite != "trixie-security" {
			t.Errorf("app03000 from %s, want the security update", s.Pkg.Origin.Suite)
		}
	}
}

// BenchmarkResolveDebian resolves the python image's request against a real Packages index
// ($SPARTAN_BENCH_PACKAGES/Packages, as for internal/debian/archive's index benchmarks;
// skipped without it): the universe and its Provides index are built afresh each time, as on
// every cold build, where this runs between reading the index and fetching the packages.
func BenchmarkResolveDebian(b *testing.B) {
	dir := os.Getenv("SPARTAN_BENCH_PACKAGES")
	if dir == "" {
		b.Skip("set SPARTAN_BENCH_PACKAGES to a directory holding a Packages index")
	}
	f, err := os.Open(filepath.Join(dir, "Packages"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	paras, err := control.ParseAll(f)
	if err != nil {
		b.Fatal(err)
	}
	pkgs := make([]*archive.Package, len(paras))
	for i, p := range paras {
		pkgs[i] = &archive.Package{Name: p.Get("Package"), Version: p.Get("Version"), Architecture: p.Get("Architecture"),
			Depends: p.Get("Depends"), PreDepends: p.Get("Pre-Depends"), Provides: p.Get("Provides")}
	}
	req := Request{
		Packages: []string{"python3.13", "ca-certificates", "base-files", "tzdata-legacy"},
		Exclude:  []string{"mawk", "openssl", "openssl-provider-legacy", "libreadline8t64", "readline-common", "libncursesw6", "libtinfo6", "libdb5.3t64", "media-types"},
		Policy:   RuntimePolicy(),
		Arch:     "amd64",
	}
	var res *Result
	for b.Loop() {
		if res, err = Resolve(pkgs, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Packages)), "pkgs")
}
