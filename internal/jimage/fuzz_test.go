package jimage

import (
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"testing"
)

// smallImage is a two-module image, small enough for the fuzzer to mutate usefully.
func smallImage(t testing.TB, order byteOrder) []byte {
	mods := []testModule{
		{name: javaBase, exports: []export{exp("java.lang")}, packages: []string{"java.lang", "jdk.internal.module"},
			classes: []string{"jdk/internal/module/SystemModulesMap.class", "jdk/internal/module/SystemModules$all.class"}},
		{name: "m", exports: []export{exp("p")}, packages: []string{"p"}, mainClass: "p.Main"},
	}
	return buildImage(t, order, testResources(mods))
}

func FuzzModules(f *testing.F) {
	f.Add(smallImage(f, binary.LittleEndian))
	f.Add(smallImage(f, binary.BigEndian))
	f.Fuzz(func(t *testing.T, data []byte) {
		mods, err := Modules(data)
		if err == nil && !sort.StringsAreSorted(mods) {
			t.Errorf("Modules = %v, not sorted", mods)
		}
	})
}

func FuzzRemoveModules(f *testing.F) {
	f.Add(smallImage(f, binary.LittleEndian), "m")
	f.Add(smallImage(f, binary.BigEndian), "m java.base")
	f.Fuzz(func(t *testing.T, data []byte, drop string) {
		out, kept, err := RemoveModules(data, strings.Fields(drop))
		if err != nil {
			return
		}
		got, err := Modules(out)
		if err != nil {
			t.Fatalf("the output does not parse: %v", err)
		}
		if !slices.Equal(got, kept) {
			t.Errorf("Modules(out) = %v, kept %v", got, kept)
		}
	})
}
