package scan

import (
	"fmt"
	"os"
)

// ReadSBOMFile reads target as an SBOM (SPDX or CycloneDX JSON) when it is a JSON file.
// isSBOM is false, with no error, when target is something else (a directory, an archive, a
// registry reference): an image for imagesource to open and FromImage to read.
func ReadSBOMFile(target string) (inv *Inventory, isSBOM bool, err error) {
	st, err := os.Stat(target)
	if err != nil || st.IsDir() || st.Size() >= 256<<20 {
		return nil, false, nil
	}
	if data, err := readHead(target); err != nil || len(data) == 0 || data[0] != '{' {
		return nil, false, nil
	}
	all, err := os.ReadFile(target)
	if err != nil {
		return nil, true, fmt.Errorf("scan target: %w", err)
	}
	if !IsSBOM(all) {
		return nil, true, fmt.Errorf("%s: a JSON file that is neither an SPDX nor a CycloneDX SBOM", target)
	}
	inv, err = FromSBOM(all, target)
	return inv, true, err
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
	// Skip leading whitespace before deciding it is JSON.
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b, nil
}
