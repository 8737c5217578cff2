package scan

import (
	"fmt"
	"os"
	"runtime"

	"github.com/spartan-images/spartan/internal/imageref"
)

// Load reads a target: an SBOM file (SPDX or CycloneDX JSON), an OCI layout directory, a
// docker archive or a registry reference. arch picks the image of a multi-arch image ("": the
// only one, else the host's).
func Load(target, arch string, opts ...Option) (*Inventory, error) {
	if st, err := os.Stat(target); err == nil && !st.IsDir() && st.Size() < 256<<20 {
		if data, err := readHead(target); err == nil && len(data) > 0 && data[0] == '{' {
			all, err := os.ReadFile(target)
			if err != nil {
				return nil, fmt.Errorf("scan target: %w", err)
			}
			if IsSBOM(all) {
				return FromSBOM(all, target)
			}
			return nil, fmt.Errorf("%s: a JSON file that is neither an SPDX nor a CycloneDX SBOM", target)
		}
	}
	img, release, err := imageref.LoadImage(target, arch)
	if err != nil && arch == "" {
		// A multi-arch layout: the host's architecture is the likely question.
		if host, hostRelease, herr := imageref.LoadImage(target, runtime.GOARCH); herr == nil {
			img, release, err = host, hostRelease, nil
		}
	}
	if err != nil {
		return nil, err
	}
	defer release()
	return FromImage(img, target, opts...)
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 64)
	n, _ := f.Read(b)
	b = b[:n]
	// Skip leading whitespace (and a UTF-8 BOM) before deciding it is JSON.
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b, nil
}
