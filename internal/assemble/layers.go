package assemble

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"time"
)

const (
	defaultBudget = 10
	sharedLayer   = "shared"
	// addedSharedLayer holds the smaller groups of the packages an image adds to its base.
	addedSharedLayer = "added"
)

type layerPlan struct {
	name     string
	packages []string // binary packages, sorted; the last layer also lists RootfsPackage
}

type sourceGroup struct {
	source   string
	packages []string
	bytes    int64
}

// planLayers groups packages by source package and gives the biggest groups (by size class) a
// layer each, so a security update of one source usually replaces one layer; everything else
// shares a layer, and the synthesized files come last. See docs/layers.md.
func (a *assembler) planLayers() []layerPlan {
	budget := a.opts.LayerBudget
	if budget <= 0 {
		budget = defaultBudget
	}
	if len(a.opts.BasePackages) > 0 {
		// The base's packages exactly as the base image lays them out, then the added ones.
		isBase := map[string]bool{}
		for _, p := range a.opts.BasePackages {
			isBase[p] = true
		}
		var base, added []*loaded
		for _, l := range a.pkgs {
			if isBase[l.in.Pkg.Name] {
				base = append(base, l)
			} else {
				added = append(added, l)
			}
		}
		bb := a.opts.BaseLayerBudget
		if bb <= 0 {
			bb = defaultBudget
		}
		plans := groupLayers(base, bb, sharedLayer)
		plans = append(plans, groupLayers(added, budget, addedSharedLayer)...)
		return append(plans, layerPlan{name: RootfsPackage, packages: []string{RootfsPackage}})
	}
	if budget == 1 {
		all := []string{}
		for _, l := range a.pkgs {
			all = append(all, l.in.Pkg.Name)
		}
		return []layerPlan{{name: RootfsPackage, packages: append(all, RootfsPackage)}}
	}
	return append(groupLayers(a.pkgs, budget, sharedLayer), layerPlan{name: RootfsPackage, packages: []string{RootfsPackage}})
}

// groupLayers lays out packages in at most budget-1 layers (one slot is the synthesized
// layer's): a layer per source group while they fit, else the budget-2 biggest groups by size
// class get one and the rest share the layer named shared.
func groupLayers(pkgs []*loaded, budget int, shared string) []layerPlan {
	units := make([]Unit, 0, len(pkgs))
	for _, l := range pkgs {
		units = append(units, Unit{Name: l.in.Pkg.Name, Source: sourceOf(l), Bytes: l.bytes})
	}
	var plans []layerPlan
	for _, g := range GroupLayers(units, budget, shared) {
		plans = append(plans, layerPlan{name: g.Name, packages: g.Packages})
	}
	return plans
}

// Unit is a binary package as layer planning sees it: its source package and its installed
// bytes.
type Unit struct {
	Name, Source string
	Bytes        int64
}

// LayerGroup is one planned package layer: its name (the source package, or the shared
// layer's) and its binary packages, sorted.
type LayerGroup struct {
	Name     string
	Packages []string
}

// GroupLayers applies the layering rules of docs/layers.md to any distribution's packages: a
// layer per source group while at most budget-1 fit (one slot is the synthesized layer's),
// else the budget-2 biggest groups by size class get one and the rest share the layer named
// shared. Own layers come by source name, then shared.
func GroupLayers(units []Unit, budget int, shared string) []LayerGroup {
	if budget == 1 {
		// A base laid out in a single layer: its packages still share one layer.
		budget = 2
	}
	bySource := map[string]*sourceGroup{}
	var groups []*sourceGroup
	for _, u := range units {
		src := u.Source
		if src == "" {
			src = u.Name
		}
		g := bySource[src]
		if g == nil {
			g = &sourceGroup{source: src}
			bySource[src] = g
			groups = append(groups, g)
		}
		g.packages = append(g.packages, u.Name)
		g.bytes += u.Bytes
	}
	sort.Slice(groups, func(i, j int) bool {
		if ci, cj := sizeClass(groups[i].bytes), sizeClass(groups[j].bytes); ci != cj {
			return ci > cj
		}
		return groups[i].source < groups[j].source
	})
	own, rest := groups, []*sourceGroup(nil)
	if slots := budget - 1; len(groups) > slots {
		own, rest = groups[:slots-1], groups[slots-1:]
	}
	sort.Slice(own, func(i, j int) bool { return own[i].source < own[j].source })
	var plans []LayerGroup
	for _, g := range own {
		plans = append(plans, LayerGroup{Name: g.source, Packages: sorted(g.packages)})
	}
	if len(rest) > 0 {
		var names []string
		for _, g := range rest {
			names = append(names, g.packages...)
		}
		plans = append(plans, LayerGroup{Name: shared, Packages: sorted(names)})
	}
	return plans
}

// sizeClass ranks groups by the power of two their size falls in, not by the size itself:
// ranking by exact bytes would let a few bytes more in one update swap two groups of similar
// size across the own-layer cut, rewriting both layers and another group's. Within a class the
// source name decides, which no update changes; only a group whose size crosses a power of two
// can move. See docs/layers.md.
func sizeClass(n int64) int { return bits.Len64(uint64(n)) }

// sourceOf is the source package: from the index, else the .deb's Source field ("src (ver)").
func sourceOf(l *loaded) string {
	for _, s := range []string{l.in.Pkg.Source, l.info.Control.Get("Source")} {
		if src, _, _ := strings.Cut(strings.TrimSpace(s), " "); src != "" {
			return src
		}
	}
	return l.in.Pkg.Name
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// writeLayers renders each planned layer: the entries its packages own, plus every directory
// above them, so each layer unpacks on its own. An entry's mtime comes from the packages of its
// own layer only (entryTimes), so a layer's bytes depend on nothing outside it.
func (a *assembler) writeLayers(plans []layerPlan, created time.Time) ([]Layer, error) {
	layerOf := map[string]int{}
	for i, pl := range plans {
		for _, p := range pl.packages {
			layerOf[p] = i
		}
	}
	members := make([]map[string]bool, len(plans))
	for i := range members {
		members[i] = map[string]bool{}
	}
	for p, n := range a.tree.nodes {
		for _, o := range n.owners {
			i, ok := layerOf[o]
			if !ok {
				return nil, fmt.Errorf("internal error: /%s belongs to %s, which has no layer", p, o)
			}
			members[i][p] = true
			for _, d := range parents(p) {
				members[i][d] = true
			}
		}
	}
	pkgTime := map[string]time.Time{RootfsPackage: created}
	for _, l := range a.pkgs {
		pkgTime[l.in.Pkg.Name] = a.clamp(l.newest)
	}
	layers := make([]Layer, len(plans))
	for i, pl := range plans {
		paths := make([]string, 0, len(members[i]))
		for p := range members[i] {
			paths = append(paths, p)
		}
		// Plain byte order puts every directory before what it contains.
		sort.Strings(paths)
		mtimes := entryTimes(paths, a.tree, pl.packages, pkgTime)
		data, err := writeTar(paths, a.tree, mtimes)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", pl.name, err)
		}
		layers[i] = Layer{Name: pl.name, Packages: pl.packages, Tar: data}
	}
	return layers, nil
}

// entryTimes gives each path of one layer its mtime: the newest time among the layer's
// packages that own the entry (a package's time is its newest file, clamped; the synthesized
// entries' is the image's creation time); a directory present only as a parent gets the newest
// time among the layer's packages. Nothing outside the layer takes part.
func entryTimes(paths []string, t *tree, pkgs []string, pkgTime map[string]time.Time) []time.Time {
	inLayer := map[string]bool{}
	var layerTime time.Time
	for _, p := range pkgs {
		inLayer[p] = true
		if pt := pkgTime[p]; pt.After(layerTime) {
			layerTime = pt
		}
	}
	out := make([]time.Time, len(paths))
	for i, p := range paths {
		var mt time.Time
		for _, o := range t.nodes[p].owners {
			if pt := pkgTime[o]; inLayer[o] && pt.After(mt) {
				mt = pt
			}
		}
		if mt.IsZero() {
			mt = layerTime
		}
		out[i] = mt
	}
	return out
}

// writeTar writes the entries in the given order, each with its mtime, and nothing taken from
// the host: numeric owners only, no user or group names, no access or change times. Go's writer
// picks USTAR and falls back to PAX only for names or IDs USTAR cannot hold.
func writeTar(paths []string, t *tree, mtimes []time.Time) ([]byte, error) {
	var buf bytes.Buffer
	size := 1024 // end-of-archive blocks
	for _, p := range paths {
		size += 512 + len(p)/512*512 // header, roughly plus PAX blocks for long names
		if n := t.nodes[p]; n.kind == kindReg {
			size += (len(n.blob.data) + 511) &^ 511
		}
	}
	buf.Grow(size)
	tw := tar.NewWriter(&buf)
	linked := map[*blob]string{} // first path written for each hard-linked content
	for i, p := range paths {
		n := t.nodes[p]
		hdr := &tar.Header{Name: p, Mode: n.mode, Uid: n.uid, Gid: n.gid, ModTime: mtimes[i]}
		switch n.kind {
		case kindDir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, p+"/"
		case kindSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, n.target
		case kindReg:
			if first, ok := linked[n.blob]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			} else {
				linked[n.blob] = p
				hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(n.blob.data))
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(n.blob.data); err != nil {
				return nil, fmt.Errorf("/%s: %w", p, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
