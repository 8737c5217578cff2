package jimage

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// A minimal class file writer, enough for the straight-line methods of the SystemModules
// classes: no branches, so no StackMapTable, and no local variables beyond "this".

// classVersion is Java 8's: the lowest that may invoke static interface methods (Set.of,
// Map.entry…), which the generated code calls.
const classVersion = 52

const (
	accPublic  = 0x0001
	accPrivate = 0x0002
	accStatic  = 0x0008
	accFinal   = 0x0010
	accSuper   = 0x0020
)

type classFile struct {
	name    string
	pool    []byte
	count   int
	index   map[string]uint16
	methods []byte
	nmeth   int
	err     error
}

func newClassFile(name string) *classFile {
	return &classFile{name: name, count: 1, index: map[string]uint16{}}
}

// constant adds a pool entry once, keyed by its encoding.
func (c *classFile) constant(entry []byte) uint16 {
	key := string(entry)
	if i, ok := c.index[key]; ok {
		return i
	}
	if c.count >= 0xFFFF {
		c.fail("more than 65535 constants")
		return 0
	}
	i := uint16(c.count)
	c.count++
	c.pool = append(c.pool, entry...)
	c.index[key] = i
	return i
}

func (c *classFile) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("class %s: %s", c.name, fmt.Sprintf(format, args...))
	}
}

// utf8 takes s already in modified UTF-8, as every name here comes from a class file or
// the image's strings.
func (c *classFile) utf8(s string) uint16 {
	if len(s) > 0xFFFF {
		c.fail("constant string of %d bytes", len(s))
		return 0
	}
	b := []byte{tagUtf8, byte(len(s) >> 8), byte(len(s))}
	return c.constant(append(b, s...))
}

func (c *classFile) ref(tag byte, a, b uint16) uint16 {
	if tag == tagClass || tag == tagString || tag == tagModule || tag == tagPackage {
		return c.constant([]byte{tag, byte(a >> 8), byte(a)})
	}
	return c.constant([]byte{tag, byte(a >> 8), byte(a), byte(b >> 8), byte(b)})
}

func (c *classFile) class(name string) uint16 { return c.ref(tagClass, c.utf8(name), 0) }
func (c *classFile) str(s string) uint16      { return c.ref(tagString, c.utf8(s), 0) }

func (c *classFile) integer(v int32) uint16 {
	return c.constant(binary.BigEndian.AppendUint32([]byte{tagInteger}, uint32(v)))
}

func (c *classFile) member(tag byte, owner, name, desc string) uint16 {
	nt := c.ref(tagNameAndType, c.utf8(name), c.utf8(desc))
	return c.ref(tag, c.class(owner), nt)
}

// method adds a method whose body is code.
func (c *classFile) method(flags uint16, name, desc string, code *code) {
	if len(code.b) > 0xFFFF {
		c.fail("method %s is %d bytes long", name, len(code.b))
		return
	}
	locals := 1
	if flags&accStatic != 0 {
		locals = 0
	}
	m := binary.BigEndian.AppendUint16(nil, flags)
	m = binary.BigEndian.AppendUint16(m, c.utf8(name))
	m = binary.BigEndian.AppendUint16(m, c.utf8(desc))
	m = binary.BigEndian.AppendUint16(m, 1)
	m = binary.BigEndian.AppendUint16(m, c.utf8("Code"))
	m = binary.BigEndian.AppendUint32(m, uint32(12+len(code.b)))
	m = binary.BigEndian.AppendUint16(m, uint16(code.maxDepth))
	m = binary.BigEndian.AppendUint16(m, uint16(locals))
	m = binary.BigEndian.AppendUint32(m, uint32(len(code.b)))
	m = append(m, code.b...)
	m = append(m, 0, 0, 0, 0) // no exception table, no attributes
	c.methods = append(c.methods, m...)
	c.nmeth++
}

// bytes returns the class file of a final class extending Object.
func (c *classFile) bytes(flags uint16, interfaces ...string) ([]byte, error) {
	this := c.class(c.name)
	super := c.class("java/lang/Object")
	ifaces := make([]uint16, len(interfaces))
	for i, n := range interfaces {
		ifaces[i] = c.class(n)
	}
	if c.err != nil {
		return nil, c.err
	}
	b := binary.BigEndian.AppendUint32(nil, 0xCAFEBABE)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, classVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(c.count))
	b = append(b, c.pool...)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, this)
	b = binary.BigEndian.AppendUint16(b, super)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ifaces)))
	for _, i := range ifaces {
		b = binary.BigEndian.AppendUint16(b, i)
	}
	b = binary.BigEndian.AppendUint16(b, 0) // fields
	b = binary.BigEndian.AppendUint16(b, uint16(c.nmeth))
	b = append(b, c.methods...)
	b = binary.BigEndian.AppendUint16(b, 0) // attributes
	return b, nil
}

// code is a method body, tracking the operand stack depth for max_stack.
type code struct {
	cf       *classFile
	b        []byte
	depth    int
	maxDepth int
}

func (c *classFile) code() *code { return &code{cf: c} }

func (k *code) op(delta int, b ...byte) *code {
	k.b = append(k.b, b...)
	k.depth += delta
	k.maxDepth = max(k.maxDepth, k.depth)
	return k
}

func (k *code) u2op(delta int, opcode byte, i uint16) *code {
	return k.op(delta, opcode, byte(i>>8), byte(i))
}

const (
	opIconst0       = 0x03
	opBipush        = 0x10
	opSipush        = 0x11
	opLdc           = 0x12
	opLdcW          = 0x13
	opAload0        = 0x2a
	opAastore       = 0x53
	opBastore       = 0x54
	opDup           = 0x59
	opIreturn       = 0xac
	opAreturn       = 0xb0
	opReturn        = 0xb1
	opGetstatic     = 0xb2
	opInvokevirtual = 0xb6
	opInvokespecial = 0xb7
	opInvokestatic  = 0xb8
	opNew           = 0xbb
	opNewarray      = 0xbc
	opAnewarray     = 0xbd
	tByte           = 8
)

func (k *code) aload0() *code  { return k.op(1, opAload0) }
func (k *code) dup() *code     { return k.op(1, opDup) }
func (k *code) aastore() *code { return k.op(-3, opAastore) }
func (k *code) bastore() *code { return k.op(-3, opBastore) }
func (k *code) areturn() *code { return k.op(-1, opAreturn) }
func (k *code) ireturn() *code { return k.op(-1, opIreturn) }
func (k *code) ret() *code     { return k.op(0, opReturn) }

func (k *code) iconst(v int) *code {
	switch {
	case v >= -1 && v <= 5:
		return k.op(1, byte(opIconst0+v))
	case v >= -128 && v <= 127:
		return k.op(1, opBipush, byte(int8(v)))
	case v >= -32768 && v <= 32767:
		return k.op(1, opSipush, byte(uint16(v)>>8), byte(v))
	}
	return k.ldc(k.cf.integer(int32(v)))
}

func (k *code) ldc(i uint16) *code {
	if i < 256 {
		return k.op(1, opLdc, byte(i))
	}
	return k.u2op(1, opLdcW, i)
}

func (k *code) str(s string) *code { return k.ldc(k.cf.str(s)) }

func (k *code) new(class string) *code { return k.u2op(1, opNew, k.cf.class(class)) }

func (k *code) anewarray(class string) *code { return k.u2op(0, opAnewarray, k.cf.class(class)) }

func (k *code) newByteArray() *code { return k.op(0, opNewarray, tByte) }

func (k *code) getstatic(owner, name, desc string) *code {
	return k.u2op(1, opGetstatic, k.cf.member(tagFieldref, owner, name, desc))
}

// invoke calls a method, popping its arguments (and receiver) and pushing its result.
func (k *code) invoke(opcode byte, owner, name, desc string, iface bool) *code {
	tag := byte(tagMethodref)
	if iface {
		tag = tagInterfaceMethodref
	}
	args, ret := descriptorSlots(desc)
	delta := ret - args
	if opcode != opInvokestatic {
		delta--
	}
	return k.u2op(delta, opcode, k.cf.member(tag, owner, name, desc))
}

// descriptorSlots counts the argument and result slots of a method descriptor that has no
// long or double.
func descriptorSlots(desc string) (args, ret int) {
	end := strings.IndexByte(desc, ')')
	for i := 1; i < end; i++ {
		for desc[i] == '[' {
			i++
		}
		if desc[i] == 'L' {
			i += strings.IndexByte(desc[i:], ';')
		}
		args++
	}
	if desc[end+1:] != "V" {
		ret = 1
	}
	return args, ret
}
