package deflate

import (
	"encoding/binary"
)

// gzipHeader is a fixed RFC 1952 member header: no flags, MTIME 0, XFL 0
// and OS 255 (unknown), so that the bytes depend on nothing but the input.
var gzipHeader = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// AppendGzip appends src compressed as one complete gzip (RFC 1952) member to
// dst and returns the extended slice. The member has header ID1 ID2, CM=8,
// FLG=0, MTIME=0, XFL=0, OS=255, then the deflate stream, CRC-32 and ISIZE
// (the length mod 2^32).
func AppendGzip(dst, src []byte) []byte {
	dst = append(dst, gzipHeader[:]...)
	dst, crc := appendPieces(dst, src, pieceSize)
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
}

// Gzip returns src compressed as one gzip member; see AppendGzip. The
// result's capacity is at most a quarter above its length.
func Gzip(src []byte) []byte {
	return fit(AppendGzip(make([]byte, 0, initialCap(len(src))+18), src))
}
