package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// trackerCVE is one CVE entry of the Security Tracker feed.
type trackerCVE struct {
	Description string          `json:"description"`
	Scope       string          `json:"scope"`
	DebianBug   json.Number     `json:"debianbug"`
	Releases    trackerReleases `json:"releases"`
}

type trackerRelease struct {
	Status          string            `json:"status"`
	Repositories    map[string]string `json:"repositories"`
	FixedVersion    string            `json:"fixed_version"`
	Urgency         string            `json:"urgency"`
	NoDSA           string            `json:"nodsa"`
	NoDSAReason     string            `json:"nodsa_reason"`
	NextPointUpdate string            `json:"next_point_update"`
}

// trackerReleases accepts an object of releases or, for entries without any (the feed comes
// from PHP-style encoders upstream), an empty array.
type trackerReleases map[string]trackerRelease

func (t *trackerReleases) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var l []json.RawMessage
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		if len(l) > 0 {
			return errors.New("releases: want an object of codenames, got a non-empty array")
		}
		*t = nil
		return nil
	}
	m := map[string]trackerRelease{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*t = m
	return nil
}

// ParseTracker reads a Security Tracker JSON feed ({source: {CVE: {…, releases: {codename:
// {…}}}}}) and hands every (release, package, CVE) record to fn, in feed order. It decodes one
// CVE entry at a time, so memory stays bounded by the largest entry, not the feed. Structural
// errors (not an object, unknown status, empty feed) name where they are, and stop the parse:
// a feed that is wrong anywhere is not trusted anywhere.
func ParseTracker(r io.Reader, fn func(Record) error) (packages int, err error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := expectDelim(dec, '{', "the feed"); err != nil {
		return 0, err
	}
	for dec.More() {
		pkg, err := stringKey(dec, "source package name")
		if err != nil {
			return packages, err
		}
		if err := expectDelim(dec, '{', "package "+pkg); err != nil {
			return packages, err
		}
		for dec.More() {
			cve, err := stringKey(dec, "CVE id in package "+pkg)
			if err != nil {
				return packages, err
			}
			var e trackerCVE
			if err := dec.Decode(&e); err != nil {
				return packages, fmt.Errorf("package %s, %s: %w", pkg, cve, err)
			}
			for codename, rel := range e.Releases {
				if codename == "" {
					return packages, fmt.Errorf("package %s, %s: empty release name", pkg, cve)
				}
				switch rel.Status {
				case StatusResolved, StatusOpen, StatusUndetermined:
				default:
					return packages, fmt.Errorf("package %s, %s, %s: unknown status %q", pkg, cve, codename, rel.Status)
				}
				bug, _ := e.DebianBug.Int64()
				rec := Record{
					CVE: cve, Package: pkg, Release: codename, Status: rel.Status,
					FixedVersion: rel.FixedVersion, Urgency: rel.Urgency,
					NoDSA: rel.NoDSA, NoDSAReason: rel.NoDSAReason, NextPointFix: rel.NextPointUpdate,
					Description: e.Description, Scope: e.Scope, DebianBug: bug, Source: SourceTracker,
				}
				if err := fn(rec); err != nil {
					return packages, err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // the package's closing '}'
			return packages, fmt.Errorf("package %s: %w", pkg, err)
		}
		packages++
	}
	if _, err := dec.Token(); err != nil {
		return packages, fmt.Errorf("end of the feed: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return packages, errors.New("trailing data after the feed's top-level object")
	}
	if packages == 0 {
		return 0, errors.New("the feed lists no source packages")
	}
	return packages, nil
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%s: want a JSON object, got %v", what, describe(tok))
	}
	return nil
}

func stringKey(dec *json.Decoder, what string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	s, ok := tok.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%s: want a non-empty string key, got %v", what, describe(tok))
	}
	return s, nil
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return string(t)
	case string:
		return fmt.Sprintf("%q", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
