package deflate

import (
	"hash/crc32"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// pieceSize is where long inputs are cut for parallel compression. Each cut
// costs a forced block boundary and at most five bytes of sync marker, under
// 0.1 % at this size (docs/BENCHMARKS.md, "Layer compression"), while a
// python or node layer still yields dozens of pieces to spread over the
// CPUs. It is part of the output format: changing it changes every digest
// of a layer longer than it.
const pieceSize = 1 << 20

// helpers counts the goroutines compressing pieces on behalf of a caller,
// across all calls. Layers are themselves compressed in parallel, one
// goroutine per CPU: without a shared bound each would start one helper per
// CPU as well, holding an encoder (about 0.5 MB) apiece, CPUs squared in all.
var helpers atomic.Int64

// appendPieces appends the deflate stream of src to dst, cutting src every
// size bytes and compressing the pieces in parallel, and returns it with
// the CRC-32 (IEEE) of src. The bytes depend on src and size alone: which
// goroutine compresses a piece, and how many take part, changes nothing.
func appendPieces(dst, src []byte, size int) ([]byte, uint32) {
	n := max(1, (len(src)+size-1)/size)
	if n == 1 {
		e := encoderPool.Get().(*encoder)
		dst = e.deflate(dst, src, 0, true)
		encoderPool.Put(e)
		return dst, crc32.ChecksumIEEE(src)
	}
	outs := make([][]byte, n)
	crcs := make([]uint32, n)
	var next atomic.Int64
	work := func() {
		e := encoderPool.Get().(*encoder)
		defer encoderPool.Put(e)
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			start, end := i*size, min((i+1)*size, len(src))
			hist := max(0, start-windowSize)
			outs[i] = e.deflate(make([]byte, 0, initialCap(end-start)), src[hist:end], start-hist, i == n-1)
			crcs[i] = crc32.ChecksumIEEE(src[start:end])
		}
	}
	// Helpers while there are CPUs for them; the caller works as well, so
	// the pieces get done even when no helper may start.
	var wg sync.WaitGroup
	procs := int64(runtime.GOMAXPROCS(0))
	for range min(procs, int64(n)) - 1 {
		if helpers.Add(1) > procs {
			helpers.Add(-1)
			break
		}
		wg.Go(func() {
			defer helpers.Add(-1)
			work()
		})
	}
	work()
	wg.Wait()

	total := 0
	for _, o := range outs {
		total += len(o)
	}
	dst = slices.Grow(dst, total)
	crc := crcs[0]
	for i, o := range outs {
		dst = append(dst, o...)
		if i > 0 {
			crc = crc32Combine(crc, crcs[i], int64(min((i+1)*size, len(src))-i*size))
		}
	}
	return dst, crc
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B from crcA, the
// CRC of A, crcB, that of B, and lenB, the length of B: zlib's
// crc32_combine, which applies lenB zero bytes to crcA as a matrix over
// GF(2), squaring for each bit of lenB.
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32
	odd[0] = crc32.IEEE // the operator for one zero bit
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		// Apply zeros a byte (8 bits) at a time, doubling each round.
		gf2Square(&even, &odd)
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for i := range mat {
		square[i] = gf2Times(mat, mat[i])
	}
}
