package deflate

import (
	"math/bits"
	"slices"
)

const (
	numLitLen   = 286 // literal/length symbols that may appear (286, 287 may not)
	numDist     = 30
	numCodeLen  = 19
	endOfBlock  = 256
	maxCodeBits = 15
	maxCLBits   = 7 // limit for the code-length alphabet
)

// Length and distance symbol tables of RFC 1951 3.2.5, derived at init from
// the rule that generates them so that no table is transcribed by hand.
var (
	lenBase   [29]uint16
	lenExtra  [29]uint8
	lenSym    [256]uint8 // match length-3 -> length code 0..28
	distBase  [30]uint16
	distExtra [30]uint8
	// distSym maps dist-1 to its code; below 256 directly, above through
	// (dist-1)>>7 at offset 256, which works because every code from 16 on
	// spans a multiple of 128 distances.
	distSym [512]uint8

	// fixedLit covers all 288 symbols: the two that may not occur still
	// shift the canonical codes of the 9-bit literals.
	fixedLit  [288]uint8
	fixedDist [numDist]uint8
)

// codeLenOrder is the order in which code-length code lengths are sent.
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func init() {
	base := 3
	for c := 0; c < 28; c++ {
		x := 0
		if c >= 8 {
			x = (c - 4) / 4
		}
		lenBase[c], lenExtra[c] = uint16(base), uint8(x)
		for l := base; l < base+1<<x && l <= maxMatch; l++ {
			lenSym[l-minMatch] = uint8(c)
		}
		base += 1 << x
	}
	lenBase[28], lenExtra[28] = maxMatch, 0
	lenSym[maxMatch-minMatch] = 28

	base = 1
	for c := 0; c < numDist; c++ {
		x := 0
		if c >= 4 {
			x = c/2 - 1
		}
		distBase[c], distExtra[c] = uint16(base), uint8(x)
		for d := base; d < base+1<<x; d++ {
			if d-1 < 256 {
				distSym[d-1] = uint8(c)
			} else {
				distSym[256+(d-1)>>7] = uint8(c)
			}
		}
		base += 1 << x
	}

	for i := range fixedLit {
		switch {
		case i < 144:
			fixedLit[i] = 8
		case i < 256:
			fixedLit[i] = 9
		case i < 280:
			fixedLit[i] = 7
		default:
			fixedLit[i] = 8
		}
	}
	for i := range fixedDist {
		fixedDist[i] = 5
	}
}

func distCode(d int) int {
	if d < 256 {
		return int(distSym[d])
	}
	return int(distSym[256+d>>7])
}

// huffBuilder is scratch space for length-limited code construction.
type huffBuilder struct {
	// keys are freq<<16 | symbol, sorted: ties broken by symbol keep the
	// result a function of the frequencies alone.
	keys [numLitLen]uint64

	// Huffman tree: internal node k joins two items; parent[i] is the
	// internal node above item i, items being leaves 0..n-1 then internal
	// nodes n, n+1, ...
	weight [2 * numLitLen]uint64
	parent [2 * numLitLen]int32
	depth  [2 * numLitLen]uint8

	// isLeaf[k][i] tells whether item i of package-merge level k's list is
	// a leaf (rather than a package); the lengths are read back from these.
	isLeaf  [maxCodeBits][2 * numLitLen]bool
	weights [2][2 * numLitLen]uint64
}

// lengths sets lens[i] to an optimal code length for freq[i] with no length
// above limit. Zero-frequency symbols get length 0. At least two symbols
// always get a length, so the code is complete and any inflater accepts it,
// even for a block with one distance or none.
func (h *huffBuilder) lengths(freq []uint32, lens []uint8, limit int) {
	n := 0
	for s, f := range freq {
		lens[s] = 0
		if f != 0 {
			h.keys[n] = uint64(f)<<16 | uint64(s)
			n++
		}
	}
	if n < 2 {
		// Pad with the lowest unused symbols; length 1 each.
		for s := 0; n < 2; s++ {
			if n == 1 && int(h.keys[0]&0xffff) == s {
				continue
			}
			h.keys[n] = uint64(s)
			n++
		}
		lens[h.keys[0]&0xffff], lens[h.keys[1]&0xffff] = 1, 1
		return
	}
	keys := h.keys[:n]
	slices.Sort(keys)
	if h.huffman(keys, lens, limit) {
		return
	}
	h.packageMerge(keys, lens, limit)
}

// huffman builds an unrestricted Huffman code with the two-queue method
// and reports whether it respects limit; if not, lens is left untouched.
func (h *huffBuilder) huffman(keys []uint64, lens []uint8, limit int) bool {
	n := len(keys)
	w := h.weight[:2*n-1]
	for i, k := range keys {
		w[i] = k >> 16
	}
	// Internal nodes are made in non-decreasing weight order, so the
	// leaves and the internal nodes are two sorted queues.
	li, ni := 0, n
	for k := n; k < 2*n-1; k++ {
		var a, b int
		if ni >= k || (li < n && w[li] <= w[ni]) {
			a, li = li, li+1
		} else {
			a, ni = ni, ni+1
		}
		if ni >= k || (li < n && w[li] <= w[ni]) {
			b, li = li, li+1
		} else {
			b, ni = ni, ni+1
		}
		w[k] = w[a] + w[b]
		h.parent[a], h.parent[b] = int32(k), int32(k)
	}
	root := 2*n - 2
	h.depth[root] = 0
	maxDepth := uint8(0)
	for i := root - 1; i >= 0; i-- {
		d := h.depth[h.parent[i]] + 1
		h.depth[i] = d
		maxDepth = max(maxDepth, d)
	}
	if int(maxDepth) > limit {
		return false
	}
	for i, k := range keys {
		lens[k&0xffff] = h.depth[i]
	}
	return true
}

// packageMerge computes optimal lengths under limit for sorted keys.
func (h *huffBuilder) packageMerge(keys []uint64, lens []uint8, limit int) {
	n := len(keys)
	maxItems := 2*n - 2
	prevW := h.weights[0][:0]
	for _, k := range keys {
		prevW = append(prevW, k>>16)
	}
	for i := range n {
		h.isLeaf[0][i] = true
	}
	cur := 1
	for k := 1; k < limit; k++ {
		w := h.weights[cur][:0]
		flags := h.isLeaf[k][:]
		li, pi := 0, 0
		np := len(prevW) / 2
		for len(w) < maxItems && (li < n || pi < np) {
			if pi >= np || (li < n && keys[li]>>16 <= prevW[2*pi]+prevW[2*pi+1]) {
				flags[len(w)] = true
				w = append(w, keys[li]>>16)
				li++
			} else {
				flags[len(w)] = false
				w = append(w, prevW[2*pi]+prevW[2*pi+1])
				pi++
			}
		}
		prevW = w
		cur ^= 1
	}
	// The 2n-2 cheapest items of the top level form the code; a leaf's
	// length is how many levels select it. Leaves in a level's selected
	// prefix are always the cheapest ones, so counting suffices.
	m := maxItems
	for k := limit - 1; k >= 0 && m > 0; k-- {
		c := 0
		for _, f := range h.isLeaf[k][:m] {
			if f {
				c++
			}
		}
		for _, key := range keys[:c] {
			lens[key&0xffff]++
		}
		m = 2 * (m - c)
	}
}

// canonical fills codes with the bit-reversed canonical Huffman codes for
// lens, ready to be written least-significant bit first.
func canonical(lens []uint8, codes []uint16) {
	var count [maxCodeBits + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeBits + 1]uint16
	code := uint16(0)
	for l := 1; l <= maxCodeBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l == 0 {
			codes[s] = 0
			continue
		}
		codes[s] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}
