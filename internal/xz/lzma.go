package xz

import "errors"

// errData marks input that is not valid LZMA2 data; the reader wraps it with where it was found.
var errData = errors.New("corrupt LZMA2 data")

// prob is an adaptive bit probability, in 1/2048ths that the next bit is 0.
type prob uint16

const (
	probInit   = 1 << 10
	moveBits   = 5
	numStates  = 12
	maxPosBits = 4 // pb ≤ 4: 16 position states

	// Distances: slots 0–3 are the distance itself; 4–13 add reverse-coded bits with their own
	// probabilities; from slot 14 the middle bits are direct and the low four aligned.
	endPosModelIndex = 14
	numFullDistances = 1 << (endPosModelIndex >> 1)
	numAlignBits     = 4
	matchMinLen      = 2
)

// rangeDecoder reads the arithmetic-coded bits of one LZMA chunk, held whole in memory: LZMA2
// bounds a chunk to 64 KiB, so the hot loop never waits for input or checks for EOF. Reading
// past the end yields zeros and marks the chunk corrupt, which is checked once at its end.
type rangeDecoder struct {
	in      []byte
	pos     int
	rng     uint32
	code    uint32
	overrun bool
}

func (rc *rangeDecoder) init(in []byte) error {
	if len(in) < 5 || in[0] != 0 {
		return errData
	}
	rc.in, rc.pos, rc.overrun = in, 5, false
	rc.rng = 0xFFFFFFFF
	rc.code = uint32(in[1])<<24 | uint32(in[2])<<16 | uint32(in[3])<<8 | uint32(in[4])
	if rc.code == rc.rng {
		return errData
	}
	return nil
}

// next returns the next input byte for normalization. It is kept out of bit so that bit stays
// small enough to be inlined into the decoding loops.
func (rc *rangeDecoder) next() uint32 {
	if rc.pos < len(rc.in) {
		b := rc.in[rc.pos]
		rc.pos++
		return uint32(b)
	}
	rc.pos++
	rc.overrun = true
	return 0
}

// bit decodes one bit with probability *p and adapts *p. Like the encoder, it normalizes after
// the bit, so a chunk's last bit consumes its last byte.
func (rc *rangeDecoder) bit(p *prob) uint32 {
	bound := (rc.rng >> 11) * uint32(*p)
	var b uint32
	if rc.code < bound {
		rc.rng = bound
		*p += (1<<11 - *p) >> moveBits
	} else {
		rc.rng -= bound
		rc.code -= bound
		*p -= *p >> moveBits
		b = 1
	}
	if rc.rng < 1<<24 {
		rc.rng <<= 8
		rc.code = rc.code<<8 | rc.next()
	}
	return b
}

// direct decodes n bits of probability 1/2.
func (rc *rangeDecoder) direct(n uint32) uint32 {
	var res uint32
	for ; n > 0; n-- {
		rc.rng >>= 1
		rc.code -= rc.rng
		t := 0 - (rc.code >> 31) // all ones when the subtraction went negative: bit 0
		rc.code += rc.rng & t
		res = res<<1 + (t + 1)
		if rc.rng < 1<<24 {
			rc.rng <<= 8
			rc.code = rc.code<<8 | rc.next()
		}
	}
	return res
}

// tree decodes a numBits-bit symbol, most significant bit first. Like the literal loops it
// spells out bit, which the compiler does not inline.
func (rc *rangeDecoder) tree(probs []prob, numBits uint) uint32 {
	m := uint32(1)
	rng, code := rc.rng, rc.code
	for range numBits {
		pr := &probs[m]
		v := uint32(*pr)
		bound := (rng >> 11) * v
		if code < bound {
			rng = bound
			*pr = prob(v + (1<<11-v)>>moveBits)
			m <<= 1
		} else {
			rng -= bound
			code -= bound
			*pr = prob(v - v>>moveBits)
			m = m<<1 | 1
		}
		if rng < 1<<24 {
			rng <<= 8
			code = code<<8 | rc.next()
		}
	}
	rc.rng, rc.code = rng, code
	return m - 1<<numBits
}

// reverseTree decodes a numBits-bit symbol, least significant bit first.
func (rc *rangeDecoder) reverseTree(probs []prob, numBits uint32) uint32 {
	m, sym := uint32(1), uint32(0)
	rng, code := rc.rng, rc.code
	for i := range numBits {
		pr := &probs[m]
		v := uint32(*pr)
		bound := (rng >> 11) * v
		if code < bound {
			rng = bound
			*pr = prob(v + (1<<11-v)>>moveBits)
			m <<= 1
		} else {
			rng -= bound
			code -= bound
			*pr = prob(v - v>>moveBits)
			m = m<<1 | 1
			sym |= 1 << i
		}
		if rng < 1<<24 {
			rng <<= 8
			code = code<<8 | rc.next()
		}
	}
	rc.rng, rc.code = rng, code
	return sym
}

// lenDecoder decodes match lengths 0–271 (plus matchMinLen).
type lenDecoder struct {
	choice, choice2 prob
	low, mid        [1 << maxPosBits][1 << 3]prob
	high            [1 << 8]prob
}

func (l *lenDecoder) reset() {
	l.choice, l.choice2 = probInit, probInit
	for i := range l.low {
		for j := range l.low[i] {
			l.low[i][j], l.mid[i][j] = probInit, probInit
		}
	}
	for i := range l.high {
		l.high[i] = probInit
	}
}

func (l *lenDecoder) decode(rc *rangeDecoder, posState uint32) uint32 {
	if rc.bit(&l.choice) == 0 {
		return rc.tree(l.low[posState][:], 3)
	}
	if rc.bit(&l.choice2) == 0 {
		return 8 + rc.tree(l.mid[posState][:], 3)
	}
	return 16 + rc.tree(l.high[:], 8)
}

// lzmaState is the adaptive model of an LZMA stream; LZMA2 chunks reset it or carry it on.
type lzmaState struct {
	lc, lp, pb uint32
	state      uint32
	rep        [4]uint32

	isMatch    [numStates << maxPosBits]prob
	isRep      [numStates]prob
	isRepG0    [numStates]prob
	isRepG1    [numStates]prob
	isRepG2    [numStates]prob
	isRep0Long [numStates << maxPosBits]prob
	posSlot    [4][1 << 6]prob
	posSpecial [1 + numFullDistances - endPosModelIndex]prob
	align      [1 << numAlignBits]prob
	matchLen   lenDecoder
	repLen     lenDecoder
	literal    []prob
}

// setProps applies an LZMA2 properties byte; LZMA2 requires lc + lp ≤ 4.
func (s *lzmaState) setProps(b byte) error {
	if b > (4*5+4)*9+8 {
		return errData
	}
	s.lc = uint32(b) % 9
	b /= 9
	s.lp = uint32(b) % 5
	s.pb = uint32(b) / 5
	if s.lc+s.lp > 4 {
		return errData
	}
	n := 0x300 << (s.lc + s.lp)
	if cap(s.literal) >= n {
		s.literal = s.literal[:n]
	} else {
		s.literal = make([]prob, n)
	}
	return nil
}

func (s *lzmaState) reset() {
	s.state = 0
	s.rep = [4]uint32{}
	for _, ps := range [][]prob{s.isMatch[:], s.isRep[:], s.isRepG0[:], s.isRepG1[:], s.isRepG2[:],
		s.isRep0Long[:], s.posSpecial[:], s.align[:], s.literal} {
		for i := range ps {
			ps[i] = probInit
		}
	}
	for i := range s.posSlot {
		for j := range s.posSlot[i] {
			s.posSlot[i][j] = probInit
		}
	}
	s.matchLen.reset()
	s.repLen.reset()
}

// decodeChunk decodes exactly n bytes of one LZMA chunk, whose compressed bytes are in, and
// appends them to buf, whose last dictLen bytes (at most the dictionary size) are the history
// matches may refer to. posBase is the stream position of buf[0], for the position-dependent
// contexts. A match may not run past the chunk's end and the range coder must end exactly at
// the end of in with a zero code, as in liblzma.
func (s *lzmaState) decodeChunk(rc *rangeDecoder, buf []byte, n int, posBase uint64, dictSize uint32, dictLen int) ([]byte, error) {
	start := len(buf)
	end := start + n
	// history is how far back a match may reach: the bytes since the dictionary reset, capped
	// by the dictionary size.
	histBase := start - dictLen
	pbMask := uint32(1)<<s.pb - 1
	lpMask := uint32(1)<<s.lp - 1
	lc := s.lc
	state := s.state
	rep0, rep1, rep2, rep3 := s.rep[0], s.rep[1], s.rep[2], s.rep[3]
	pos := start
	buf = buf[:end]
	for pos < end {
		p := uint32(posBase + uint64(pos))
		posState := p & pbMask
		if rc.bit(&s.isMatch[state<<maxPosBits+posState]) == 0 {
			var prev uint32
			if pos > histBase {
				prev = uint32(buf[pos-1])
			}
			probs := s.literal[0x300*((p&lpMask)<<lc+prev>>(8-lc)):][:0x300]
			// The literal loops are most of the decoding time: they keep the coder in locals
			// and spell out bit (which the compiler does not inline).
			sym := uint32(1)
			rng, code := rc.rng, rc.code
			if state >= 7 {
				if int(rep0) >= pos-histBase {
					return nil, errData
				}
				match := uint32(buf[pos-int(rep0)-1])
				for sym < 0x100 {
					mb := (match >> 7) & 1
					match <<= 1
					pr := &probs[(1+mb)<<8+sym]
					v := uint32(*pr)
					bound := (rng >> 11) * v
					var b uint32
					if code < bound {
						rng = bound
						*pr = prob(v + (1<<11-v)>>moveBits)
					} else {
						rng -= bound
						code -= bound
						*pr = prob(v - v>>moveBits)
						b = 1
					}
					if rng < 1<<24 {
						rng <<= 8
						code = code<<8 | rc.next()
					}
					sym = sym<<1 | b
					if mb != b {
						break
					}
				}
			}
			for sym < 0x100 {
				pr := &probs[sym]
				v := uint32(*pr)
				bound := (rng >> 11) * v
				if code < bound {
					rng = bound
					*pr = prob(v + (1<<11-v)>>moveBits)
					sym <<= 1
				} else {
					rng -= bound
					code -= bound
					*pr = prob(v - v>>moveBits)
					sym = sym<<1 | 1
				}
				if rng < 1<<24 {
					rng <<= 8
					code = code<<8 | rc.next()
				}
			}
			rc.rng, rc.code = rng, code
			buf[pos] = byte(sym)
			pos++
			switch {
			case state < 4:
				state = 0
			case state < 10:
				state -= 3
			default:
				state -= 6
			}
			continue
		}
		var length uint32
		if rc.bit(&s.isRep[state]) != 0 {
			if pos-histBase == 0 {
				return nil, errData
			}
			if rc.bit(&s.isRepG0[state]) == 0 {
				if rc.bit(&s.isRep0Long[state<<maxPosBits+posState]) == 0 {
					// Short rep: one byte from rep0.
					if int(rep0) >= pos-histBase {
						return nil, errData
					}
					if state < 7 {
						state = 9
					} else {
						state = 11
					}
					buf[pos] = buf[pos-int(rep0)-1]
					pos++
					continue
				}
			} else {
				var dist uint32
				if rc.bit(&s.isRepG1[state]) == 0 {
					dist = rep1
				} else {
					if rc.bit(&s.isRepG2[state]) == 0 {
						dist = rep2
					} else {
						dist = rep3
						rep3 = rep2
					}
					rep2 = rep1
				}
				rep1 = rep0
				rep0 = dist
			}
			length = s.repLen.decode(rc, posState)
			if state < 7 {
				state = 8
			} else {
				state = 11
			}
		} else {
			rep3, rep2, rep1 = rep2, rep1, rep0
			length = s.matchLen.decode(rc, posState)
			if state < 7 {
				state = 7
			} else {
				state = 10
			}
			rep0 = s.distance(rc, length)
			if rep0 == 0xFFFFFFFF {
				// The end-of-payload marker has no place in LZMA2: chunks carry their size.
				return nil, errData
			}
		}
		length += matchMinLen
		if rep0 >= dictSize || int(rep0) >= pos-histBase || int(length) > end-pos {
			return nil, errData
		}
		// A match closer than its length repeats the last rep0+1 bytes: copying from a fixed
		// start doubles the span copied each round and keeps the period.
		src := pos - int(rep0) - 1
		for n := int(length); n > 0; {
			k := copy(buf[pos:pos+n], buf[src:pos])
			pos += k
			n -= k
		}
	}
	s.state = state
	s.rep = [4]uint32{rep0, rep1, rep2, rep3}
	if rc.overrun || rc.pos != len(rc.in) || rc.code != 0 {
		return nil, errData
	}
	return buf, nil
}

func (s *lzmaState) distance(rc *rangeDecoder, length uint32) uint32 {
	lenState := min(length, 3)
	slot := rc.tree(s.posSlot[lenState][:], 6)
	if slot < 4 {
		return slot
	}
	numDirect := slot>>1 - 1
	dist := (2 | slot&1) << numDirect
	if slot < endPosModelIndex {
		return dist + rc.reverseTree(s.posSpecial[dist-slot:], numDirect)
	}
	dist += rc.direct(numDirect-numAlignBits) << numAlignBits
	return dist + rc.reverseTree(s.align[:], numAlignBits)
}
