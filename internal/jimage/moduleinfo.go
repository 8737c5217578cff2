package jimage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Access flags of the Module attribute (JVMS 4.7.25).
const (
	accOpen        = 0x0020 // module
	accTransitive  = 0x0020 // requires
	accStaticPhase = 0x0040 // requires: needed at compile time, optional at run time
	accSynthetic   = 0x1000
	accMandated    = 0x8000
)

// Flags of the ModuleResolution attribute.
const (
	doNotResolveByDefault = 0x0001
	warnIncubating        = 0x0008
)

type requires struct {
	name    string
	flags   uint16
	version string // compiled version, "" if none
}

// export is an exports or opens directive.
type export struct {
	pkg     string // dotted
	flags   uint16
	targets []string
}

type provides struct {
	service   string   // binary name
	providers []string // binary names
}

// moduleInfo is what a module-info.class says, as java.lang.module.ModuleDescriptor and
// the JDK's attributes (ModulePackages, ModuleMainClass, ModuleTarget, ModuleHashes,
// ModuleResolution) hold it. Names stay in the class file's modified UTF-8, as the image's
// strings do.
type moduleInfo struct {
	name        string
	flags       uint16
	version     string
	requires    []requires
	exports     []export
	opens       []export
	uses        []string
	provides    []provides
	packages    []string // from ModulePackages; nil if the attribute is absent
	hasPackages bool
	mainClass   string
	target      string // ModuleTarget's platform, "" if none
	hasTarget   bool
	hashAlg     string
	hashes      []moduleHash // nil if no ModuleHashes
	hasHashes   bool
	resolution  uint16
	hasResolve  bool
}

type moduleHash struct {
	module string
	hash   []byte
}

var errClass = errors.New("malformed module-info.class")

// classReader reads a class file big-endian, failing (not panicking) past the end.
type classReader struct {
	b   []byte
	p   int
	err error
}

func (r *classReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.p {
		r.err = fmt.Errorf("%w: truncated at byte %d", errClass, r.p)
		return nil
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s
}

func (r *classReader) u1() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *classReader) u2() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *classReader) u4() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// Constant pool tags (JVMS 4.4).
const (
	tagUtf8               = 1
	tagInteger            = 3
	tagFloat              = 4
	tagLong               = 5
	tagDouble             = 6
	tagClass              = 7
	tagString             = 8
	tagFieldref           = 9
	tagMethodref          = 10
	tagInterfaceMethodref = 11
	tagNameAndType        = 12
	tagMethodHandle       = 15
	tagMethodType         = 16
	tagDynamic            = 17
	tagInvokeDynamic      = 18
	tagModule             = 19
	tagPackage            = 20
)

type constantPool struct {
	tags []uint8
	utf8 []string
	ref  []uint16 // the name index of Class, Module and Package constants
}

func (cp *constantPool) get(i uint16, tag uint8, what string) (string, error) {
	if int(i) >= len(cp.tags) || cp.tags[i] != tag {
		return "", fmt.Errorf("%w: constant %d is not a %s", errClass, i, what)
	}
	if tag == tagUtf8 {
		return cp.utf8[i], nil
	}
	n := cp.ref[i]
	if int(n) >= len(cp.tags) || cp.tags[n] != tagUtf8 {
		return "", fmt.Errorf("%w: constant %d is not a %s", errClass, i, what)
	}
	return cp.utf8[n], nil
}

func (cp *constantPool) utf(i uint16) (string, error) { return cp.get(i, tagUtf8, "string") }
func (cp *constantPool) module(i uint16) (string, error) {
	return cp.get(i, tagModule, "module name")
}

// class and pkg return binary (dotted) names, as ModuleDescriptor holds them.
func (cp *constantPool) class(i uint16) (string, error) {
	s, err := cp.get(i, tagClass, "class name")
	return strings.ReplaceAll(s, "/", "."), err
}

func (cp *constantPool) pkg(i uint16) (string, error) {
	s, err := cp.get(i, tagPackage, "package name")
	return strings.ReplaceAll(s, "/", "."), err
}

// optUtf reads an optional string: index 0 means absent.
func (cp *constantPool) optUtf(i uint16) (string, error) {
	if i == 0 {
		return "", nil
	}
	return cp.utf(i)
}

func readConstantPool(r *classReader) (*constantPool, error) {
	count := int(r.u2())
	cp := &constantPool{tags: make([]uint8, count), utf8: make([]string, count), ref: make([]uint16, count)}
	for i := 1; i < count && r.err == nil; i++ {
		cp.tags[i] = r.u1()
		switch cp.tags[i] {
		case tagUtf8:
			cp.utf8[i] = string(r.take(int(r.u2())))
		case tagModule, tagClass, tagPackage:
			cp.ref[i] = r.u2()
		case tagString, tagMethodType:
			r.take(2)
		case tagMethodHandle:
			r.take(3)
		case tagInteger, tagFloat, tagFieldref, tagMethodref, tagInterfaceMethodref,
			tagNameAndType, tagDynamic, tagInvokeDynamic:
			r.take(4)
		case tagLong, tagDouble:
			r.take(8)
			i++ // takes two entries
		default:
			if r.err == nil {
				return nil, fmt.Errorf("%w: unknown constant pool tag %d at entry %d", errClass, cp.tags[i], i)
			}
		}
	}
	return cp, r.err
}

// parseModuleInfo reads a module-info.class.
func parseModuleInfo(b []byte) (*moduleInfo, error) {
	r := &classReader{b: b}
	if r.u4() != 0xCAFEBABE {
		if r.err != nil {
			return nil, r.err
		}
		return nil, fmt.Errorf("%w: no class file magic number", errClass)
	}
	r.take(4) // minor, major version
	cp, err := readConstantPool(r)
	if err != nil {
		return nil, err
	}
	r.take(6) // access flags, this class, super class
	r.take(2 * int(r.u2()))
	for range 2 { // fields, methods
		for n := int(r.u2()); n > 0 && r.err == nil; n-- {
			r.take(6)
			for a := int(r.u2()); a > 0 && r.err == nil; a-- {
				r.take(2)
				r.take(int(r.u4()))
			}
		}
	}
	var mi *moduleInfo
	attrs := map[string][]byte{}
	for n := int(r.u2()); n > 0 && r.err == nil; n-- {
		nameIdx := r.u2()
		body := r.take(int(r.u4()))
		if r.err != nil {
			break
		}
		name, err := cp.utf(nameIdx)
		if err != nil {
			return nil, err
		}
		attrs[name] = body
	}
	if r.err != nil {
		return nil, r.err
	}
	body, ok := attrs["Module"]
	if !ok {
		return nil, fmt.Errorf("%w: no Module attribute", errClass)
	}
	if mi, err = parseModuleAttribute(cp, body); err != nil {
		return nil, fmt.Errorf("in the Module attribute: %w", err)
	}
	if body, ok := attrs["ModulePackages"]; ok {
		a := &classReader{b: body}
		mi.hasPackages = true
		for n := int(a.u2()); n > 0 && a.err == nil; n-- {
			p, err := cp.pkg(a.u2())
			if err != nil && a.err == nil {
				return nil, err
			}
			mi.packages = append(mi.packages, p)
		}
		if a.err != nil {
			return nil, fmt.Errorf("in the ModulePackages attribute: %w", a.err)
		}
	}
	if body, ok := attrs["ModuleMainClass"]; ok {
		a := &classReader{b: body}
		idx := a.u2()
		if a.err != nil {
			return nil, fmt.Errorf("in the ModuleMainClass attribute: %w", a.err)
		}
		if mi.mainClass, err = cp.class(idx); err != nil {
			return nil, err
		}
	}
	if body, ok := attrs["ModuleTarget"]; ok {
		a := &classReader{b: body}
		idx := a.u2()
		if a.err != nil {
			return nil, fmt.Errorf("in the ModuleTarget attribute: %w", a.err)
		}
		mi.hasTarget = true
		if mi.target, err = cp.optUtf(idx); err != nil {
			return nil, err
		}
	}
	if body, ok := attrs["ModuleHashes"]; ok {
		a := &classReader{b: body}
		mi.hasHashes = true
		if mi.hashAlg, err = cp.utf(a.u2()); err != nil && a.err == nil {
			return nil, err
		}
		for n := int(a.u2()); n > 0 && a.err == nil; n-- {
			m, err := cp.module(a.u2())
			h := a.take(int(a.u2()))
			if a.err != nil {
				break
			}
			if err != nil {
				return nil, err
			}
			mi.hashes = append(mi.hashes, moduleHash{module: m, hash: h})
		}
		if a.err != nil {
			return nil, fmt.Errorf("in the ModuleHashes attribute: %w", a.err)
		}
	}
	if body, ok := attrs["ModuleResolution"]; ok {
		a := &classReader{b: body}
		mi.resolution = a.u2()
		if a.err != nil {
			return nil, fmt.Errorf("in the ModuleResolution attribute: %w", a.err)
		}
		mi.hasResolve = true
	}
	return mi, nil
}

func parseModuleAttribute(cp *constantPool, body []byte) (*moduleInfo, error) {
	a := &classReader{b: body}
	nameIdx, flags, versionIdx := a.u2(), a.u2(), a.u2()
	if a.err != nil {
		return nil, a.err
	}
	mi := &moduleInfo{flags: flags}
	var err error
	if mi.name, err = cp.module(nameIdx); err != nil {
		return nil, err
	}
	if mi.version, err = cp.optUtf(versionIdx); err != nil {
		return nil, err
	}
	for n := int(a.u2()); n > 0 && a.err == nil; n-- {
		idx, flags, vIdx := a.u2(), a.u2(), a.u2()
		if a.err != nil {
			break
		}
		var rq requires
		if rq.name, err = cp.module(idx); err != nil {
			return nil, err
		}
		if rq.version, err = cp.optUtf(vIdx); err != nil {
			return nil, err
		}
		rq.flags = flags
		mi.requires = append(mi.requires, rq)
	}
	for _, dst := range []*[]export{&mi.exports, &mi.opens} {
		for n := int(a.u2()); n > 0 && a.err == nil; n-- {
			idx, flags := a.u2(), a.u2()
			e := export{flags: flags}
			if a.err == nil {
				if e.pkg, err = cp.pkg(idx); err != nil {
					return nil, err
				}
			}
			for t := int(a.u2()); t > 0 && a.err == nil; t-- {
				idx := a.u2()
				if a.err != nil {
					break
				}
				m, err := cp.module(idx)
				if err != nil {
					return nil, err
				}
				e.targets = append(e.targets, m)
			}
			*dst = append(*dst, e)
		}
	}
	for n := int(a.u2()); n > 0 && a.err == nil; n-- {
		idx := a.u2()
		if a.err != nil {
			break
		}
		s, err := cp.class(idx)
		if err != nil {
			return nil, err
		}
		mi.uses = append(mi.uses, s)
	}
	for n := int(a.u2()); n > 0 && a.err == nil; n-- {
		idx := a.u2()
		var p provides
		if a.err == nil {
			if p.service, err = cp.class(idx); err != nil {
				return nil, err
			}
		}
		for w := int(a.u2()); w > 0 && a.err == nil; w-- {
			idx := a.u2()
			if a.err != nil {
				break
			}
			s, err := cp.class(idx)
			if err != nil {
				return nil, err
			}
			p.providers = append(p.providers, s)
		}
		mi.provides = append(mi.provides, p)
	}
	if a.err != nil {
		return nil, a.err
	}
	return mi, nil
}
