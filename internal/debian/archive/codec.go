package archive

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/spartan-images/spartan/internal/debian/control"
)

// The parsed-index cache format. Only the stanzas are stored; typed fields are rebuilt with
// fillPackage so a cached index can never disagree with a freshly parsed one. Layout, all
// integers uvarint:
//
//	magic
//	nNames, then each field name: len, bytes   (names repeat in every stanza: stored once)
//	nPackages, nFieldsTotal
//	per package: nFields, then per field: name index, value len, value bytes
//
// Decoding copies the data into one string and slices every name and value out of it, and
// allocates the fields and packages in one slab each: a warm load of a 65,000-package index
// is a few large allocations instead of millions of small ones.
const codecMagic = "spartan-packages-v1\n"

func encodePackages(pkgs []*Package) []byte {
	names := map[string]uint64{}
	var nameList []string
	total := 0
	size := len(codecMagic) + 32
	for _, p := range pkgs {
		total += len(p.Stanza.Fields)
		for _, f := range p.Stanza.Fields {
			if _, ok := names[f.Name]; !ok {
				names[f.Name] = uint64(len(nameList))
				nameList = append(nameList, f.Name)
				size += len(f.Name) + 4
			}
			size += len(f.Value) + 6
		}
		size += 3
	}
	b := make([]byte, 0, size)
	b = append(b, codecMagic...)
	b = binary.AppendUvarint(b, uint64(len(nameList)))
	for _, n := range nameList {
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	b = binary.AppendUvarint(b, uint64(len(pkgs)))
	b = binary.AppendUvarint(b, uint64(total))
	for _, p := range pkgs {
		b = binary.AppendUvarint(b, uint64(len(p.Stanza.Fields)))
		for _, f := range p.Stanza.Fields {
			b = binary.AppendUvarint(b, names[f.Name])
			b = binary.AppendUvarint(b, uint64(len(f.Value)))
			b = append(b, f.Value...)
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
	names := make([]string, d.count(1))
	for i := range names {
		names[i] = d.str()
	}
	nPkgs := d.count(1)
	nFields := d.count(2)
	if d.err != nil {
		return nil, d.err
	}
	slab := make([]control.Field, nFields)
	pkgs := make([]Package, nPkgs)
	out := make([]*Package, nPkgs)
	used := 0
	for i := range pkgs {
		n := d.count(2)
		if d.err != nil || n > nFields-used {
			return nil, fmt.Errorf("%w: field count", errCodec)
		}
		// Capacity is capped so Paragraph.Set on one package appends into a new array
		// instead of overwriting the next package's fields.
		fields := slab[used : used+n : used+n]
		used += n
		for j := range fields {
			k := d.uint()
			if d.err == nil && k >= uint64(len(names)) {
				d.err = errCodec
			}
			v := d.str()
			if d.err != nil {
				return nil, fmt.Errorf("%w: package %d", errCodec, i)
			}
			fields[j] = control.Field{Name: names[k], Value: v}
		}
		pkgs[i].Origin = rel
		if err := fillPackage(&pkgs[i], control.Paragraph{Fields: fields}); err != nil {
			return nil, fmt.Errorf("%w: %v", errCodec, err)
		}
		out[i] = &pkgs[i]
	}
	if d.off != len(data) || used != nFields {
		return nil, fmt.Errorf("%w: trailing data", errCodec)
	}
	return out, nil
}
