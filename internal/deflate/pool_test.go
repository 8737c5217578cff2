package deflate

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestConcurrentPooled compresses many inputs at once from many goroutines through the pooled
// encoders, under several GOMAXPROCS and with the stamps forced to slide, and checks every
// output against the serial one: a compression must not see another's state.
func TestConcurrentPooled(t *testing.T) {
	// skewed(2*pieceSize+5) is cut into pieces, compressed by goroutines of its own.
	inputs := [][]byte{skewed(2*pieceSize + 5), skewed(1 << 20), repeatText(300000), randomBytes(13, 200000), periodic(32768, 200000), nil, []byte("x")}
	want := make([][]byte, len(inputs))
	for i, in := range inputs {
		want[i] = Gzip(in)
	}
	oldRebase, oldProcs := rebaseAt, runtime.GOMAXPROCS(0)
	defer func() { rebaseAt = oldRebase; runtime.GOMAXPROCS(oldProcs) }()
	for _, procs := range []int{1, 4} {
		for _, r := range []int{oldRebase, 100000} {
			runtime.GOMAXPROCS(procs)
			rebaseAt = r // set while no compression runs
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range inputs {
						i := (g + k) % len(inputs)
						if got := Gzip(inputs[i]); !bytes.Equal(got, want[i]) {
							errs <- fmt.Errorf("GOMAXPROCS=%d rebaseAt=%d goroutine %d input %d: output differs", procs, r, g, i)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		}
	}
}

// TestLeftoverState gives the encoder the state a pooled one keeps from earlier inputs, with
// its stamp base anywhere up to and past the clearing point, and stale table entries, and
// checks that the output does not change.
func TestLeftoverState(t *testing.T) {
	// skewed(2*pieceSize+5) is cut into pieces, compressed by goroutines of its own.
	inputs := [][]byte{skewed(2*pieceSize + 5), skewed(1 << 20), repeatText(300000), randomBytes(13, 100000), periodic(32768, 300000)}
	var want [][]byte
	for _, in := range inputs {
		var e encoder
		want = append(want, e.deflate(nil, in, 0, true))
	}
	for _, next := range []int{1, 1 << 29, rebaseAt - 200000, rebaseAt - 65538, rebaseAt - 32769, rebaseAt - 1, rebaseAt, rebaseAt + 1} {
		for i, in := range inputs {
			var e encoder
			e.next = next
			for k := range e.head {
				e.head[k] = int32(max(next-1-k, 0))
			}
			for k := range e.head3 {
				e.head3[k] = int32(max(next-1-3*k, 0))
			}
			for k := range e.prev {
				e.prev[k] = uint16(k * 7919)
			}
			if got := e.deflate(nil, in, 0, true); !bytes.Equal(got, want[i]) {
				t.Errorf("next=%d input %d: output differs", next, i)
			}
		}
	}
}
