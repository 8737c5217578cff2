package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spartan-images/spartan/internal/debian/version"
)

// DefaultFile is the database's name inside Spartan's cache directory.
const DefaultFile = "vuln.db"

// The database layout: bucket "meta" maps a source to its Meta (JSON); bucket "data" holds one
// bucket per source, in it one per release codename, one per source package, and CVE → Record
// (JSON). Sources are kept apart so that re-importing one replaces exactly its records.
// Descriptions, the same for every release, are stored once in bucket "desc" (source →
// package → CVE), which keeps the file at about twice the feed's size instead of four times.
var (
	bucketMeta = []byte("meta")
	bucketData = []byte("data")
	bucketDesc = []byte("desc")
)

// stored is a Record as the database keeps it: what the bucket path (source, release, package)
// and key (CVE) already say is left out, and the field names are short.
type stored struct {
	Status       string `json:"s"`
	FixedVersion string `json:"f,omitempty"`
	Urgency      string `json:"u,omitempty"`
	NoDSA        string `json:"n,omitempty"`
	NoDSAReason  string `json:"r,omitempty"`
	Scope        string `json:"c,omitempty"`
	Advisory     string `json:"a,omitempty"`
	DebianBug    int64  `json:"b,omitempty"`
	NextPointFix string `json:"p,omitempty"`
	Published    string `json:"d,omitempty"`
}

func encodeRecord(r Record) ([]byte, error) {
	return json.Marshal(stored{Status: r.Status, FixedVersion: r.FixedVersion, Urgency: r.Urgency, NoDSA: r.NoDSA,
		NoDSAReason: r.NoDSAReason, Scope: r.Scope, Advisory: r.Advisory, DebianBug: r.DebianBug, NextPointFix: r.NextPointFix, Published: r.Published})
}

func decodeRecord(v []byte, source, release, pkg, cve string) (Record, error) {
	var s stored
	if err := json.Unmarshal(v, &s); err != nil {
		return Record{}, err
	}
	return Record{CVE: cve, Package: pkg, Release: release, Source: source, Status: s.Status, FixedVersion: s.FixedVersion,
		Urgency: s.Urgency, NoDSA: s.NoDSA, NoDSAReason: s.NoDSAReason, Scope: s.Scope, Advisory: s.Advisory,
		DebianBug: s.DebianBug, NextPointFix: s.NextPointFix, Published: s.Published}, nil
}

// sourceOrder is the precedence when two sources know the same CVE for the same package and
// release: the tracker is Debian's own triage, OSV is derived from it and from advisories.
var sourceOrder = []string{SourceTracker, SourceOSV, SourceAlpineSecDB}

// Meta describes one imported source.
type Meta struct {
	Source       string    `json:"source"`
	URL          string    `json:"url,omitempty"` // where it was downloaded from, or the imported file
	SHA256       string    `json:"sha256"`        // of the bytes imported
	Imported     time.Time `json:"imported"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Packages     int       `json:"packages"`
	Records      int       `json:"records"`
}

// DB is an open, read-only view of the database.
type DB struct {
	bolt *bolt.DB
	Path string
}

// ErrNoDatabase is returned by Open when there is no database yet.
var ErrNoDatabase = errors.New("no vulnerability database")

// Open opens the database read-only, so that several scans can share it while an update writes
// the next one beside it.
func Open(path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: run `spartan db update` (or `spartan db import FILE` without network)", ErrNoDatabase, path)
		}
		return nil, fmt.Errorf("vulnerability database %s: %w", path, err)
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w", path, err)
	}
	return &DB{bolt: b, Path: path}, nil
}

// OpenOptional opens the database for a command that works without one and uses it when it
// is there. required says the path was asked for explicitly (--db): then a missing database
// is an error like any other. Otherwise a missing one gives (nil, nil), after telling note
// (when not nil) why, so that the command can say what it does instead.
func OpenOptional(path string, required bool, note func(missing error)) (*DB, error) {
	db, err := Open(path)
	if errors.Is(err, ErrNoDatabase) && !required {
		if note != nil {
			note(err)
		}
		return nil, nil
	}
	return db, err
}

// Close releases the database.
func (d *DB) Close() error { return d.bolt.Close() }

// Meta lists the imported sources.
func (d *DB) Meta() ([]Meta, error) {
	var out []Meta
	err := d.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var m Meta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("metadata of %s: %w", k, err)
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

// MetaFor is one source's metadata; ok is false when the source was never imported.
func (d *DB) MetaFor(source string) (m Meta, ok bool, err error) {
	all, err := d.Meta()
	for _, x := range all {
		if x.Source == source {
			return x, true, err
		}
	}
	return Meta{}, false, err
}

// Lookup returns what the database knows about a source package in a release, one record per
// CVE (the tracker's when both sources have one), sorted by CVE id.
//
// The publication date is the one thing the tracker lacks: a record that wins takes it from
// the other source's record of the same CVE.
func (d *DB) Lookup(release, pkg string) ([]Record, error) {
	seen := map[string]int{}
	var out []Record
	err := d.bolt.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		if data == nil {
			return nil
		}
		descs := tx.Bucket(bucketDesc)
		for _, src := range sourceOrder {
			b := nested(data, src, release, pkg)
			if b == nil {
				continue
			}
			var db *bolt.Bucket
			if descs != nil {
				db = nested(descs, src, pkg)
			}
			err := b.ForEach(func(k, v []byte) error {
				i, dup := seen[string(k)]
				if dup && out[i].Published != "" {
					return nil
				}
				r, err := decodeRecord(v, src, release, pkg, string(k))
				if err != nil {
					return fmt.Errorf("record %s/%s/%s/%s: %w", src, release, pkg, k, err)
				}
				if dup {
					out[i].Published = r.Published
					return nil
				}
				if db != nil {
					r.Description = string(db.Get(k))
				}
				seen[string(k)] = len(out)
				out = append(out, r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CVE < out[j].CVE })
	return out, err
}

// Releases lists the release codenames the database has data for.
func (d *DB) Releases() ([]string, error) {
	set := map[string]bool{}
	err := d.bolt.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		if data == nil {
			return nil
		}
		for _, src := range sourceOrder {
			if b := data.Bucket([]byte(src)); b != nil {
				_ = b.ForEachBucket(func(k []byte) error { set[string(k)] = true; return nil })
			}
		}
		return nil
	})
	return slices.Sorted(func(yield func(string) bool) {
		for k := range set {
			if !yield(k) {
				return
			}
		}
	}), err
}

func nested(b *bolt.Bucket, names ...string) *bolt.Bucket {
	for _, n := range names {
		if b = b.Bucket([]byte(n)); b == nil {
			return nil
		}
	}
	return b
}

// batchSize bounds how many records one write transaction holds: bbolt keeps a transaction's
// dirty pages in memory, so committing in batches keeps an import's memory flat.
const batchSize = 2000

// fillPercent packs pages full: the database is written once and then only read, so the
// room bbolt leaves by default for later inserts would only make the file twice as large.
const fillPercent = 1.0

// writer fills a fresh database file in batched transactions.
type writer struct {
	db      *bolt.DB
	tx      *bolt.Tx
	pending int
	records int
	merge   bool // keep the record with the higher fixed version on conflicts (OSV)
}

func (w *writer) begin() error {
	if w.tx != nil {
		return nil
	}
	tx, err := w.db.Begin(true)
	if err != nil {
		return err
	}
	w.tx = tx
	return nil
}

func (w *writer) commit() error {
	if w.tx == nil {
		return nil
	}
	err := w.tx.Commit()
	w.tx, w.pending = nil, 0
	return err
}

func (w *writer) rollback() {
	if w.tx != nil {
		_ = w.tx.Rollback()
		w.tx = nil
	}
}

// bucket opens (creating) a nested bucket for writing.
func (w *writer) bucket(top []byte, names ...string) (*bolt.Bucket, error) {
	b, err := w.tx.CreateBucketIfNotExists(top)
	for _, n := range names {
		if err != nil {
			return nil, err
		}
		b.FillPercent = fillPercent
		b, err = b.CreateBucketIfNotExists([]byte(n))
	}
	if err != nil {
		return nil, err
	}
	b.FillPercent = fillPercent
	return b, nil
}

func (w *writer) putDesc(source, pkg, cve, desc string) error {
	if desc == "" {
		return nil
	}
	if err := w.begin(); err != nil {
		return err
	}
	b, err := w.bucket(bucketDesc, source, pkg)
	if err != nil {
		return fmt.Errorf("store description of %s %s: %w", pkg, cve, err)
	}
	if string(b.Get([]byte(cve))) == desc {
		return nil
	}
	return b.Put([]byte(cve), []byte(desc))
}

func (w *writer) putRaw(source, release, pkg, cve string, value []byte) error {
	if err := w.begin(); err != nil {
		return err
	}
	b, err := w.bucket(bucketData, source, release, pkg)
	if err != nil {
		return fmt.Errorf("store %s %s %s: %w", release, pkg, cve, err)
	}
	if w.merge {
		if old := b.Get([]byte(cve)); old != nil && !newerFix(value, old) {
			return nil
		}
	}
	if err := b.Put([]byte(cve), value); err != nil {
		return fmt.Errorf("store %s %s %s: %w", release, pkg, cve, err)
	}
	w.records++
	if w.pending++; w.pending >= batchSize {
		return w.commit()
	}
	return nil
}

func (w *writer) put(r Record) error {
	v, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if err := w.putDesc(r.Source, r.Package, r.CVE, r.Description); err != nil {
		return err
	}
	return w.putRaw(r.Source, r.Release, r.Package, r.CVE, v)
}

// newerFix tells whether record a should replace b: an open record (no fix) wins, else the
// higher fixed version, since a later advisory for the same CVE means the earlier fix was
// incomplete.
func newerFix(a, b []byte) bool {
	var ra, rb stored
	if json.Unmarshal(a, &ra) != nil || json.Unmarshal(b, &rb) != nil {
		return true
	}
	if rb.FixedVersion == "" {
		return false
	}
	if ra.FixedVersion == "" {
		return true
	}
	return version.Compare(ra.FixedVersion, rb.FixedVersion) > 0
}

// replaceSource writes a new database beside path holding every other source's records from
// the current one plus what fill puts, then renames it over path. When fill fails nothing
// changes: the old database stays as it was.
func replaceSource(path string, meta Meta, merge bool, fill func(put func(Record) error) error, finish func(*Meta)) (Meta, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return meta, fmt.Errorf("vulnerability database directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return meta, fmt.Errorf("vulnerability database: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpPath)
		}
	}()
	nb, err := bolt.Open(tmpPath, 0o644, &bolt.Options{Timeout: 5 * time.Second, NoSync: true})
	if err != nil {
		return meta, fmt.Errorf("create %s: %w", tmpPath, err)
	}
	w := &writer{db: nb}
	closeNew := func() error {
		w.rollback()
		return nb.Close()
	}
	if err := copyOtherSources(path, meta.Source, w); err != nil {
		closeNew()
		return meta, err
	}
	w.merge = merge
	before := w.records
	if err := fill(func(r Record) error {
		r.Source = meta.Source
		return w.put(r)
	}); err != nil {
		closeNew()
		return meta, err
	}
	meta.Records = w.records - before
	if finish != nil {
		finish(&meta)
	}
	if err := w.commit(); err != nil {
		closeNew()
		return meta, fmt.Errorf("write %s: %w", tmpPath, err)
	}
	err = nb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		v, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		return b.Put([]byte(meta.Source), v)
	})
	if err != nil {
		closeNew()
		return meta, fmt.Errorf("write metadata to %s: %w", tmpPath, err)
	}
	if err := nb.Sync(); err != nil {
		closeNew()
		return meta, fmt.Errorf("sync %s: %w", tmpPath, err)
	}
	if err := nb.Close(); err != nil {
		return meta, fmt.Errorf("close %s: %w", tmpPath, err)
	}
	if err := os.Chmod(tmpPath, 0o644); err != nil {
		return meta, fmt.Errorf("vulnerability database: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return meta, fmt.Errorf("replace %s: %w", path, err)
	}
	ok = true
	return meta, nil
}

// copyOtherSources carries every source but skip (records and metadata) from the database at
// path, if there is one, into w.
func copyOtherSources(path, skip string, w *writer) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old, err := Open(path)
	if err != nil {
		return err
	}
	defer old.Close()
	metas, err := old.Meta()
	if err != nil {
		return fmt.Errorf("read %s: %w (remove the file and import again)", path, err)
	}
	err = old.bolt.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		if data == nil {
			return nil
		}
		return data.ForEachBucket(func(src []byte) error {
			if string(src) == skip {
				return nil
			}
			sb := data.Bucket(src)
			return sb.ForEachBucket(func(rel []byte) error {
				rb := sb.Bucket(rel)
				return rb.ForEachBucket(func(pkg []byte) error {
					return rb.Bucket(pkg).ForEach(func(cve, v []byte) error {
						return w.putRaw(string(src), string(rel), string(pkg), string(cve), bytes.Clone(v))
					})
				})
			})
		})
	})
	if err == nil {
		err = old.bolt.View(func(tx *bolt.Tx) error {
			descs := tx.Bucket(bucketDesc)
			if descs == nil {
				return nil
			}
			return descs.ForEachBucket(func(src []byte) error {
				if string(src) == skip {
					return nil
				}
				sb := descs.Bucket(src)
				return sb.ForEachBucket(func(pkg []byte) error {
					return sb.Bucket(pkg).ForEach(func(cve, v []byte) error {
						return w.putDesc(string(src), string(pkg), string(cve), string(v))
					})
				})
			})
		})
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", path, err)
	}
	if err := w.commit(); err != nil {
		return err
	}
	return w.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		for _, m := range metas {
			if m.Source == skip {
				continue
			}
			v, _ := json.Marshal(m)
			if err := b.Put([]byte(m.Source), v); err != nil {
				return err
			}
		}
		return nil
	})
}
