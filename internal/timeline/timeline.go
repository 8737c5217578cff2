// Package timeline keeps the patch timeline: an append-only file of JSON lines, one event each,
// written by `spartan update` — a package version first seen on the mirror, a CVE fixed in an
// image, the image rebuilt, signed, pushed, the applications on it rebased — and read back into
// per-CVE latencies. The file is
// the record; nothing in it is ever rewritten, so it can be shipped to a log store as is.
package timeline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DefaultFile is the timeline's name inside Spartan's cache directory.
const DefaultFile = "timeline.jsonl"

// Event kinds.
const (
	Seen    = "seen"    // a package version appeared on the mirror (Date: its InRelease's Date)
	Fixed   = "fixed"   // a bump fixes a CVE in an image
	Rebuilt = "rebuilt" // the image was rebuilt (Digest)
	Signed  = "signed"  // the image was signed (Digest)
	Pushed  = "pushed"  // the image was pushed (Ref, Digest)
	// Rebased: an application image was moved onto a rebuilt base (Digest; Base: the new
	// base's name@digest). The CVEs the rebase carried are Fixed events of the application in
	// the same run: it stands for the application's rebuild.
	Rebased = "rebased"
)

// Event is one line of the timeline. Which fields are set depends on Event.
type Event struct {
	Time  time.Time `json:"time"`  // when Spartan recorded it
	Event string    `json:"event"` // Seen, Fixed, Rebuilt, Signed, Pushed
	Run   string    `json:"run"`   // the update run: links a fix to its rebuild and push
	Image string    `json:"image,omitempty"`

	Arch          string `json:"arch,omitempty"`
	Package       string `json:"package,omitempty"` // binary package
	Version       string `json:"version,omitempty"`
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	Repository    string `json:"repository,omitempty"` // InRelease URI
	// Date is the InRelease Date of the index that carried the version (Seen), or when the fix
	// was first seen on the mirror (Fixed).
	Date *time.Time `json:"date,omitempty"`

	CVE       string     `json:"cve,omitempty"`
	From      string     `json:"from,omitempty"` // source version before the bump
	To        string     `json:"to,omitempty"`   // source version after
	FixedIn   string     `json:"fixedIn,omitempty"`
	Evidence  []string   `json:"evidence,omitempty"`
	Severity  string     `json:"severity,omitempty"`
	Published *time.Time `json:"published,omitempty"`

	Digest string `json:"digest,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Layout string `json:"layout,omitempty"`
	Base   string `json:"base,omitempty"` // Rebased: the base the application is on now
}

// Append adds events to the file (created when missing) and syncs it: a line is either
// entirely there or not at all, and an event survives a crash right after update reports it.
func Append(path string, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("timeline %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("timeline %s: %w", path, err)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("timeline %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("timeline %s: %w", path, err)
	}
	return f.Close()
}

// Read returns every event of the file in order; a missing file is an empty timeline. A line
// that does not parse is an error naming it: the file is a record and must not be guessed at.
func Read(path string) ([]Event, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("timeline %s line %d: %w", path, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("timeline %s: %w", path, err)
	}
	return out, nil
}

// Carried are the CVE fixes a rebase onto a base image brings to the application app: the
// Fixed events of the update runs that rebuilt that base since the rebuild the application was
// on (only the run that made the new base when the old one is not in the timeline),
// re-recorded for app in run at now. Both bases are named by every digest they go by (an
// index's and its images'). None when the timeline never saw the new base rebuilt.
func Carried(history []Event, run, app string, now time.Time, newBase, oldBase []string) []Event {
	var base, to string
	for i := len(history) - 1; i >= 0 && to == ""; i-- {
		if e := history[i]; e.Event == Rebuilt && slices.Contains(newBase, e.Digest) {
			base, to = e.Image, e.Run
		}
	}
	if to == "" {
		return nil
	}
	from := ""
	for _, e := range history {
		if e.Event == Rebuilt && e.Image == base && slices.Contains(oldBase, e.Digest) {
			from = e.Run
		}
	}
	// The base's rebuilds in order; the fixes of those after from, up to and including to.
	var runs []string
	for _, e := range history {
		if e.Image == base && e.Event == Rebuilt && !slices.Contains(runs, e.Run) {
			runs = append(runs, e.Run)
		}
	}
	take := []string{to}
	if i := slices.Index(runs, from); from != "" && i >= 0 {
		take = runs[i+1 : max(i+1, slices.Index(runs, to)+1)]
	}
	var out []Event
	for _, e := range history {
		if e.Event == Fixed && e.Image == base && slices.Contains(take, e.Run) {
			e.Image, e.Run, e.Time = app, run, now
			out = append(out, e)
		}
	}
	return out
}
