package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"
)

// ImportTracker streams a Security Tracker JSON feed from r into the database at dbPath,
// replacing the tracker records it held. meta says where the feed came from; its digest, counts
// and import time are filled in. A feed that fails validation anywhere leaves the database as it
// was.
func ImportTracker(dbPath string, r io.Reader, meta Meta, now time.Time) (Meta, error) {
	h := sha256.New()
	meta.Source = SourceTracker
	meta.Imported = now.UTC()
	var packages int
	meta, err := replaceSource(dbPath, meta, false, func(put func(Record) error) error {
		n, err := ParseTracker(io.TeeReader(r, h), put)
		packages = n
		if err != nil {
			return fmt.Errorf("tracker feed %s: %w", meta.URL, err)
		}
		// The decoder may stop before the last bytes (whitespace); hash them too so that the
		// digest is the file's.
		_, err = io.Copy(h, r)
		return err
	}, func(m *Meta) { m.SHA256 = hex.EncodeToString(h.Sum(nil)); m.Packages = packages })
	return meta, err
}

// ImportTrackerFile imports a feed saved to disk (air-gapped sites).
func ImportTrackerFile(dbPath, file string, now time.Time) (Meta, error) {
	f, err := os.Open(file)
	if err != nil {
		return Meta{}, fmt.Errorf("tracker feed: %w", err)
	}
	defer f.Close()
	return ImportTracker(dbPath, f, Meta{URL: file}, now)
}
