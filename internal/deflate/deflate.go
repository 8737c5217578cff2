// Package deflate is a DEFLATE (RFC 1951) and gzip (RFC 1952) encoder for
// whole in-memory buffers, built to compress image layers at least as well
// as zlib/GNU gzip level 6.
//
// Go's other encoders (compress/flate, klauspost/compress) never emit
// matches shorter than four bytes, which costs 3-8% on executables and
// UTF-16 data, the bulk of our layers. This encoder follows zlib's lazy
// matcher (deflate_slow) with its level-6 parameters, including 3-byte
// matches, and improves on zlib where it is cheap: the full 32 KiB distance
// is used, code lengths are optimal under the 15/7-bit limits
// (package-merge), and each block may be split where that saves bits.
//
// Gzip and AppendGzip produce one complete gzip member with a fixed header;
// Deflate and AppendDeflate a raw deflate stream. All take the whole input
// as a slice (no io.Writer layer: the encoder plans blocks ahead and needs
// the bytes a stored block would copy) and are safe for concurrent use.
//
// An input longer than pieceSize is cut into pieces at fixed offsets, and the
// pieces are compressed in parallel, pigz-style: each with the 32 KiB before
// it as the matcher's dictionary, each but the last ending byte-aligned, so
// that the pieces join into one stream (see pieces.go).
//
// The output is a pure function of the input: the cuts depend on its length
// alone, never on the number of CPUs or the scheduling, and nothing depends
// on the time or the host, so layer digests are reproducible.
package deflate

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// Matcher parameters: zlib's level-6 row of configuration_table, except
// goodLen, which is 8 there. Lazy searches after a 6- or 7-byte match are
// common on binaries and rarely find better, so cutting their chain takes
// a fifth off the time for under 0.1% of size.
const (
	goodLen  = 6   // from this length on, a lazy search walks a quarter of the chain
	maxLazy  = 16  // a match this long is taken without looking one byte ahead
	niceLen  = 128 // a match this long ends the chain walk
	maxChain = 128 // candidates examined per search

	// tooFar drops 3-byte matches whose distance costs more bits than the
	// three literals they replace are likely to.
	tooFar = 4096
)

const (
	minMatch   = 3
	maxMatch   = 258
	windowSize = 1 << 15
	windowMask = windowSize - 1

	// Chains link positions whose next four bytes hash alike. zlib chains
	// on three bytes, but on binaries most 3-byte candidates extend no
	// further, and skipping them lets the same 128-step budget reach
	// further back. A 3-byte match is still found, through head3: zlib
	// takes the nearest one, and only when nothing longer exists, which
	// is exactly the most recent occurrence.
	hashBits  = 15
	hashSize  = 1 << hashBits
	hash3Bits = 13
	hash3Size = 1 << hash3Bits
)

// Head tables hold stamps: a position plus the encoder's base. Each call
// starts its base past every stamp already written, so that old stamps look
// out of the window and the tables need clearing only when the stamps near
// the end of int32 range, not on every call: small inputs stay cheap.
// rebaseAt bounds the stamps; a variable so tests can exercise the slide.
var rebaseAt = 1 << 30

// encoder holds everything a compression needs; it is large (about 400 KB)
// and recycled through a pool so that layer builds do not churn the heap.
type encoder struct {
	head  [hashSize]int32
	head3 [hash3Size]int32
	// prev holds, per position mod the window, the distance back to the
	// previous position on its chain, or noPrev; 16 bits halve the cache
	// footprint of the table the chain walk reads.
	prev [windowSize]uint16

	base int // added to a position to make its stamp
	next int // stamps below this may be in the tables

	blk blockWriter
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// AppendDeflate appends the raw DEFLATE (RFC 1951) encoding of src to dst
// and returns the extended slice. The stream is complete: its last block
// has BFINAL set.
func AppendDeflate(dst, src []byte) []byte {
	dst, _ = appendPieces(dst, src, pieceSize)
	return dst
}

// Deflate returns the raw DEFLATE (RFC 1951) encoding of src.
func Deflate(src []byte) []byte {
	return fit(AppendDeflate(make([]byte, 0, initialCap(len(src))), src))
}

// initialCap is the output capacity to start with for n input bytes: enough
// for the layers we build (which compress to 30-45%), without zeroing and
// faulting in a buffer as large as the input.
func initialCap(n int) int {
	return n/2 + 1024
}

// fit returns b with little spare capacity, copying it if more than a
// quarter of its capacity is unused, since the caller may keep it long.
func fit(b []byte) []byte {
	if cap(b)-len(b) <= len(b)/4 {
		return b
	}
	return append([]byte(nil), b...)
}

func hash4(v uint32) uint32 {
	return (v * 0x9E3779B1) >> (32 - hashBits)
}

func hash3(v uint32) uint32 {
	return ((v << 8) * 0x9E3779B1) >> (32 - hash3Bits)
}

// reset makes every stamp in the tables unreachable from position 0 on.
// prev needs no reset: a slot is always written for a position before a
// chain can reach it, and chains stop at positions outside the window.
func (e *encoder) reset() {
	if e.next > rebaseAt {
		clear(e.head[:])
		clear(e.head3[:])
		e.next = 0
	}
	e.base = e.next + windowSize + 1
}

// slide lowers the base, and every stamp with it, so that stamps stay in
// int32 range however long the input; pos is the current position. Stamps
// already out of the window become 0, which stays out of it.
func (e *encoder) slide(pos int) {
	shift := e.base + pos - 2*(windowSize+1)
	if shift <= 0 {
		return
	}
	for i, v := range e.head {
		e.head[i] = int32(max(int(v)-shift, 0))
	}
	for i, v := range e.head3 {
		e.head3[i] = int32(max(int(v)-shift, 0))
	}
	e.base -= shift
}

// noPrev is the prev entry for "no earlier position within the window": as
// a distance it always lands before the window, so the chain walk needs no
// separate test for it.
const noPrev = 0xffff

// deflate appends the deflate stream of src[from:] to dst; src[:from] is
// history (at most the window) that matches may refer to. The stream is
// complete if last; otherwise its last block is not final and it ends on a
// byte boundary, so that the stream of what follows can be appended. It is
// zlib's lazy matcher (deflate_slow): the match found at pos-1 is emitted
// only if pos has none longer, otherwise src[pos-1] goes out as a literal
// and pos's match becomes the candidate.
func (e *encoder) deflate(dst, src []byte, from int, last bool) []byte {
	e.reset()
	b := &e.blk
	b.start(dst, src, from, last)
	head, head3, prev := &e.head, &e.head3, &e.prev
	base := e.base

	n := len(src)
	// Index the history as the loop below would have.
	for p := 0; p < from && n-p >= 4; p++ {
		v := binary.LittleEndian.Uint32(src[p:])
		h, h3 := hash4(v), hash3(v)
		d := p + base - int(head[h])
		if d > windowSize {
			d = noPrev
		}
		prev[p&windowMask] = uint16(d)
		head[h] = int32(p + base)
		head3[h3] = int32(p + base)
	}
	pos := from
	prevLen := minMatch - 1 // length of the match found at pos-1
	prevDist := 0
	pending := false // src[pos-1] is not yet emitted
	for pos < n {
		if b.chunkFull() {
			next := pos
			if pending {
				next--
			}
			b.nextChunk(next)
			// A chunk spans at most chunkSyms*maxMatch bytes, far less
			// than the int32 headroom above rebaseAt.
			if base+pos > rebaseAt {
				e.slide(pos)
				base = e.base
			}
		}
		curLen, curDist := minMatch-1, 0
		if n-pos >= 4 {
			// Index pos; insert is written out here and below because
			// the call would not be inlined.
			v := binary.LittleEndian.Uint32(src[pos:])
			h, h3 := hash4(v), hash3(v)
			cand := int(head[h]) - base
			cand3 := int(head3[h3]) - base
			head[h] = int32(pos + base)
			head3[h3] = int32(pos + base)
			d := pos - cand
			if d > windowSize {
				d = noPrev
			}
			prev[pos&windowMask] = uint16(d)

			if prevLen < maxLazy {
				if d != noPrev {
					curLen, curDist = e.longestMatch(src, pos, cand, max(prevLen, minMatch))
				}
				if curLen < minMatch && prevLen < minMatch && pos-cand3 <= tooFar &&
					src[cand3] == src[pos] && src[cand3+1] == src[pos+1] && src[cand3+2] == src[pos+2] {
					// Any longer match would have been on the chain.
					curLen, curDist = minMatch, pos-cand3
				}
			}
		} else if n-pos == minMatch && prevLen < minMatch {
			// The last three bytes: too short to hash as four, so look
			// only at their own nearest copy.
			v := uint32(src[pos]) | uint32(src[pos+1])<<8 | uint32(src[pos+2])<<16
			cand3 := int(head3[hash3(v)]) - base
			if pos-cand3 <= tooFar && src[cand3] == src[pos] && src[cand3+1] == src[pos+1] && src[cand3+2] == src[pos+2] {
				curLen, curDist = minMatch, pos-cand3
			}
		}
		if prevLen >= minMatch && curLen <= prevLen {
			b.match(prevLen, prevDist)
			// pos-1 and pos are already in the tables; index the rest of
			// the match so later data can refer into it.
			end := pos - 1 + prevLen
			last := min(end, n-3)
			for p := pos + 1; p < last; p++ {
				v := binary.LittleEndian.Uint32(src[p:])
				h, h3 := hash4(v), hash3(v)
				d := p + base - int(head[h])
				if d > windowSize {
					d = noPrev
				}
				prev[p&windowMask] = uint16(d)
				head[h] = int32(p + base)
				head3[h3] = int32(p + base)
			}
			pos = end
			pending = false
			prevLen = minMatch - 1
			continue
		}
		if pending {
			b.literal(src[pos-1])
		}
		pending = true
		prevLen, prevDist = curLen, curDist
		pos++
	}
	if pending {
		// The loop's last pass may have filled the chunk.
		if b.chunkFull() {
			b.nextChunk(n - 1)
		}
		b.literal(src[n-1])
	}
	b.end(n)
	e.next = e.base + n
	return b.finish()
}

// longestMatch walks the 4-byte chain from cand and returns the longest
// match for pos that is longer than best (at least 3), with its distance,
// or (minMatch-1, 0) if there is none. Among equally long matches the
// nearest wins: its distance is cheapest to code.
func (e *encoder) longestMatch(src []byte, pos, cand, best int) (int, int) {
	maxLen := min(maxMatch, len(src)-pos)
	if best >= maxLen {
		return minMatch - 1, 0
	}
	bestDist := 0
	chain := maxChain
	if best >= goodLen {
		chain >>= 2
	}
	nice := min(niceLen, maxLen)
	limit := pos - windowSize
	prev := &e.prev
	win := src[pos : pos+maxLen]
	// The four bytes ending at best must match for a candidate to beat
	// best; that rejects most candidates with one load. at is src shifted
	// so that at[cand:] starts at those bytes.
	tail := binary.LittleEndian.Uint32(win[best-3:])
	for {
		cand, chain = walk(prev, src[best-3:], cand, limit, chain, tail)
		if chain == 0 {
			break
		}
		if l := matchLen(src[cand:], win); l > best {
			best, bestDist = l, pos-cand
			if l >= nice {
				break
			}
			tail = binary.LittleEndian.Uint32(win[best-3:])
		}
		cand -= int(prev[cand&windowMask])
		chain--
		if cand <= limit || chain == 0 {
			break
		}
	}
	if bestDist == 0 {
		return minMatch - 1, 0
	}
	return best, bestDist
}

// walk follows the chain from cand, spending at most chain steps, to the
// first candidate whose four bytes at[cand:] equal tail, and returns it with
// the steps left (at least 1), or chain 0 if there is none. It is split out
// so that its few variables stay in registers: most steps end here.
func walk(prev *[windowSize]uint16, at []byte, cand, limit, chain int, tail uint32) (int, int) {
	// Spelled out so that the compiler proves every index in range from the
	// one test on cand and emits a single 4-byte load.
	n := len(at) - 3
	for {
		if cand < 0 || cand >= n {
			return cand, 0 // not reached: candidates lie before pos
		}
		if uint32(at[cand])|uint32(at[cand+1])<<8|uint32(at[cand+2])<<16|uint32(at[cand+3])<<24 == tail {
			return cand, chain
		}
		cand -= int(prev[cand&windowMask])
		chain--
		// A chain can only reach limit through pos's own slot (distance
		// 32768 shares it), so stopping there also stops a revisit.
		if cand <= limit || chain == 0 {
			return cand, 0
		}
	}
}

// matchLen returns the length of the common prefix of a and b, where
// len(a) >= len(b).
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
