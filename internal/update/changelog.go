package update

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/deb"
	"github.com/spartan-images/spartan/internal/debian/version"
)

// Entry is one stanza of a debian/changelog: "pkg (version) dist; urgency=…", the change lines,
// and the CVE ids those lines name.
type Entry struct {
	Package, Version, Distribution string
	CVEs                           []string
}

// changelogHeader is deb-changelog(5)'s first line of an entry. Old entries (before the format
// settled) may not match; their lines are attributed to the entry above them, which is older
// than anything an update compares with anyway.
var (
	changelogHeader = regexp.MustCompile(`^(\S+) \(([^() \t]+)\) ([^;]*);`)
	cveID           = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)
)

// maxChangelog bounds what is read of one decompressed changelog: the longest in Debian are a
// few MB (glibc, gcc); a bomb must not fill memory.
const maxChangelog = 64 << 20

// ParseChangelog reads a debian/changelog (uncompressed), newest entry first as written.
func ParseChangelog(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxChangelog))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Entry
	seen := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		if m := changelogHeader.FindStringSubmatch(line); m != nil && line[0] != ' ' {
			out = append(out, Entry{Package: m[1], Version: m[2], Distribution: strings.TrimSpace(m[3])})
			clear(seen)
			continue
		}
		if len(out) == 0 {
			continue
		}
		e := &out[len(out)-1]
		for _, id := range cveID.FindAllString(line, -1) {
			if !seen[id] {
				seen[id] = true
				e.CVEs = append(e.CVEs, id)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("changelog: %w", err)
	}
	return out, nil
}

// CVEsSince are the CVE ids named by the entries newer than old (Debian version order), each
// with the version of the entry that names it first (the oldest such entry: the version that
// brought the fix). An empty old counts every entry.
func CVEsSince(entries []Entry, old string) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		if old != "" && version.Compare(e.Version, old) <= 0 {
			continue
		}
		for _, id := range e.CVEs {
			if v, ok := out[id]; !ok || version.Compare(e.Version, v) < 0 {
				out[id] = e.Version
			}
		}
	}
	return out
}

// errFound stops reading a .deb once the changelog has been read.
var errFound = errors.New("found")

// DebChangelog reads usr/share/doc/<pkg>/changelog.Debian.gz out of a .deb file. A package
// whose doc directory is a symlink to another package's (common for libraries built from one
// source) ships no changelog of its own: found is false then.
func DebChangelog(debPath, pkg string) (entries []Entry, found bool, err error) {
	f, err := os.Open(debPath)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	want := "usr/share/doc/" + pkg + "/changelog.Debian.gz"
	var perr error
	_, err = deb.Read(f, func(h *tar.Header, body io.Reader) error {
		if h.Typeflag != tar.TypeReg || path.Clean(strings.TrimPrefix(h.Name, "./")) != want {
			return nil
		}
		zr, err := gzip.NewReader(body)
		if err != nil {
			perr = fmt.Errorf("%s: %w", want, err)
			return errFound
		}
		entries, perr = ParseChangelog(zr)
		found = true
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, false, fmt.Errorf("read %s: %w", debPath, err)
	}
	if perr != nil {
		return nil, found, fmt.Errorf("%s in %s: %w", want, debPath, perr)
	}
	return entries, found, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
