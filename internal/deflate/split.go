package deflate

import (
	"math"
	"sync"
)

// Header cost model for a dynamic block, in bits: a fixed part plus a
// per-used-symbol part. Tuned on our layer tars (the result is flat near
// these values); it only has to rank candidate splits.
const (
	hdrBaseBits = 80
	hdrSymBits  = 3
)

// dpScratch plans block boundaries over buffered chunks.
type dpScratch struct {
	// acc counts the candidate block's symbols; 512 entries so that a
	// 9-bit mask, not a bounds check, keeps the index in range.
	acc [512]uint32

	// The dynamic program runs on pairs of chunks, which quarters its
	// cost; each boundary it picks is then moved by one chunk if that
	// helps, which recovers most of the gain of the finer grid.
	pairs [bufChunks/2 + 1]summary

	left, right blockStats

	best    [bufChunks + 1]int64
	from    [bufChunks + 1]int
	bounds  [bufChunks + 1]int
	nblocks int
}

// xlogx[f] is f*log2(f) in units of 1/xlogxScale bit; fixed point keeps
// the planner's inner loop in integer registers.
const (
	xlogxScale = 256
	xlogxSize  = 1 << 15 // > bufSyms+1, the largest count a block can have
	xlogxMask  = xlogxSize - 1
)

// A block's symbol count, end-of-block included, must index xlogx without
// wrapping; this fails to compile if bufSyms outgrows the table.
const _ = uint(xlogxSize - (bufSyms + 2))

var (
	xlogxOnce sync.Once
	xlogx     *[xlogxSize]int32
)

func xlogxTable() *[xlogxSize]int32 {
	xlogxOnce.Do(func() {
		t := new([xlogxSize]int32)
		for f := 2; f < len(t); f++ {
			t[f] = int32(math.Round(float64(f) * math.Log2(float64(f)) * xlogxScale))
		}
		xlogx = t
	})
	return xlogx
}

// blockCost is the estimated size of a block, in 1/xlogxScale bits, from
// sum (of f*log2(f) over its symbol counts), its numbers of literal/length
// and distance symbols (end-of-block not counted) and of distinct symbols.
func blockCost(g *[xlogxSize]int32, sum int64, nLit, nDist, used uint32) int64 {
	return int64(g[(nLit+1)&xlogxMask]) + int64(g[nDist&xlogxMask]) - sum +
		(hdrBaseBits+hdrSymBits*int64(used))*xlogxScale
}

// blockStats is the dense histogram of one candidate block.
type blockStats struct {
	acc         [512]uint32
	sum         int64
	nLit, nDist uint32
	used        uint32
}

func (b *blockStats) reset() {
	clear(b.acc[:])
	b.sum, b.nLit, b.nDist, b.used = 0, 0, 0, 0
}

func (b *blockStats) add(g *[xlogxSize]int32, h *summary) {
	for _, e := range h.nz[:h.nnz] {
		s := e >> 16 & 511
		old := b.acc[s]
		nw := old + e&0xffff
		b.acc[s] = nw
		b.sum += int64(g[nw&xlogxMask] - g[old&xlogxMask])
		b.used += (old - 1) >> 31
	}
	b.nLit += h.nLit
	b.nDist += h.nDist
}

func (b *blockStats) sub(g *[xlogxSize]int32, h *summary) {
	for _, e := range h.nz[:h.nnz] {
		s := e >> 16 & 511
		old := b.acc[s]
		nw := old - e&0xffff
		b.acc[s] = nw
		b.sum += int64(g[nw&xlogxMask] - g[old&xlogxMask])
		b.used -= (nw - 1) >> 31
	}
	b.nLit -= h.nLit
	b.nDist -= h.nDist
}

func (b *blockStats) cost(g *[xlogxSize]int32) int64 {
	return blockCost(g, b.sum, b.nLit, b.nDist, b.used)
}

// merge sets p to the sum of a and b, using acc (all zero, and left so).
func merge(p, a, b *summary, acc *[512]uint32) {
	k := 0
	for _, h := range [2]*summary{a, b} {
		for _, e := range h.nz[:h.nnz] {
			s := e >> 16 & 511
			if acc[s] == 0 {
				p.nz[k] = s << 16
				k++
			}
			acc[s] += e & 0xffff
		}
	}
	for i, e := range p.nz[:k] {
		s := e >> 16 & 511
		p.nz[i] = e | acc[s]
		acc[s] = 0
	}
	p.nnz = k
	p.nLit, p.nDist = a.nLit+b.nLit, a.nDist+b.nDist
}

// plan splits chunks [0, n) into blocks minimising the estimated size:
// for each block the Shannon bound of its literal/length and distance
// symbols under its own statistics, plus a header estimate. Extra bits are
// left out since no split changes them.
func (d *dpScratch) plan(chunks *[bufChunks]chunkHist, n int) {
	g := xlogxTable()
	m := (n + 1) / 2
	for k := range m {
		if 2*k+1 < n {
			merge(&d.pairs[k], &chunks[2*k].summary, &chunks[2*k+1].summary, &d.acc)
		} else {
			d.pairs[k] = chunks[2*k].summary
		}
	}
	d.best[0] = 0
	for j := 1; j <= m; j++ {
		clear(d.acc[:])
		var sum int64
		nLit, nDist, used := uint32(0), uint32(0), uint32(0)
		d.best[j] = math.MaxInt64
		for i := j - 1; i >= 0; i-- {
			h := &d.pairs[i]
			for _, e := range h.nz[:h.nnz] {
				s := e >> 16 & 511
				old := d.acc[s]
				nw := old + e&0xffff
				d.acc[s] = nw
				sum += int64(g[nw&xlogxMask] - g[old&xlogxMask])
				used += (old - 1) >> 31 // 1 if the symbol is new
			}
			nLit += h.nLit
			nDist += h.nDist
			if c := d.best[i] + blockCost(g, sum, nLit, nDist, used); c < d.best[j] {
				d.best[j], d.from[j] = c, i
			}
		}
	}
	clear(d.acc[:])
	// Read the boundaries back from the end, in chunks.
	k := 0
	for j := m; j > 0; j = d.from[j] {
		d.bounds[k] = min(2*j, n)
		k++
	}
	d.bounds[k] = 0
	d.nblocks = k
	for i, j := 0, k; i < j; i, j = i+1, j-1 {
		d.bounds[i], d.bounds[j] = d.bounds[j], d.bounds[i]
	}

	// Try each inner boundary one chunk either way, left to right.
	for k := 1; k < d.nblocks; k++ {
		a, b, c := d.bounds[k-1], d.bounds[k], d.bounds[k+1]
		l, r := &d.left, &d.right
		l.reset()
		r.reset()
		for i := a; i < b; i++ {
			l.add(g, &chunks[i].summary)
		}
		for i := b; i < c; i++ {
			r.add(g, &chunks[i].summary)
		}
		bestB, bestCost := b, l.cost(g)+r.cost(g)
		if b-1 > a {
			h := &chunks[b-1].summary
			l.sub(g, h)
			r.add(g, h)
			if cost := l.cost(g) + r.cost(g); cost < bestCost {
				bestB, bestCost = b-1, cost
			}
			l.add(g, h)
			r.sub(g, h)
		}
		if b+1 < c {
			h := &chunks[b].summary
			l.add(g, h)
			r.sub(g, h)
			if cost := l.cost(g) + r.cost(g); cost < bestCost {
				bestB = b + 1
			}
		}
		d.bounds[k] = bestB
	}
}
