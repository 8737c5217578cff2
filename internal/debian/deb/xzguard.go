package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxXZDict bounds the LZMA2 dictionary a block may ask for. xz's strongest preset uses
// 64 MiB; the format allows 4 GiB, which the decoder would allocate up front for a 1 KiB input.
const maxXZDict = 128 << 20

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// xzCheckSizes is the size of each check type's field (xz file format 1.0.4, 2.1.1.2).
var xzCheckSizes = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

type xzState uint8

const (
	xzStreamHeader xzState = iota
	xzBlockOrIndex
	xzBlockHeader
	xzChunk
	xzChunkHeader
	xzSkip
	xzIndexCount
	xzIndexRecords
	xzIndexTail
	xzFooter
	xzPadding
)

// xzGuard passes an xz stream through unchanged while walking its framing (stream headers,
// block headers, LZMA2 chunk headers, indexes) without decompressing, so a block asking for
// an absurd dictionary is refused before the decoder allocates it. Checksums and content
// are left to the decoder.
type xzGuard struct {
	r     io.Reader
	err   error
	state xzState
	buf   []byte // bytes of the element being collected
	want  int    // its full size
	skip  int64  // bytes to pass over in xzSkip
	after xzState

	check     int   // check field size of the current stream
	blockData int64 // LZMA2 bytes of the current block, for its padding
	records   uint64
	varints   int // varints left in the index records
	indexLen  int64
}

func newXZGuard(r io.Reader) *xzGuard { return &xzGuard{r: r, state: xzStreamHeader, want: 12} }

func (g *xzGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if n > 0 {
		if g.err = g.scan(p[:n]); g.err != nil {
			return 0, g.err
		}
	}
	return n, err
}

func (g *xzGuard) scan(b []byte) error {
	for len(b) > 0 {
		if g.state == xzSkip {
			k := int64(len(b))
			if k > g.skip {
				k = g.skip
			}
			g.skip -= k
			b = b[k:]
			if g.skip == 0 {
				g.state = g.after
			}
			continue
		}
		c := b[0]
		b = b[1:]
		if err := g.step(c); err != nil {
			return fmt.Errorf("xz: %w", err)
		}
	}
	return nil
}

// step consumes one framing byte.
func (g *xzGuard) step(c byte) error {
	switch g.state {
	case xzStreamHeader, xzBlockHeader, xzChunkHeader, xzIndexTail, xzFooter:
		g.buf = append(g.buf, c)
		if len(g.buf) < g.want {
			return nil
		}
		return g.complete()
	case xzBlockOrIndex:
		if c == 0 {
			g.state, g.indexLen, g.records = xzIndexCount, 1, 0
			g.buf = g.buf[:0]
			return nil
		}
		g.state, g.want, g.buf = xzBlockHeader, (int(c)+1)*4, append(g.buf[:0], c)
		return nil
	case xzChunk:
		g.blockData++
		switch {
		case c == 0x00: // end of LZMA2 data: padding to 4 bytes, then the check
			g.skipThen(int64((4-g.blockData%4)%4)+int64(g.check), xzBlockOrIndex)
		case c == 0x01 || c == 0x02: // uncompressed chunk: 2-byte size
			g.state, g.want, g.buf = xzChunkHeader, 3, append(g.buf[:0], c)
		case c >= 0x80: // LZMA chunk: sizes, then properties when the state is reset with new ones
			want := 5
			if (c>>5)&3 >= 2 {
				want = 6
			}
			g.state, g.want, g.buf = xzChunkHeader, want, append(g.buf[:0], c)
		default:
			return fmt.Errorf("invalid LZMA2 chunk control byte %#x", c)
		}
		return nil
	case xzIndexCount, xzIndexRecords:
		g.indexLen++
		g.buf = append(g.buf, c)
		if c&0x80 != 0 {
			if len(g.buf) >= 9 {
				return errors.New("index: variable-length integer too long")
			}
			return nil
		}
		v := decodeVarint(g.buf)
		g.buf = g.buf[:0]
		if g.state == xzIndexCount {
			if v > 1<<24 {
				return errors.New("index: absurd record count")
			}
			g.varints = int(v) * 2
		} else {
			g.varints--
		}
		g.state = xzIndexRecords
		if g.varints == 0 {
			g.state, g.want = xzIndexTail, int((4-g.indexLen%4)%4)+4 // padding, CRC32
		}
		return nil
	case xzPadding:
		switch c {
		case 0x00:
			return nil
		case xzMagic[0]:
			g.state, g.want, g.buf = xzStreamHeader, 12, append(g.buf[:0], c)
			return nil
		}
		return fmt.Errorf("unexpected byte %#x after the stream footer", c)
	}
	return fmt.Errorf("internal error: state %d", g.state)
}

// complete handles a fully collected element.
func (g *xzGuard) complete() error {
	b := g.buf
	g.buf = g.buf[:0]
	switch g.state {
	case xzStreamHeader:
		if !bytes.Equal(b[:6], xzMagic) {
			return errors.New("not an xz stream")
		}
		g.check = xzCheckSizes[b[7]&0x0f]
		g.state = xzBlockOrIndex
	case xzBlockHeader:
		if err := checkBlockHeader(b); err != nil {
			return err
		}
		g.state, g.blockData = xzChunk, 0
	case xzChunkHeader:
		g.blockData += int64(len(b) - 1)
		var size int64
		if b[0] == 0x01 || b[0] == 0x02 {
			size = int64(b[1])<<8 | int64(b[2]) + 1
		} else {
			size = int64(b[3])<<8 | int64(b[4]) + 1 // packed size
		}
		g.blockData += size
		g.skipThen(size, xzChunk)
	case xzIndexTail:
		g.state, g.want = xzFooter, 12
	case xzFooter:
		if b[10] != 'Y' || b[11] != 'Z' {
			return errors.New("corrupt stream footer")
		}
		g.state = xzPadding
	}
	return nil
}

func (g *xzGuard) skipThen(n int64, next xzState) {
	if n == 0 {
		g.state = next
		return
	}
	g.state, g.skip, g.after = xzSkip, n, next
}

// checkBlockHeader reads the filter chain of a block header and refuses LZMA2 dictionaries
// beyond maxXZDict.
func checkBlockHeader(h []byte) error {
	if len(h) < 8 {
		return errors.New("block header too short")
	}
	flags := h[1]
	rest := h[2 : len(h)-4] // without the size byte, flags and CRC32
	// Compressed and uncompressed sizes, when present, precede the filter flags.
	for _, bit := range []byte{0x40, 0x80} {
		if flags&bit == 0 {
			continue
		}
		_, n := readVarint(rest)
		if n == 0 {
			return errors.New("corrupt block header")
		}
		rest = rest[n:]
	}
	for i := 0; i <= int(flags&3); i++ {
		id, n := readVarint(rest)
		if n == 0 {
			return errors.New("corrupt block header")
		}
		rest = rest[n:]
		size, n := readVarint(rest)
		if n == 0 || uint64(len(rest)-n) < size {
			return errors.New("corrupt block header")
		}
		props := rest[n : n+int(size)]
		rest = rest[n+int(size):]
		if id != 0x21 { // BCJ and delta filters carry no dictionary
			continue
		}
		if len(props) != 1 || props[0] > 40 {
			return errors.New("corrupt LZMA2 filter properties")
		}
		dict := uint64(0xffffffff)
		if c := props[0]; c < 40 {
			dict = uint64(2|c&1) << (c/2 + 11)
		}
		if dict > maxXZDict {
			return fmt.Errorf("LZMA2 dictionary of %d MiB exceeds the %d MiB this reader accepts", dict>>20, maxXZDict>>20)
		}
	}
	return nil
}

// readVarint decodes an xz multibyte integer; n is 0 when b does not hold a valid one.
func readVarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 9; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

func decodeVarint(b []byte) uint64 {
	v, _ := readVarint(b)
	return v
}
