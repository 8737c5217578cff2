package jimage

import "sort"

// hashMultiplier is both the FNV-style multiplier and the default seed of the JDK's
// ImageStringsReader.hashCode; the JVM's libjimage computes the same over C strings.
const hashMultiplier = 0x01000193

// hashSeed hashes the modified UTF-8 bytes of name, as Java does over a String's chars: the
// strings table stores names in modified UTF-8 already, so the bytes are the same.
func hashSeed(name string, seed int32) int32 {
	h := uint32(seed)
	for i := 0; i < len(name); i++ {
		h = h*hashMultiplier ^ uint32(name[i])
	}
	return int32(h & 0x7FFFFFFF)
}

func hash(name string) int32 { return hashSeed(name, hashMultiplier) }

// retryLimit and the table growth below are jlink's (PerfectHashBuilder): building the
// table the same way makes the output identical to what jlink writes for the same names.
const retryLimit = 1000

// perfectHash lays names out in a table of at least len(names) slots such that the JDK's
// lookup finds each: slot redirect[hash(name) % n] holds either -1-i, i being the name's
// slot, or a seed s > 0 with which hashSeed(name, s) % n gives the slot. order[i] is the
// index in names of the name in slot i, -1 for an empty slot.
//
// Names must be distinct. Chains of names that collide are placed first, longest first,
// each with the first seed that spreads it over free slots; single names then fill the free
// slots in order. If a chain cannot be placed the table grows to the next odd size.
func perfectHash(names []string) (redirect []int32, order []int) {
	count := len(names)
	if count == 0 {
		return nil, nil
	}
	hashes := make([]int32, len(names))
	for i, n := range names {
		hashes[i] = hash(n)
	}
	for {
		redirect, order = make([]int32, count), make([]int, count)
		for i := range order {
			order[i] = -1
		}
		if placeAll(names, hashes, redirect, order) {
			return redirect, order
		}
		count = (count + 1) | 1
	}
}

func placeAll(names []string, hashes []int32, redirect []int32, order []int) bool {
	count := int32(len(order))
	buckets := make([][]int, count)
	for i, h := range hashes {
		b := h % count
		buckets[b] = append(buckets[b], i)
	}
	// Buckets in index order, then longest first: Java's stable sort of the bucket array.
	var sorted []int32
	for b := range buckets {
		if len(buckets[b]) > 0 {
			sorted = append(sorted, int32(b))
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return len(buckets[sorted[i]]) > len(buckets[sorted[j]]) })

	free := 0
	placed := make([]int, 0, 8)
	for _, b := range sorted {
		chain := buckets[b]
		if len(chain) == 1 {
			for free < len(order) && order[free] >= 0 {
				free++
			}
			if free >= len(order) {
				return false
			}
			order[free] = chain[0]
			redirect[b] = int32(-1 - free)
			free++
			continue
		}
		seed := int32(hashMultiplier + 1)
		retry := 0
	again:
		placed = placed[:0]
		for _, i := range chain {
			slot := hashSeed(names[i], seed) % count
			if order[slot] >= 0 {
				retry++
				if retry > retryLimit {
					for _, s := range placed {
						order[s] = -1
					}
					return false
				}
				for _, s := range placed {
					order[s] = -1
				}
				seed++
				if seed == 0 {
					seed = 1
				}
				goto again
			}
			order[slot] = i
			placed = append(placed, int(slot))
		}
		redirect[b] = seed
	}
	return true
}
