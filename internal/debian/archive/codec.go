package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// The parsed-index cache format. Only the values of the fields a Package carries are stored, as
// the index spelled them (near enough that they parse to the same Package); decoding rebuilds
// every Package through fillPackage, so a cached index can never disagree with a freshly
// scanned one or skip its checks. Layout, all integers uvarint:
//
//	magic
//	nPackages
//	per package: bitmask of the fields present (bit = field number), then per present field
//	in field-number order: value length, value bytes
//
// Decoding copies the data into one string and slices every value out of it, and allocates the
// packages in one slab: a warm load of a 65,000-package index is a few large allocations. The
// cache's own envelope (internal/cache derived entries) already rejects a truncated or altered
// entry by its SHA-256; this format's checks catch entries of another version.
const codecMagic = "spartan-packages-v2\n"

// rawValues returns values that fillPackage turns back into p's typed fields.
func rawValues(p *Package) *[numFields]string {
	var v [numFields]string
	v[fPackage] = p.Name
	v[fVersion] = p.Version
	v[fArchitecture] = p.Architecture
	switch {
	case p.Source == p.Name && p.SourceVersion == p.Version:
	case p.SourceVersion == p.Version:
		v[fSource] = p.Source
	default:
		v[fSource] = p.Source + " (" + p.SourceVersion + ")"
	}
	v[fFilename] = p.Filename
	v[fSHA256] = p.SHA256
	v[fSize] = strconv.FormatInt(p.Size, 10)
	if p.InstalledSize != 0 {
		v[fInstalledSize] = strconv.FormatInt(p.InstalledSize, 10)
	}
	v[fDepends] = p.Depends
	v[fPreDepends] = p.PreDepends
	v[fProvides] = p.Provides
	if p.Essential {
		v[fEssential] = "yes"
	}
	v[fPriority] = p.Priority
	v[fSection] = p.Section
	v[fMultiArch] = p.MultiArch
	return &v
}

func encodePackages(pkgs []*Package) []byte {
	vals := make([]*[numFields]string, len(pkgs))
	size := len(codecMagic) + binary.MaxVarintLen64
	for i, p := range pkgs {
		vals[i] = rawValues(p)
		size += 3
		for _, s := range vals[i] {
			if s != "" {
				size += len(s) + 3
			}
		}
	}
	b := make([]byte, 0, size)
	b = append(b, codecMagic...)
	b = binary.AppendUvarint(b, uint64(len(pkgs)))
	for _, v := range vals {
		var mask uint64
		for id, s := range v {
			if s != "" {
				mask |= 1 << id
			}
		}
		b = binary.AppendUvarint(b, mask)
		for _, s := range v {
			if s != "" {
				b = binary.AppendUvarint(b, uint64(len(s)))
				b = append(b, s...)
			}
		}
	}
	return b
}

var errCodec = errors.New("malformed parsed-index cache entry")

// decoder reads uvarints and strings from data, whose string copy s shares its offsets.
type decoder struct {
	data []byte
	s    string
	off  int
	err  error
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		d.err = errCodec
		return 0
	}
	d.off += n
	return v
}

// count reads a length that must fit in what remains, each unit taking at least min bytes,
// so a corrupt entry cannot make the decoder allocate gigabytes.
func (d *decoder) count(min int) int {
	v := d.uint()
	if d.err == nil && v > uint64(len(d.data)-d.off)/uint64(max(min, 1)) {
		d.err = errCodec
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s
}

func decodePackages(data []byte, rel *Release) ([]*Package, error) {
	if len(data) < len(codecMagic) || string(data[:len(codecMagic)]) != codecMagic {
		return nil, fmt.Errorf("%w: unknown format", errCodec)
	}
	d := &decoder{data: data, s: string(data), off: len(codecMagic)}
	nPkgs := d.count(1)
	if d.err != nil {
		return nil, d.err
	}
	pkgs := make([]Package, nPkgs)
	out := make([]*Package, nPkgs)
	for i := range pkgs {
		mask := d.uint()
		if d.err == nil && mask >= 1<<numFields {
			d.err = errCodec
		}
		var v [numFields]string
		for id := range v {
			if mask&(1<<id) != 0 {
				// An empty value is never stored: a bit with an empty value is damage.
				if v[id] = d.str(); v[id] == "" {
					d.err = errCodec
				}
			}
		}
		if d.err != nil {
			return nil, fmt.Errorf("%w: package %d", errCodec, i)
		}
		pkgs[i].Origin = rel
		if err := fillPackage(&pkgs[i], &v); err != nil {
			return nil, fmt.Errorf("%w: %v", errCodec, err)
		}
		out[i] = &pkgs[i]
	}
	if d.off != len(data) {
		return nil, fmt.Errorf("%w: trailing data", errCodec)
	}
	return out, nil
}
