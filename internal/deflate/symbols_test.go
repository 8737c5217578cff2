package deflate

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestWriteSymbolsPendingBits compares writeSymbols, which packs bits 64 at a time, with the
// plain writeBits path, from every number of pending bits the block header can leave and with
// the longest codes and extra bits: a far, long match after a header that left 31 bits
// pending once lost bits and made a layer that inflated to other bytes (a JDK layer, 285 MB).
func TestWriteSymbolsPendingBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lit [numLitLen]uint8
	var dist [numDist]uint8
	for i := range lit {
		lit[i] = maxCodeBits
	}
	for i := range dist {
		dist[i] = maxCodeBits
	}
	syms := []uint32{
		matchFlag | uint32(101-minMatch)<<16 | uint32(15230-1), // the match that was lost
		matchFlag | uint32(257-minMatch)<<16 | uint32(32768-1), // longest extra bits both sides
		'a',
		matchFlag | uint32(3-minMatch)<<16 | uint32(1-1),
		matchFlag | uint32(227-minMatch)<<16 | uint32(24577-1),
	}
	for pending := uint(0); pending < 32; pending++ {
		for _, codeBits := range []uint8{1, 9, maxCodeBits} {
			var b, want blockWriter
			for i := range b.litCodes {
				b.litCodes[i] = uint16(rng.Uint32()) & (1<<codeBits - 1)
			}
			for i := range b.dstCodes {
				b.dstCodes[i] = uint16(rng.Uint32()) & (1<<codeBits - 1)
			}
			for i := range lit {
				lit[i] = codeBits
			}
			for i := range dist {
				dist[i] = codeBits
			}
			want.litCodes, want.dstCodes = b.litCodes, b.dstCodes
			prefix := rng.Uint64() & (1<<pending - 1)
			b.writeBits(prefix, pending)
			want.writeBits(prefix, pending)

			b.writeSymbols(syms, lit[:], dist[:])
			for _, s := range syms {
				if s < matchFlag {
					want.writeBits(uint64(want.litCodes[s]), uint(lit[s]))
					continue
				}
				l := int(s>>16&0xff) + minMatch
				d := int(s&0xffff) + 1
				c := int(lenSym[l-minMatch])
				want.writeBits(uint64(want.litCodes[257+c]), uint(lit[257+c]))
				want.writeBits(uint64(l-int(lenBase[c])), uint(lenExtra[c]))
				dc := distCode(d - 1)
				want.writeBits(uint64(want.dstCodes[dc]), uint(dist[dc]))
				want.writeBits(uint64(d-int(distBase[dc])), uint(distExtra[dc]))
			}
			want.writeBits(uint64(want.litCodes[endOfBlock]), uint(lit[endOfBlock]))
			got, exp := b.finish(), want.finish()
			if !bytes.Equal(got, exp) {
				t.Errorf("%d bits pending, %d-bit codes: writeSymbols wrote %x, want %x", pending, codeBits, got, exp)
			}
		}
	}
}
