package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spartan-images/spartan/internal/debian/control"
)

// aptEntry is one (URI, suite) pair of a "deb" source.
type aptEntry struct{ uri, suite string }

// HostMirrors finds the Debian mirrors the host's apt uses, so Spartan needs no configuration
// on a Debian machine and never hard-codes a mirror. It reads aptDir/sources.list and
// aptDir/sources.list.d/*.list (one-line format) and *.sources (deb822), in apt's order. main is
// the first http(s) URI serving a suite that is not a security suite; security is the first
// serving one ("-security", or the old "/updates"), "" when there is none. Disabled entries,
// deb-src, and cdrom:, file: and other non-HTTP sources are skipped.
func HostMirrors(aptDir string) (main, security string, err error) {
	files := []string{filepath.Join(aptDir, "sources.list")}
	dir := filepath.Join(aptDir, "sources.list.d")
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("read apt sources %s: %w; pass --mirror URL or set SPARTAN_MIRROR", dir, err)
	}
	var extra []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.Contains(n, ".disabled") {
			continue
		}
		if strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources") {
			extra = append(extra, filepath.Join(dir, n))
		}
	}
	slices.Sort(extra)
	files = append(files, extra...)

	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("read apt sources %s: %w; pass --mirror URL or set SPARTAN_MIRROR", f, err)
		}
		var entries []aptEntry
		if strings.HasSuffix(f, ".sources") {
			entries, err = parseDeb822Sources(data)
		} else {
			entries = parseOneLineSources(data)
		}
		if err != nil {
			return "", "", fmt.Errorf("parse apt sources %s: %w; fix the file, or pass --mirror URL or set SPARTAN_MIRROR", f, err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.uri, "http://") && !strings.HasPrefix(e.uri, "https://") {
				continue
			}
			uri := strings.TrimRight(e.uri, "/")
			if isSecuritySuite(e.suite) {
				if security == "" {
					security = uri
				}
			} else if main == "" {
				main = uri
			}
		}
	}
	if main == "" {
		return "", security, fmt.Errorf("no Debian mirror found in the apt sources under %s "+
			"(sources.list, sources.list.d/*.list, sources.list.d/*.sources); pass --mirror URL or set SPARTAN_MIRROR", aptDir)
	}
	return main, security, nil
}

func isSecuritySuite(s string) bool {
	return strings.HasSuffix(s, "-security") || strings.HasSuffix(s, "/updates")
}

// parseOneLineSources reads "deb [options] URI suite [components…]" lines. Lines it does not
// understand are skipped, as they cannot name a usable mirror.
func parseOneLineSources(data []byte) []aptEntry {
	var out []aptEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		typ, rest, _ := strings.Cut(line, " ")
		if typ != "deb" {
			continue // deb-src, blank, or not a source line
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		out = append(out, aptEntry{uri: f[0], suite: f[1]})
	}
	return out
}

// parseDeb822Sources reads the deb822 format of sources.list(5).
func parseDeb822Sources(data []byte) ([]aptEntry, error) {
	// Comments may sit inside a paragraph (Debian's own images put one between Types and
	// URIs); the deb822 reader only skips them between paragraphs, so they go first.
	var clean bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("#")) {
			clean.Write(line)
		}
	}
	paras, err := control.ParseAll(&clean)
	if err != nil {
		return nil, err
	}
	var out []aptEntry
	for _, p := range paras {
		if strings.EqualFold(strings.TrimSpace(p.Get("Enabled")), "no") {
			continue
		}
		if !slices.Contains(strings.Fields(p.Get("Types")), "deb") {
			continue
		}
		for _, uri := range strings.Fields(p.Get("URIs")) {
			for _, suite := range strings.Fields(p.Get("Suites")) {
				out = append(out, aptEntry{uri: uri, suite: suite})
			}
		}
	}
	return out, nil
}
