package deflate

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestGoldenGzip pins the output bytes, and so every layer digest, on both sides of
// pieceSize. An input of pieceSize bytes or less is one piece: its output is that of the
// serial encoder before pieces existed (the first row was computed with it, at 7244ed3).
// Longer inputs were given new bytes, on purpose, when they started to be cut into
// pieces (the second and third rows). A failure here means every image built from the
// same packages gets a new digest: update the pins only for a deliberate change, and say
// so in the commit.
func TestGoldenGzip(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{pieceSize, "4a14edf673d64ac5aa491b1a9b2d28082a9fb4ec19fe5f4c97e3f06dcd59725e"},
		{pieceSize + 1, "c717442867f0c5c7d8fc2cc82e5a0669911bf8ba2405db9aa9eb7de9ca833de9"},
		{3*pieceSize + 777, "9803b8305a82e067212404787dee62f0066550ff0d2f7b20af36d5798c15bae5"},
	} {
		sum := sha256.Sum256(Gzip(skewed(tc.n)))
		if got := hex.EncodeToString(sum[:]); got != tc.want {
			t.Errorf("Gzip(skewed(%d)): sha256 %s, want %s", tc.n, got, tc.want)
		}
	}
}
