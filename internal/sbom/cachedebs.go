package sbom

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/debian/deb"
	"github.com/spartan-images/spartan/internal/inventory"
)

// debMagic starts every .deb: an ar archive whose first member is debian-binary.
const debMagic = "!<arch>\ndebian-binary"

// DebsFromCache finds, among the .debs in Spartan's download cache, those the image's
// packages were installed from, for an SBOM made from the image alone: a .deb matches when
// its Package, Version and Architecture are the record's and every checksum in the record's
// md5sums is one the .deb ships. The cache is content-addressed, so a match's file name is
// its SHA-256. Packages without a match are simply absent from the result.
func DebsFromCache(c *cache.Cache, inv *Inventory) (map[string]Deb, error) {
	want := map[string]*Package{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		want[p.Name+"\x00"+p.Version+"\x00"+p.Arch] = p
	}
	dir := filepath.Dir(c.Path(strings.Repeat("0", 64)))
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return map[string]Deb{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read download cache %s: %w", dir, err)
	}
	out := map[string]Deb{}
	for _, e := range entries {
		sum := e.Name()
		if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 || !e.Type().IsRegular() {
			continue
		}
		id, md5s, err := debIdentity(c, sum)
		if err != nil || id == "" {
			continue // not a .deb, or unreadable: the cache may hold anything
		}
		p := want[id]
		if p == nil || out[p.Name].SHA256 != "" {
			continue
		}
		if subset(p.Files, md5s) {
			out[p.Name] = Deb{SHA256: sum}
		}
	}
	return out, nil
}

// debIdentity returns "name\x00version\x00arch" and the md5sums of a cached .deb ("" for
// other blobs), remembered in the cache's derived store so that later runs need not
// decompress packages.
func debIdentity(c *cache.Cache, sum string) (string, []byte, error) {
	key := "deb-identity-" + sum
	if b, ok := c.GetDerived(key); ok {
		id, md5s, _ := bytes.Cut(b, []byte("\n"))
		return string(id), md5s, nil
	}
	f, err := os.Open(c.Path(sum))
	if err != nil {
		return "", nil, err
	}
	head := make([]byte, len(debMagic))
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != debMagic {
		_ = c.PutDerived(key, nil) // only a speed-up
		return "", nil, nil
	}
	id, md5s, err := readDeb(c.Path(sum))
	if err != nil {
		return "", nil, err
	}
	_ = c.PutDerived(key, append([]byte(id+"\n"), md5s...))
	return id, md5s, nil
}

func readDeb(path string) (string, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	info, err := deb.Read(bufio.NewReaderSize(f, 1<<16), nil)
	if err != nil {
		return "", nil, err
	}
	ctl := info.Control
	return ctl.Get("Package") + "\x00" + ctl.Get("Version") + "\x00" + ctl.Get("Architecture"), info.MD5Sums, nil
}

// subset says whether every checksum the image's database records for a package is among the
// .deb's md5sums. Paths are not compared: merged-/usr moves files (/lib → /usr/lib) without
// changing their content.
func subset(files []inventory.File, debSums []byte) bool {
	have := map[string]bool{}
	for _, l := range bytes.Split(debSums, []byte("\n")) {
		if f := bytes.Fields(l); len(f) >= 2 {
			have[string(f[0])] = true
		}
	}
	for _, f := range files {
		if md5, ok := strings.CutPrefix(f.Digest, "md5:"); ok && !have[md5] {
			return false
		}
	}
	return true
}
