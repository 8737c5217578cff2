package timeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spartan-images/spartan/internal/scan"
)

func TestPercentile(t *testing.T) {
	m := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Minute)
		}
		return out
	}
	tests := []struct {
		in     []time.Duration
		p      float64
		wantMi int
	}{
		{nil, 50, 0},
		{m(7), 50, 7},
		{m(7), 95, 7},
		{m(30, 10, 20), 50, 20},
		{m(40, 10, 20, 30), 50, 25}, // even count: mean of the middle two
		{m(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19},
		{m(1, 2, 3, 4, 5, 6, 7, 8, 9, 100), 95, 100},
	}
	for _, tt := range tests {
		if got := Percentile(tt.in, tt.p); got != time.Duration(tt.wantMi)*time.Minute {
			t.Errorf("p%v of %v = %v, want %dm", tt.p, tt.in, got, tt.wantMi)
		}
	}
}

func TestByAge(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(d int) *time.Time { t := now.AddDate(0, 0, -d); return &t }
	got := ByAge([]Open{{Published: ago(1)}, {Published: ago(8)}, {Published: ago(29)}, {Published: ago(400)}, {}, {}}, now)
	want := map[string]int{"< 7 days": 1, "7-30 days": 2, "30-90 days": 0, "90-365 days": 0, "> 1 year": 1, "date unknown": 2}
	for _, b := range got {
		if want[b.Label] != b.Count {
			t.Errorf("%s: %d, want %d", b.Label, b.Count, want[b.Label])
		}
	}
}

func TestReportAndFile(t *testing.T) {
	at := func(h int) *time.Time { t := time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC); return &t }
	pub := at(0)
	events := []Event{
		{Event: Seen, Arch: "amd64", Package: "libfoo1", Version: "1.1", Source: "foo", SourceVersion: "1.1", Date: at(2)},
		{Event: Seen, Arch: "amd64", Package: "libfoo1", Version: "1.2", Source: "foo", SourceVersion: "1.2", Date: at(5)},
		{Event: Seen, Arch: "arm64", Package: "libfoo1", Version: "1.2", Source: "foo", SourceVersion: "1.2", Date: at(3)},
		// Run 1: CVE-A on two architectures, rebuilt, signed, pushed; another image's events.
		{Time: *at(6), Event: Fixed, Run: "1", Image: "app", Arch: "amd64", CVE: "CVE-A", Source: "foo", From: "1.0", To: "1.2", Date: at(5), Published: pub},
		{Time: *at(6), Event: Fixed, Run: "1", Image: "app", Arch: "arm64", CVE: "CVE-A", Source: "foo", From: "1.0", To: "1.2", Date: at(3), Published: pub},
		{Time: *at(6), Event: Rebuilt, Run: "1", Image: "app", Digest: "sha256:1"},
		{Time: *at(7), Event: Signed, Run: "1", Image: "app", Digest: "sha256:1"},
		{Time: *at(7), Event: Pushed, Run: "1", Image: "app", Digest: "sha256:1", Ref: "r/app:1"},
		{Time: *at(6), Event: Fixed, Run: "1", Image: "other", Arch: "amd64", CVE: "CVE-Z", Date: at(1)},
		// Run 2: CVE-B, rebuilt only.
		{Time: *at(9), Event: Fixed, Run: "2", Image: "app", Arch: "amd64", CVE: "CVE-B", Source: "foo", Date: at(8)},
		{Time: *at(9), Event: Rebuilt, Run: "2", Image: "app", Digest: "sha256:2"},
	}
	if got := FixSeen(events, "foo", "amd64", "1.1"); got == nil || !got.Equal(*at(2)) {
		t.Errorf("fix seen for >= 1.1: %v", got)
	}
	if got := FixSeen(events, "foo", "amd64", "1.2"); got == nil || !got.Equal(*at(5)) {
		t.Errorf("fix seen for >= 1.2: %v", got)
	}
	if got := FixSeen(events, "foo", "amd64", "1.3"); got != nil {
		t.Errorf("fix seen for an unseen version: %v", got)
	}
	rep := Build(events, "app")
	if len(rep.Rows) != 2 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	a := rep.Rows[0]
	if a.CVE != "CVE-A" || len(a.Archs) != 2 || !a.FixSeen.Equal(*at(3)) || !a.Rebuilt.Equal(*at(6)) || !a.Pushed.Equal(*at(7)) || a.Ref != "r/app:1" || a.Digest != "sha256:1" {
		t.Errorf("row A %+v", a)
	}
	if b := rep.Rows[1]; b.Pushed != nil || b.Digest != "sha256:2" {
		t.Errorf("row B %+v", b)
	}
	// Latencies 3h (A: 03:00 → 06:00) and 1h (B: 08:00 → 09:00).
	if rep.N != 2 || rep.Median != 2*time.Hour || rep.P95 != 3*time.Hour {
		t.Errorf("stats n=%d median=%v p95=%v", rep.N, rep.Median, rep.P95)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CVE-A", "3h00m", "4h00m", "6h00m", "median 2h00m, p95 3h00m", "2 rebuilds"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}

	path := filepath.Join(t.TempDir(), "sub", "t.jsonl")
	if err := Append(path, events[:3]); err != nil {
		t.Fatal(err)
	}
	if err := Append(path, events[3:]); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path)
	if err != nil || len(back) != len(events) || !back[2].Date.Equal(*at(3)) {
		t.Fatalf("read back %d events: %v", len(back), err)
	}
	if ev, err := Read(filepath.Join(t.TempDir(), "none")); err != nil || ev != nil {
		t.Errorf("missing file: %v %v", ev, err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json\n")
	f.Close()
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "line 12") {
		t.Errorf("corrupt line: %v", err)
	}
}

// TestOpenCVEs: a CVE found in several binary packages of one source is one open CVE; a
// publication date is kept when the scan has one.
func TestOpenCVEs(t *testing.T) {
	rep := &scan.Report{Findings: []scan.Finding{
		{CVE: "CVE-2026-0001", Package: "libssl3t64", Source: "openssl", Status: "open", Published: "2026-02-27T12:00:00Z"},
		{CVE: "CVE-2026-0001", Package: "openssl", Source: "openssl", Status: "open", Published: "2026-02-27T12:00:00Z"},
		{CVE: "CVE-2026-0002", Package: "libc6", Source: "glibc", Status: "resolved"},
	}}
	got := OpenCVEs(rep)
	if len(got) != 2 || got[0].CVE != "CVE-2026-0001" || got[0].Package != "openssl" || got[0].Published == nil ||
		!got[0].Published.Equal(time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC)) || got[1].Published != nil || got[1].Status != "resolved" {
		t.Fatalf("%+v", got)
	}
}

func TestCarried(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	seen := at(1)
	history := []Event{
		{Event: Rebuilt, Run: "r1", Image: "python", Digest: "sha256:b1"},
		{Event: Fixed, Run: "r2", Image: "python", CVE: "CVE-2", Date: &seen},
		{Event: Rebuilt, Run: "r2", Image: "python", Digest: "sha256:b2"},
		{Event: Fixed, Run: "r3", Image: "python", CVE: "CVE-3"},
		{Event: Fixed, Run: "r3", Image: "node", CVE: "CVE-N"},
		{Event: Rebuilt, Run: "r3", Image: "python", Digest: "sha256:i3", Layout: "out/python"},
		{Event: Rebuilt, Run: "r3", Image: "node", Digest: "sha256:n3"},
	}
	tests := []struct {
		name          string
		newBase, oldB []string
		want          []string
	}{
		{"from the first rebuild", []string{"sha256:i3", "sha256:p3"}, []string{"sha256:b1"}, []string{"CVE-2", "CVE-3"}},
		{"from the previous rebuild", []string{"sha256:p3", "sha256:i3"}, []string{"sha256:b2"}, []string{"CVE-3"}},
		{"old base unknown: the new base's run", []string{"sha256:i3"}, []string{"sha256:zz"}, []string{"CVE-3"}},
		{"new base unknown", []string{"sha256:zz"}, []string{"sha256:b1"}, nil},
		{"onto the base it is on", []string{"sha256:b2"}, []string{"sha256:b2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range Carried(history, "r9", "reg/app:1", at(9), tt.newBase, tt.oldB) {
				if e.Image != "reg/app:1" || e.Run != "r9" || !e.Time.Equal(at(9)) || e.Event != Fixed {
					t.Errorf("event %+v", e)
				}
				got = append(got, e.CVE)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("carried %v, want %v", got, tt.want)
			}
		})
	}

	// The report of the application shows the fix as rebased, timed by the rebase.
	events := append(history, Carried(history, "r9", "reg/app:1", at(9), []string{"sha256:b2"}, []string{"sha256:b1"})...)
	events = append(events, Event{Time: at(9), Event: Rebased, Run: "r9", Image: "reg/app:1", Digest: "sha256:a9", Base: "python@sha256:b2"})
	rep := Build(events, "reg/app:1")
	if len(rep.Rows) != 1 || !rep.Rows[0].Rebased || rep.Rows[0].Digest != "sha256:a9" || rep.N != 1 || rep.Median != 8*time.Hour {
		t.Fatalf("report %+v", rep)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CVE-2", "2026-03-02 09:00 (rebased)", "1 rebases: sha256:a9", "median 8h00m"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
