// Package xz decompresses .xz files (the container of Debian's data.tar.xz members) with an
// LZMA2 decoder written for speed: a chunk's compressed bytes are decoded from memory into a
// linear window, so the inner loop neither waits on an io.Reader per byte nor wraps a ring
// buffer. Every check the format offers is verified: header and index CRC32s, the block check
// (CRC32, CRC64 or SHA-256) over the decompressed bytes, declared block sizes, the index
// against the blocks actually read, the footer against the header and the index, zero
// padding, and the LZMA2 chunk rules liblzma enforces.
package xz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"runtime"
	"slices"
	"strings"
)

// MaxDict bounds the dictionary a block may declare. xz's strongest preset uses 64 MiB; the
// format allows 4 GiB. The window grows with the output, so a small file declaring a large
// dictionary costs no memory, but a stream that large is not a Debian package.
const MaxDict = 128 << 20

// maxChunk is the most an LZMA2 chunk decompresses to (21-bit size field, plus one).
const maxChunk = 1 << 21

var (
	headerMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	footerMagic = []byte{'Y', 'Z'}
	crc64Table  = crc64.MakeTable(crc64.ECMA)
)

// checkSizes is the size of each check type's field (xz file format 1.0.4, 2.1.1.2).
var checkSizes = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

// lzma2Filter is LZMA2's filter ID; filterNames names the others for the refusal.
const lzma2Filter = 0x21

var filterNames = map[uint64]string{
	0x03: "delta", 0x04: "BCJ x86", 0x05: "BCJ PowerPC", 0x06: "BCJ IA-64", 0x07: "BCJ ARM",
	0x08: "BCJ ARM-Thumb", 0x09: "BCJ SPARC", 0x0a: "BCJ ARM64", 0x0b: "BCJ RISC-V", lzma2Filter: "LZMA2",
}

func filterName(id uint64) string {
	if n, ok := filterNames[id]; ok {
		return n
	}
	return fmt.Sprintf("unknown filter %#x", id)
}

type record struct{ unpadded, uncompressed uint64 }

// Reader decompresses the concatenated xz streams read from its source.
type Reader struct {
	in  *bufio.Reader
	err error

	// Output window: buf[start:] is decoded but not yet returned; the dictLen bytes before
	// the end are the history matches may reach.
	buf     []byte
	start   int
	posBase uint64 // stream position of buf[0] since the last dictionary reset
	dictLen int

	// Stream.
	flags   [2]byte
	check   hash.Hash
	records []record

	// Block.
	inBlock        bool
	headerSize     int
	declaredComp   int64 // -1 when the header does not say
	declaredUncomp int64
	comp, uncomp   int64
	dictSize       uint32

	// LZMA2.
	needDictReset, needProps bool
	lz                       lzmaState
	rc                       rangeDecoder
	chunk                    [1 << 16]byte

	// Blocks decoded on other cores (see dispatch), in stream order, and the decoded bytes of
	// the last one taken that are not yet returned.
	jobs     []*blockJob
	ready    []byte
	parallel int  // blocks decoded at once; 1: all in this goroutine
	whole    bool // the window keeps all the block decoded so far (decodeBlock)
}

// blockJob is one block decoded on its own goroutine.
type blockJob struct {
	done chan struct{}
	out  []byte
	rec  record
	err  error
}

// maxParallelBlock bounds the declared sizes of a block decoded on its own: its compressed
// bytes and its output are held in memory (xz -T writes blocks of three dictionaries, 24 MiB at
// the default level). A larger or undeclared block is decoded as it streams.
const maxParallelBlock = 64 << 20

// NewReader reads the first stream header of r and returns a Reader of the decompressed data.
func NewReader(r io.Reader) (*Reader, error) {
	x := &Reader{in: bufio.NewReaderSize(r, 64<<10), parallel: runtime.GOMAXPROCS(0)}
	if err := x.streamHeader(); err != nil {
		return nil, err
	}
	return x, nil
}

// Read returns decompressed bytes; io.EOF comes only after the last stream's footer and its
// padding were verified and the input ended.
func (x *Reader) Read(p []byte) (int, error) {
	for {
		if len(x.ready) > 0 {
			n := copy(p, x.ready)
			x.ready = x.ready[n:]
			return n, nil
		}
		if x.start < len(x.buf) {
			n := copy(p, x.buf[x.start:])
			x.start += n
			return n, nil
		}
		if len(x.jobs) > 0 {
			x.readAhead()
			j := x.jobs[0]
			<-j.done
			x.jobs = x.jobs[1:]
			if j.err != nil {
				// The first error in stream order: a later one read ahead is not reported.
				x.err, x.jobs = j.err, nil
				return 0, x.err
			}
			x.records = append(x.records, j.rec)
			x.ready = j.out
			continue
		}
		if x.err != nil {
			return 0, x.err
		}
		x.err = x.step()
	}
}

// readAhead starts decoding the blocks that follow, up to x.parallel at once, while the
// first is still being decoded. It stops before the index (whose check needs every block's
// record, which only the blocks taken in order add) and at a block decoded as it streams.
func (x *Reader) readAhead() {
	for len(x.jobs) < x.parallel && x.err == nil && !x.inBlock {
		next, err := x.in.Peek(1)
		if err != nil || next[0] == 0 {
			return
		}
		x.err = x.step()
	}
}

// step decodes the next chunk into the window, or reads the framing around it.
func (x *Reader) step() error {
	if !x.inBlock {
		return x.blockOrIndex()
	}
	return x.lzma2Chunk()
}

func (x *Reader) readByte() (byte, error) {
	b, err := x.in.ReadByte()
	if err == io.EOF {
		return 0, io.ErrUnexpectedEOF
	}
	return b, err
}

func (x *Reader) readFull(b []byte) error {
	_, err := io.ReadFull(x.in, b)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (x *Reader) streamHeader() error {
	var h [12]byte
	if err := x.readFull(h[:]); err != nil {
		return fmt.Errorf("xz stream header: %w", err)
	}
	if !bytes.Equal(h[:6], headerMagic) {
		return errors.New("not an xz stream: bad magic bytes")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return errors.New("xz stream header: CRC32 mismatch")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return fmt.Errorf("xz stream header: unsupported flags %#x %#x", h[6], h[7])
	}
	switch h[7] {
	case 0, 1, 4, 10:
		x.check = newCheck(h[7])
	default:
		return fmt.Errorf("xz stream: unsupported check type %d", h[7])
	}
	x.flags = [2]byte{h[6], h[7]}
	x.records = x.records[:0]
	return nil
}

func (x *Reader) blockOrIndex() error {
	first, err := x.readByte()
	if err != nil {
		return fmt.Errorf("xz block header: %w", err)
	}
	if first == 0 {
		return x.index()
	}
	size := (int(first) + 1) * 4
	var hb [1024]byte
	h := hb[:size]
	h[0] = first
	if err := x.readFull(h[1:]); err != nil {
		return fmt.Errorf("xz block header: %w", err)
	}
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return errors.New("xz block header: CRC32 mismatch")
	}
	flags := h[1]
	if flags&0x3c != 0 {
		return fmt.Errorf("xz block header: unsupported flags %#x", flags)
	}
	body := h[2 : size-4]
	x.declaredComp, x.declaredUncomp = -1, -1
	if flags&0x40 != 0 {
		v, n, err := vli(body)
		if err != nil || v == 0 {
			return errors.New("xz block header: invalid compressed size")
		}
		x.declaredComp, body = int64(v), body[n:]
	}
	if flags&0x80 != 0 {
		v, n, err := vli(body)
		if err != nil {
			return errors.New("xz block header: invalid uncompressed size")
		}
		x.declaredUncomp, body = int64(v), body[n:]
	}
	// Read the whole filter chain first, so a refusal names every filter in it.
	var ids []uint64
	var props []byte
	for range flags&3 + 1 {
		id, n, err := vli(body)
		if err != nil {
			return errors.New("xz block header: invalid filter ID")
		}
		body = body[n:]
		propSize, n, err := vli(body)
		if err != nil || propSize > uint64(len(body)-n) {
			return errors.New("xz block header: invalid filter properties size")
		}
		ids = append(ids, id)
		props = body[n : n+int(propSize)]
		body = body[n+int(propSize):]
	}
	if len(ids) != 1 || ids[0] != lzma2Filter {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = filterName(id)
		}
		return fmt.Errorf("xz block: filter chain %s is not supported; only LZMA2 alone (what xz and dpkg-deb write by default) is: recompress without --x86/--arm/--delta or similar options", strings.Join(names, " + "))
	}
	if len(props) != 1 {
		return errors.New("xz block header: invalid LZMA2 properties")
	}
	d := props[0]
	if d > 40 {
		return fmt.Errorf("xz block header: invalid LZMA2 dictionary size code %d", d)
	}
	x.dictSize = 0xFFFFFFFF
	if d < 40 {
		x.dictSize = (2 | uint32(d)&1) << (d/2 + 11)
	}
	if x.dictSize > MaxDict {
		return fmt.Errorf("xz block: dictionary of %d MiB exceeds the %d MiB limit", x.dictSize>>20, MaxDict>>20)
	}
	for _, b := range body {
		if b != 0 {
			return errors.New("xz block header: non-zero padding")
		}
	}
	x.inBlock = true
	x.headerSize = size
	x.comp, x.uncomp = 0, 0
	x.needDictReset, x.needProps = true, true
	if x.check != nil {
		x.check.Reset()
	}
	if x.parallel > 1 && x.declaredComp >= 0 && x.declaredComp <= maxParallelBlock &&
		x.declaredUncomp >= 0 && x.declaredUncomp <= maxParallelBlock {
		return x.dispatch()
	}
	return nil
}

// dispatch hands the block whose header was just read to a goroutine of its own: a block
// starts with a fresh dictionary and its header declares both sizes (xz -T and dpkg-deb's
// threaded compression write them), so its bytes can be read in one piece and decoded apart
// from the others, with every check the stream path makes.
func (x *Reader) dispatch() error {
	size := x.declaredComp + (4-x.declaredComp%4)%4 + int64(checkSizes[x.flags[1]])
	// Memory grows with the bytes that actually arrive, not with what a header claims.
	var data bytes.Buffer
	data.Grow(int(min(size, 1<<20)))
	if _, err := io.CopyN(&data, x.in, size); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("xz block data: %w", err)
	}
	sub := &Reader{
		in:             bufio.NewReaderSize(bytes.NewReader(data.Bytes()), 4096),
		flags:          x.flags,
		check:          newCheck(x.flags[1]),
		inBlock:        true,
		headerSize:     x.headerSize,
		declaredComp:   x.declaredComp,
		declaredUncomp: x.declaredUncomp,
		dictSize:       x.dictSize,
		needDictReset:  true,
		needProps:      true,
	}
	j := &blockJob{done: make(chan struct{})}
	go func() {
		defer close(j.done)
		j.out, j.rec, j.err = sub.decodeBlock()
	}()
	x.jobs = append(x.jobs, j)
	x.inBlock = false
	return nil
}

// decodeBlock decodes the one block of a Reader made by dispatch, to its check.
func (x *Reader) decodeBlock() ([]byte, record, error) {
	// The window holds the whole block (whole: it grows instead of sliding its dictionary down
	// every few MiB as the stream path does), so it is the output; it is sized for the usual
	// ratios, so that a header's claim alone allocates nothing.
	x.whole = true
	x.buf = make([]byte, 0, min(x.declaredUncomp, 16*x.declaredComp+1<<20))
	var out []byte
	for x.inBlock {
		if c, err := x.in.Peek(1); err == nil && (c[0] == 1 || c[0] >= 0xe0) && len(x.buf) > 0 {
			out = append(out, x.buf...) // a dictionary reset inside the block starts the window over
		}
		if err := x.lzma2Chunk(); err != nil {
			return nil, record{}, err
		}
		x.start = len(x.buf)
	}
	if _, err := x.in.ReadByte(); err != io.EOF {
		return nil, record{}, errors.New("xz block: data after the block's check")
	}
	if out == nil {
		return x.buf, x.records[0], nil
	}
	return append(out, x.buf...), x.records[0], nil
}

// newCheck is the hash of a stream's check type; nil for none (or an unsupported type, which
// streamHeader refuses first).
func newCheck(t byte) hash.Hash {
	switch t {
	case 1:
		return crc32.NewIEEE()
	case 4:
		return crc64.New(crc64Table)
	case 10:
		return sha256.New()
	}
	return nil
}

// lzma2Chunk reads one LZMA2 chunk, or the end of the block's data.
func (x *Reader) lzma2Chunk() error {
	ctrl, err := x.readByte()
	if err != nil {
		return fmt.Errorf("xz block data: %w", err)
	}
	x.comp++
	if ctrl == 0 {
		return x.endBlock()
	}
	if ctrl >= 0xe0 || ctrl == 1 {
		x.needProps = true
		x.needDictReset = false
		x.buf, x.start, x.posBase, x.dictLen = x.buf[:0], 0, 0, 0
	} else if x.needDictReset {
		return fmt.Errorf("xz block data: %w: first chunk does not reset the dictionary", errData)
	}
	var sz [4]byte
	if ctrl < 0x80 {
		if ctrl > 2 {
			return fmt.Errorf("xz block data: %w: invalid chunk control byte %#x", errData, ctrl)
		}
		if err := x.readFull(sz[:2]); err != nil {
			return fmt.Errorf("xz block data: %w", err)
		}
		u := int(binary.BigEndian.Uint16(sz[:2])) + 1
		x.comp += 2 + int64(u)
		x.reserve(u)
		n := len(x.buf)
		x.buf = x.buf[:n+u]
		if err := x.readFull(x.buf[n:]); err != nil {
			x.buf = x.buf[:n]
			return fmt.Errorf("xz block data: %w", err)
		}
		return x.produced(n)
	}
	if err := x.readFull(sz[:]); err != nil {
		return fmt.Errorf("xz block data: %w", err)
	}
	u := int(ctrl&0x1f)<<16 + int(binary.BigEndian.Uint16(sz[:2])) + 1
	c := int(binary.BigEndian.Uint16(sz[2:])) + 1
	x.comp += 4 + int64(c)
	switch ctrl >> 5 {
	case 4, 5:
		if x.needProps {
			return fmt.Errorf("xz block data: %w: chunk without properties", errData)
		}
		if ctrl>>5 == 5 {
			x.lz.reset()
		}
	default:
		p, err := x.readByte()
		if err != nil {
			return fmt.Errorf("xz block data: %w", err)
		}
		x.comp++
		if err := x.lz.setProps(p); err != nil {
			return fmt.Errorf("xz block data: %w: invalid LZMA properties %#x", err, p)
		}
		x.needProps = false
		x.lz.reset()
	}
	in := x.chunk[:c]
	if err := x.readFull(in); err != nil {
		return fmt.Errorf("xz block data: %w", err)
	}
	if err := x.rc.init(in); err != nil {
		return fmt.Errorf("xz block data: %w", err)
	}
	x.reserve(u)
	n := len(x.buf)
	buf, err := x.lz.decodeChunk(&x.rc, x.buf, u, x.posBase, x.dictSize, x.dictLen)
	if err != nil {
		return fmt.Errorf("xz block data: %w", err)
	}
	x.buf = buf
	return x.produced(n)
}

// produced accounts for the bytes decoded into buf[from:].
func (x *Reader) produced(from int) error {
	u := len(x.buf) - from
	x.uncomp += int64(u)
	x.dictLen = min(x.dictLen+u, int(x.dictSize))
	if x.check != nil {
		x.check.Write(x.buf[from:])
	}
	if x.declaredUncomp >= 0 && x.uncomp > x.declaredUncomp {
		return errors.New("xz block: more data than its header declares")
	}
	if x.declaredComp >= 0 && x.comp > x.declaredComp {
		return errors.New("xz block: more compressed data than its header declares")
	}
	return nil
}

// reserve makes room for u more bytes in the window, keeping the history. Everything before
// start was already returned, which step guarantees by only running when buf is drained.
func (x *Reader) reserve(u int) {
	if len(x.buf)+u <= cap(x.buf) {
		return
	}
	if x.whole {
		x.buf = slices.Grow(x.buf, max(u, cap(x.buf)))
		return
	}
	keep := x.dictLen
	if drop := len(x.buf) - keep; drop > 0 {
		copy(x.buf, x.buf[drop:])
		x.buf = x.buf[:keep]
		x.posBase += uint64(drop)
		x.start = keep
	}
	if keep+u <= cap(x.buf) {
		return
	}
	// Grow to twice the need up to the dictionary plus two chunks, so slides stay rare.
	want := max(2*cap(x.buf), keep+u, 64<<10)
	want = min(want, max(int(x.dictSize)+2*maxChunk, keep+u))
	nb := make([]byte, keep, want)
	copy(nb, x.buf)
	x.buf = nb
	x.start = keep
}

func (x *Reader) endBlock() error {
	if x.declaredComp >= 0 && x.comp != x.declaredComp {
		return errors.New("xz block: compressed size differs from its header")
	}
	if x.declaredUncomp >= 0 && x.uncomp != x.declaredUncomp {
		return errors.New("xz block: uncompressed size differs from its header")
	}
	var pad [4]byte
	p := pad[:(4-x.comp%4)%4]
	if err := x.readFull(p); err != nil {
		return fmt.Errorf("xz block padding: %w", err)
	}
	for _, b := range p {
		if b != 0 {
			return errors.New("xz block: non-zero padding")
		}
	}
	size := checkSizes[x.flags[1]]
	var sum [32]byte
	if err := x.readFull(sum[:size]); err != nil {
		return fmt.Errorf("xz block check: %w", err)
	}
	switch c := x.check.(type) {
	case nil:
	case hash.Hash32:
		if c.Sum32() != binary.LittleEndian.Uint32(sum[:4]) {
			return errors.New("xz block: CRC32 of the data does not match")
		}
	case hash.Hash64:
		if c.Sum64() != binary.LittleEndian.Uint64(sum[:8]) {
			return errors.New("xz block: CRC64 of the data does not match")
		}
	default:
		if !bytes.Equal(c.Sum(nil), sum[:size]) {
			return errors.New("xz block: SHA-256 of the data does not match")
		}
	}
	x.records = append(x.records, record{
		unpadded:     uint64(x.headerSize) + uint64(x.comp) + uint64(size),
		uncompressed: uint64(x.uncomp),
	})
	x.inBlock = false
	return nil
}

// index verifies a stream's index against the blocks read, then its footer, then the stream
// padding, and starts the next stream if one follows.
func (x *Reader) index() error {
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	size := 1
	readVLI := func() (uint64, error) {
		var v uint64
		for i := 0; i < 9; i++ {
			b, err := x.readByte()
			if err != nil {
				return 0, err
			}
			crc.Write([]byte{b})
			size++
			if i > 0 && b == 0 {
				return 0, errors.New("non-minimal integer")
			}
			v |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				return v, nil
			}
		}
		return 0, errors.New("integer too long")
	}
	n, err := readVLI()
	if err != nil {
		return fmt.Errorf("xz index: %w", err)
	}
	if n != uint64(len(x.records)) {
		return fmt.Errorf("xz index: lists %d blocks, the stream has %d", n, len(x.records))
	}
	for i, rec := range x.records {
		unpadded, err := readVLI()
		if err != nil {
			return fmt.Errorf("xz index: %w", err)
		}
		uncompressed, err := readVLI()
		if err != nil {
			return fmt.Errorf("xz index: %w", err)
		}
		if unpadded != rec.unpadded || uncompressed != rec.uncompressed {
			return fmt.Errorf("xz index: record %d does not match block %d", i, i)
		}
	}
	var pad [4]byte
	p := pad[:(4-size%4)%4]
	if err := x.readFull(p); err != nil {
		return fmt.Errorf("xz index: %w", err)
	}
	for _, b := range p {
		if b != 0 {
			return errors.New("xz index: non-zero padding")
		}
	}
	crc.Write(p)
	size += len(p) + 4
	var tail [4 + 12]byte
	if err := x.readFull(tail[:]); err != nil {
		return fmt.Errorf("xz index: %w", err)
	}
	if crc.Sum32() != binary.LittleEndian.Uint32(tail[:4]) {
		return errors.New("xz index: CRC32 mismatch")
	}
	f := tail[4:]
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[:4]) {
		return errors.New("xz stream footer: CRC32 mismatch")
	}
	if !bytes.Equal(f[10:], footerMagic) {
		return errors.New("xz stream footer: bad magic bytes")
	}
	if (uint64(binary.LittleEndian.Uint32(f[4:8]))+1)*4 != uint64(size) {
		return errors.New("xz stream footer: backward size does not match the index")
	}
	if f[8] != x.flags[0] || f[9] != x.flags[1] {
		return errors.New("xz stream footer: flags differ from the header")
	}
	return x.streamPadding()
}

// streamPadding reads the zero padding after a stream (a multiple of four bytes), then either
// the end of the input or the next stream's header.
func (x *Reader) streamPadding() error {
	zeros := 0
	for {
		b, err := x.in.ReadByte()
		if err == io.EOF {
			if zeros%4 != 0 {
				return errors.New("xz stream padding: not a multiple of four bytes")
			}
			return io.EOF
		}
		if err != nil {
			return err
		}
		if b != 0 {
			if zeros%4 != 0 {
				return errors.New("xz stream padding: not a multiple of four bytes")
			}
			if err := x.in.UnreadByte(); err != nil {
				return err
			}
			return x.streamHeader()
		}
		zeros++
	}
}

// vli decodes a variable-length integer of the xz format from b.
func vli(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < 9 && i < len(b); i++ {
		if i > 0 && b[i] == 0 {
			return 0, 0, errData
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errData
}
