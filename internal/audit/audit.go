// Package audit checks any container image for hardening problems: root user, shells, package
// managers, setuid files, world-writable paths, secrets, risky build history, missing
// signatures. Checks map to Dockle's checkpoints where one exists (docs/audit.md), so results
// read the same to people who know that tool.
package audit

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/inventory"
	"github.com/spartan-images/spartan/internal/rootfs"
	"github.com/spartan-images/spartan/internal/scan"
)

// Level is a finding's severity. PASS marks a check that ran and found nothing.
type Level int

const (
	Pass Level = iota
	Info
	Warn
	Fatal
)

func (l Level) String() string {
	switch l {
	case Fatal:
		return "FATAL"
	case Warn:
		return "WARN"
	case Info:
		return "INFO"
	}
	return "PASS"
}

// ParseLevel reads "fatal", "warn", "info" or "pass" (any case).
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(s) {
	case "FATAL":
		return Fatal, nil
	case "WARN", "WARNING":
		return Warn, nil
	case "INFO":
		return Info, nil
	case "PASS":
		return Pass, nil
	}
	return Pass, fmt.Errorf("level %q: want fatal, warn or info", s)
}

func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

// Finding is one problem, or one PASS per check that found none.
type Finding struct {
	ID      string `json:"id"`
	Level   Level  `json:"level"`
	Path    string `json:"path,omitempty"` // the file, or the config field ("config.User", "history[3]")
	Message string `json:"message"`
}

// Skipped is a check that does not apply to this target, with why.
type Skipped struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Report is the outcome of auditing one image.
type Report struct {
	Target   string    `json:"target"`
	Kind     Kind      `json:"kind"`
	Digest   string    `json:"digest,omitempty"`
	Findings []Finding `json:"findings"`
	Skipped  []Skipped `json:"skipped,omitempty"`
	Ignored  int       `json:"ignored,omitempty"`
}

// Counts tallies findings by level.
func (r *Report) Counts() map[Level]int {
	c := map[Level]int{}
	for _, f := range r.Findings {
		c[f.Level]++
	}
	return c
}

// Max is the highest level among the findings.
func (r *Report) Max() Level {
	m := Pass
	for _, f := range r.Findings {
		m = max(m, f.Level)
	}
	return m
}

// Image is a loaded image ready to be checked and measured: config, flattened filesystem,
// layer sizes. compare uses it too.
type Image struct {
	Target *Target
	Config *v1.ConfigFile
	FS     *rootfs.FS
	Layers []rootfs.LayerInfo
	Digest string
	// Installed is what the image's package database lists; nil when a record could not be
	// read, with InstalledErr saying which.
	Installed    *inventory.Inventory
	InstalledErr error
	// Vulns is the image's vulnerability scan when Read was given a database and the image
	// is a Debian one; otherwise VulnsSkipped says why there is none.
	Vulns        *scan.Report
	VulnsSkipped string
	CVELevel     string // the lowest severity SPT-0009 reports
}

// Read flattens a target's image and, with a vulnerability database (o.Vulns), scans its
// packages.
func Read(t *Target, o Options) (*Image, error) {
	cfg, err := t.Image.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s: read image config: %w", t.Name, err)
	}
	fs, err := flatten(t.Image)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	im := &Image{Target: t, Config: cfg, FS: fs, Layers: fs.Layers}
	im.Installed, im.InstalledErr = inventory.Read(fs)
	if d, err := t.Image.Digest(); err == nil {
		im.Digest = d.String()
	}
	if err := im.scanVulns(o); err != nil {
		return nil, err
	}
	return im, nil
}

// Run applies every check. Findings are sorted by level (worst first), then id and path; each
// check that found nothing and was not skipped adds one PASS.
func Run(im *Image) *Report {
	r := &Report{Target: im.Target.Name, Kind: im.Target.Kind, Digest: im.Digest}
	for _, c := range Checks {
		if c.Applies != nil {
			if why := c.Applies(im); why != "" {
				r.Skipped = append(r.Skipped, Skipped{ID: c.ID, Reason: why})
				continue
			}
		}
		fs := c.Run(im)
		if len(fs) == 0 {
			r.Findings = append(r.Findings, Finding{ID: c.ID, Level: Pass, Message: c.Title})
			continue
		}
		r.Findings = append(r.Findings, fs...)
	}
	sortFindings(r.Findings)
	return r
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Level != b.Level {
			return a.Level > b.Level
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Path < b.Path
	})
}

// Audit reads and checks one target; o carries what some checks need (the vulnerability
// database).
func Audit(t *Target, o Options) (*Report, error) {
	im, err := Read(t, o)
	if err != nil {
		return nil, err
	}
	return Run(im), nil
}
