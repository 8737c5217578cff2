package jimage

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// A resource jlink compressed (--compress) starts with a 29-byte header in the image's byte
// order: u4 magic, u8 compressed size, u8 uncompressed size, u4 string offset of the
// decompressor's name, u4 unused, u1 terminal flag. Compressors stack, each adding a header.
const (
	compressedMagic      = 0xCAFEFAFA
	compressedHeaderSize = 29
	// Only module-info.class is decompressed; java.base's is 12 KiB. The bound keeps a
	// forged size from making a few bytes inflate to gigabytes.
	maxResourceSize = 16 << 20
)

// contentOf returns a resource's bytes uncompressed. Only the zip compressor is undone: it
// is what jlink --compress=2 and zip-N store; string sharing (--compress=1, compact-cp)
// rewrites constant pools against the image's strings table and is refused. Resources go
// into the output as they are stored; this is for reading module-info.class.
func (img *image) contentOf(e *entry) ([]byte, error) {
	data := img.stored(e)
	if e.compressed == 0 {
		return data, nil
	}
	for len(data) >= compressedHeaderSize && img.hdr.order.Uint32(data) == compressedMagic {
		csize := img.hdr.order.Uint64(data[4:])
		usize := img.hdr.order.Uint64(data[12:])
		name, err := img.str(uint64(img.hdr.order.Uint32(data[20:])))
		if err != nil {
			return nil, formatErr("compressed resource %q: decompressor name: %v", e.fullName(), err)
		}
		body := data[compressedHeaderSize:]
		if csize > uint64(len(body)) {
			return nil, formatErr("compressed resource %q claims %d bytes, has %d", e.fullName(), csize, len(body))
		}
		if usize > e.uncompressed || usize > maxResourceSize {
			return nil, formatErr("compressed resource %q inflates to %d bytes, more than its %d", e.fullName(), usize, e.uncompressed)
		}
		switch name {
		case "zip":
			data, err = inflate(body[:csize], usize)
			if err != nil {
				return nil, fmt.Errorf("jimage: resource %q: %w", e.fullName(), err)
			}
		default:
			return nil, fmt.Errorf("jimage: resource %q is compressed with %q, which this package cannot undo", e.fullName(), name)
		}
	}
	if uint64(len(data)) != e.uncompressed {
		return nil, formatErr("resource %q decompresses to %d bytes, its location says %d", e.fullName(), len(data), e.uncompressed)
	}
	return data, nil
}

// inflate undoes java.util.zip.Deflater's zlib stream, reading no more than size bytes so
// that a lying header cannot make it allocate more.
func inflate(b []byte, size uint64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(size)+1))
	if err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	if uint64(len(out)) != size {
		return nil, fmt.Errorf("inflating: got %d bytes, the header says %d", len(out), size)
	}
	return out, nil
}
