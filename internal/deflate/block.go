package deflate

import "encoding/binary"

// Symbols are buffered in chunks with a histogram each; when the buffer is
// full, block boundaries are chosen among chunk boundaries to minimise an
// entropy estimate of the blocks (see split and plan). zlib instead cuts
// every 16K symbols, which on data whose statistics drift (ICU tables,
// mixed code and data sections) costs 0.5-3.5% on our layers.
const (
	chunkShift = 9
	chunkSyms  = 1 << chunkShift
	bufChunks  = 32
	bufSyms    = bufChunks * chunkSyms
)

// A symbol is a literal byte (< 1<<31) or a match: matchFlag | (length-3)<<16
// | (distance-1).
const matchFlag = 1 << 31

type chunkHist struct {
	lit  [numLitLen]uint16
	dist [numDist]uint16

	summary
}

// summary is a sparse histogram for the split planner, which reads every
// chunk many times: symbol<<16 | count, distance symbols numbered after
// the literal/length ones.
type summary struct {
	nz          [numLitLen + numDist]uint32
	nnz         int
	nLit, nDist uint32
}

func (h *chunkHist) reset() {
	clear(h.lit[:])
	clear(h.dist[:])
}

func (h *chunkHist) summarize() {
	k := 0
	h.nLit, h.nDist = 0, 0
	for s, c := range h.lit {
		if c != 0 {
			h.nz[k] = uint32(s)<<16 | uint32(c)
			k++
			h.nLit += uint32(c)
		}
	}
	for s, c := range h.dist {
		if c != 0 {
			h.nz[k] = uint32(numLitLen+s)<<16 | uint32(c)
			k++
			h.nDist += uint32(c)
		}
	}
	h.nnz = k
}

type blockWriter struct {
	out   []byte
	bits  uint64
	nbits uint

	src []byte
	// last is false for a piece of a longer input: no block is final and
	// the stream ends byte-aligned, ready for the next piece's.
	last bool

	syms     [bufSyms]uint32
	nsyms    int
	chunkEnd int        // nsyms at which the current chunk is complete
	cur      int        // index of the chunk being filled
	hist     *chunkHist // &chunks[cur], to keep tallying cheap
	chunks   [bufChunks]chunkHist
	// chunkStart[k] is the offset in src of chunk k's first byte.
	chunkStart [bufChunks + 1]int

	// Consecutive blocks that are best stored are written as one run of
	// stored blocks, cut only at the 65535-byte limit, so incompressible
	// data costs 5 bytes per 64 KiB rather than per block.
	storedStart, storedEnd int

	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32

	dp dpScratch

	hb       huffBuilder
	litLens  [numLitLen]uint8
	distLens [numDist]uint8
	litCodes [288]uint16
	dstCodes [numDist]uint16
	clFreq   [numCodeLen]uint32
	clLens   [numCodeLen]uint8
	clCodes  [numCodeLen]uint16
	// tokens is the run-length coded sequence of code lengths: symbol in the
	// low 5 bits, repeat argument above.
	tokens  [numLitLen + numDist]uint16
	ntokens int
}

func (b *blockWriter) start(dst, src []byte, from int, last bool) {
	b.out = dst
	b.bits, b.nbits = 0, 0
	b.src = src
	b.last = last
	b.storedStart, b.storedEnd = 0, 0
	b.nsyms = 0
	b.cur = 0
	b.chunkEnd = chunkSyms
	b.hist = &b.chunks[0]
	b.hist.reset()
	b.chunkStart[0] = from
}

func (b *blockWriter) literal(c byte) {
	b.syms[b.nsyms] = uint32(c)
	b.nsyms++
	b.hist.lit[c]++
}

func (b *blockWriter) match(length, dist int) {
	b.syms[b.nsyms] = matchFlag | uint32(length-minMatch)<<16 | uint32(dist-1)
	b.nsyms++
	b.hist.lit[257+int(lenSym[length-minMatch])]++
	b.hist.dist[distCode(dist-1)]++
}

// chunkFull reports whether the current chunk holds chunkSyms symbols; the
// caller must then call nextChunk before tallying more.
func (b *blockWriter) chunkFull() bool { return b.nsyms == b.chunkEnd }

// nextChunk closes the current chunk, whose symbols end at src offset next,
// writing out blocks if the buffer is full.
func (b *blockWriter) nextChunk(next int) {
	b.chunkStart[b.cur+1] = next
	b.hist.summarize()
	if b.cur+1 == bufChunks {
		b.split(bufChunks, false)
	} else {
		b.cur++
	}
	b.hist = &b.chunks[b.cur]
	b.hist.reset()
	b.chunkEnd = (b.cur + 1) * chunkSyms
}

// end writes every buffered symbol; the last block is final unless this is
// a piece before the last, which ends on a byte boundary instead. The
// symbols cover src up to next.
func (b *blockWriter) end(next int) {
	b.chunkStart[b.cur+1] = next
	b.hist.summarize()
	n := b.cur + 1
	if b.nsyms == b.cur*chunkSyms && n > 1 {
		n-- // the current chunk is empty
	}
	b.split(n, true)
	if !b.last && b.nbits%8 != 0 {
		// An empty stored block, as zlib's Z_SYNC_FLUSH writes: its
		// header is followed by padding to the byte.
		b.writeHeader(0, false)
		b.alignByte()
		b.out = append(b.out, 0, 0, 0xff, 0xff)
	}
}

// blockOf emits chunks [i, j) as one block.
func (b *blockWriter) blockOf(i, j int, final bool) {
	clear(b.litFreq[:])
	clear(b.distFreq[:])
	for k := i; k < j; k++ {
		h := &b.chunks[k]
		for s, c := range h.lit {
			b.litFreq[s] += uint32(c)
		}
		for s, c := range h.dist {
			b.distFreq[s] += uint32(c)
		}
	}
	b.flush(b.syms[i*chunkSyms:min(j*chunkSyms, b.nsyms)], b.chunkStart[i], b.chunkStart[j], final)
}

// split chooses block boundaries among the first n chunks and writes the
// blocks. Unless final, the last block is held back (moved to the front of
// the buffer) because the chunks still to come may belong with it.
func (b *blockWriter) split(n int, final bool) {
	d := &b.dp
	d.plan(&b.chunks, n)
	nb := d.nblocks
	keep := 0
	if !final && nb > 1 {
		keep = 1
	}
	for k := 0; k < nb-keep; k++ {
		b.blockOf(d.bounds[k], d.bounds[k+1], final && k == nb-1)
	}
	if final {
		return
	}
	from := 0
	if keep == 1 {
		from = d.bounds[nb-1]
	} else {
		from = n
	}
	// Move the held-back chunks to the front.
	m := n - from
	copy(b.syms[:], b.syms[from*chunkSyms:b.nsyms])
	b.nsyms -= from * chunkSyms
	copy(b.chunks[:m], b.chunks[from:n])
	copy(b.chunkStart[:m+1], b.chunkStart[from:n+1])
	b.cur = m
}

func (b *blockWriter) writeBits(v uint64, n uint) {
	b.bits |= v << b.nbits
	b.nbits += n
	if b.nbits >= 32 {
		b.out = binary.LittleEndian.AppendUint32(b.out, uint32(b.bits))
		b.bits >>= 32
		b.nbits -= 32
	}
}

// alignByte pads to a byte boundary and writes out every pending bit.
func (b *blockWriter) alignByte() {
	for b.nbits > 0 {
		b.out = append(b.out, byte(b.bits))
		b.bits >>= 8
		b.nbits -= min(b.nbits, 8)
	}
	b.bits = 0
}

// finish completes the stream and returns the output.
func (b *blockWriter) finish() []byte {
	b.alignByte()
	out := b.out
	b.out, b.src = nil, nil
	return out
}

// flush emits syms, which encode src[start:end] and whose frequencies are in
// b.litFreq and b.distFreq, as one block of whichever type is smallest;
// final says it is the piece's last, which is the stream's if b.last.
func (b *blockWriter) flush(syms []uint32, start, end int, final bool) {
	blockLen := end - start
	b.litFreq[endOfBlock]++
	b.hb.lengths(b.litFreq[:], b.litLens[:], maxCodeBits)
	b.hb.lengths(b.distFreq[:], b.distLens[:], maxCodeBits)
	nlit, ndist := b.buildCodeLenTokens()
	b.hb.lengths(b.clFreq[:], b.clLens[:], maxCLBits)
	nclen := numCodeLen
	for nclen > 4 && b.clLens[codeLenOrder[nclen-1]] == 0 {
		nclen--
	}

	extra := 0
	dyn := 3 + 5 + 5 + 4 + 3*nclen
	fixed := 3
	for s := range numLitLen {
		f := int(b.litFreq[s])
		if f == 0 {
			continue
		}
		dyn += f * int(b.litLens[s])
		fixed += f * int(fixedLit[s])
		if s > endOfBlock {
			extra += f * int(lenExtra[s-257])
		}
	}
	for s := range numDist {
		f := int(b.distFreq[s])
		dyn += f * int(b.distLens[s])
		fixed += f * int(fixedDist[s])
		extra += f * int(distExtra[s])
	}
	for s := range numCodeLen {
		dyn += int(b.clFreq[s]) * int(b.clLens[s])
	}
	dyn += 2*int(b.clFreq[16]) + 3*int(b.clFreq[17]) + 7*int(b.clFreq[18])
	dyn += extra
	fixed += extra
	var stored int
	if pending := b.storedEnd - b.storedStart; pending > 0 {
		stored = 8*blockLen + 40*(storedChunks(pending+blockLen)-storedChunks(pending))
	} else {
		stored = b.storedBits(blockLen)
	}

	if stored <= dyn && stored <= fixed {
		if b.storedEnd == b.storedStart {
			b.storedStart = start
		}
		b.storedEnd = end
		if final {
			b.writeStored(b.src[b.storedStart:b.storedEnd], b.last)
		}
	} else {
		b.flushStored()
	}
	switch {
	case stored <= dyn && stored <= fixed:
	case fixed <= dyn:
		b.writeHeader(1, final && b.last)
		canonical(fixedLit[:], b.litCodes[:])
		canonical(fixedDist[:], b.dstCodes[:])
		b.writeSymbols(syms, fixedLit[:], fixedDist[:])
	default:
		b.writeHeader(2, final && b.last)
		b.writeDynamicHeader(nlit, ndist, nclen)
		canonical(b.litLens[:], b.litCodes[:numLitLen])
		canonical(b.distLens[:], b.dstCodes[:])
		b.writeSymbols(syms, b.litLens[:], b.distLens[:])
	}
}

func (b *blockWriter) writeHeader(btype uint64, final bool) {
	v := btype << 1
	if final {
		v |= 1
	}
	b.writeBits(v, 3)
}

// flushStored writes the pending run of stored blocks, if any.
func (b *blockWriter) flushStored() {
	if b.storedEnd > b.storedStart {
		b.writeStored(b.src[b.storedStart:b.storedEnd], false)
	}
	b.storedStart, b.storedEnd = 0, 0
}

func storedChunks(n int) int {
	return max(1, (n+0xffff-1)/0xffff)
}

// storedBits is the exact size of n bytes as stored blocks from the current
// bit position.
func (b *blockWriter) storedBits(n int) int {
	chunks := storedChunks(n)
	pad := int(8-(b.nbits+3)%8) % 8
	// Later chunks start byte-aligned: 3 header bits pad to 8.
	return 3 + pad + 32 + (chunks-1)*(8+32) + 8*n
}

func (b *blockWriter) writeStored(data []byte, final bool) {
	for {
		n := min(len(data), 0xffff)
		last := n == len(data)
		b.writeHeader(0, final && last)
		b.alignByte()
		b.out = binary.LittleEndian.AppendUint16(b.out, uint16(n))
		b.out = binary.LittleEndian.AppendUint16(b.out, ^uint16(n))
		b.out = append(b.out, data[:n]...)
		data = data[n:]
		if last {
			return
		}
	}
}

// buildCodeLenTokens run-length codes the literal/length and distance code
// lengths as one sequence (RFC 1951 allows runs to cross from one to the
// other) and counts the code-length symbols.
func (b *blockWriter) buildCodeLenTokens() (nlit, ndist int) {
	nlit = numLitLen
	for nlit > 257 && b.litLens[nlit-1] == 0 {
		nlit--
	}
	ndist = numDist
	for ndist > 1 && b.distLens[ndist-1] == 0 {
		ndist--
	}
	var seq [numLitLen + numDist]uint8
	copy(seq[:], b.litLens[:nlit])
	copy(seq[nlit:], b.distLens[:ndist])
	all := seq[:nlit+ndist]

	clear(b.clFreq[:])
	b.ntokens = 0
	emit := func(sym, arg int) {
		b.tokens[b.ntokens] = uint16(sym | arg<<5)
		b.ntokens++
		b.clFreq[sym]++
	}
	for i := 0; i < len(all); {
		v := all[i]
		run := 1
		for i+run < len(all) && all[i+run] == v {
			run++
		}
		i += run
		if v == 0 {
			for run >= 11 {
				r := min(run, 138)
				emit(18, r-11)
				run -= r
			}
			if run >= 3 {
				emit(17, run-3)
				run = 0
			}
			for ; run > 0; run-- {
				emit(0, 0)
			}
			continue
		}
		emit(int(v), 0)
		run--
		for run >= 3 {
			r := min(run, 6)
			emit(16, r-3)
			run -= r
		}
		for ; run > 0; run-- {
			emit(int(v), 0)
		}
	}
	return nlit, ndist
}

func (b *blockWriter) writeDynamicHeader(nlit, ndist, nclen int) {
	b.writeBits(uint64(nlit-257), 5)
	b.writeBits(uint64(ndist-1), 5)
	b.writeBits(uint64(nclen-4), 4)
	for _, s := range codeLenOrder[:nclen] {
		b.writeBits(uint64(b.clLens[s]), 3)
	}
	canonical(b.clLens[:], b.clCodes[:])
	for _, t := range b.tokens[:b.ntokens] {
		s := t & 31
		b.writeBits(uint64(b.clCodes[s]), uint(b.clLens[s]))
		switch s {
		case 16:
			b.writeBits(uint64(t>>5), 2)
		case 17:
			b.writeBits(uint64(t>>5), 3)
		case 18:
			b.writeBits(uint64(t>>5), 7)
		}
	}
}

// writeSymbols writes the buffered symbols and the end-of-block code with
// the codes in b.litCodes/b.dstCodes, whose lengths are lit and dist.
func (b *blockWriter) writeSymbols(syms []uint32, lit, dist []uint8) {
	// Fuse each length code with its extra bits once per block.
	var lenTab [256]uint32 // code | extra<<codelen, in the low 27 bits; total length in the top 5
	for l := range 256 {
		c := int(lenSym[l])
		s := 257 + c
		v := uint32(b.litCodes[s]) | uint32(l+minMatch-int(lenBase[c]))<<lit[s]
		lenTab[l] = v | uint32(lit[s]+lenExtra[c])<<27
	}
	var litTab [256]uint32
	for c := range 256 {
		litTab[c] = uint32(b.litCodes[c]) | uint32(lit[c])<<27
	}
	codes := b.dstCodes
	bitsAcc, nbits := b.bits, b.nbits
	out := b.out
	// writeBits leaves up to 31 bits pending (the dynamic header's last ones), and a symbol
	// adds up to 48: 31 + 48 would overflow the 64-bit accumulator and lose the high bits of
	// the block's first match. Start, as every later symbol does, with fewer than 16.
	for nbits >= 16 {
		out = binary.LittleEndian.AppendUint16(out, uint16(bitsAcc))
		bitsAcc >>= 16
		nbits -= 16
	}
	for _, s := range syms {
		if s < matchFlag {
			t := litTab[s&0xff]
			bitsAcc |= uint64(t&(1<<27-1)) << nbits
			nbits += uint(t >> 27)
		} else {
			t := lenTab[(s>>16)&0xff]
			bitsAcc |= uint64(t&(1<<27-1)) << nbits
			nbits += uint(t >> 27)
			d := int(s & 0x7fff)
			dc := distCode(d)
			v := uint64(codes[dc]) | uint64(d+1-int(distBase[dc]))<<dist[dc]
			bitsAcc |= v << nbits
			nbits += uint(dist[dc] + distExtra[dc])
		}
		// At most 20+28 bits per symbol: keep nbits < 16 before each.
		if nbits >= 16 {
			for nbits >= 32 {
				out = binary.LittleEndian.AppendUint32(out, uint32(bitsAcc))
				bitsAcc >>= 32
				nbits -= 32
			}
			if nbits >= 16 {
				out = binary.LittleEndian.AppendUint16(out, uint16(bitsAcc))
				bitsAcc >>= 16
				nbits -= 16
			}
		}
	}
	b.bits, b.nbits, b.out = bitsAcc, nbits, out
	b.writeBits(uint64(b.litCodes[endOfBlock]), uint(lit[endOfBlock]))
}
