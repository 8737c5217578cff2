package chart

import (
	"strings"
	"testing"
	"time"
)

func TestPairScalesToTheLarger(t *testing.T) {
	for _, tc := range []struct {
		a, b   int64
		wa, wb int
	}{{3, 2, 560, 373}, {0, 0, 0, 0}, {1, 4, 140, 560}} {
		wa, wb := Pair{A: tc.a, B: tc.b}.Widths()
		if wa != tc.wa || wb != tc.wb {
			t.Errorf("%d vs %d: widths %d, %d; want %d, %d", tc.a, tc.b, wa, wb, tc.wa, tc.wb)
		}
	}
}

func TestTimelineSaysWhatIsMissing(t *testing.T) {
	at := func(h int) *time.Time { x := time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC); return &x }
	svg := string(Timeline("fixes", []Track{
		{Label: "CVE-1", Stages: []Stage{{"published", at(0)}, {"seen", at(2)}, {"rebuilt", at(3)}}},
		{Label: "CVE-2", Stages: []Stage{{"published", at(0)}, {"seen", nil}, {"rebuilt", at(3)}, {"pushed", nil}}},
	}, func(d time.Duration) string { return d.String() }))
	for _, want := range []string{`role="img"`, "<title>fixes. CVE-1: seen after 2h0m0s, rebuilt after 1h0m0s; CVE-2: rebuilt after 3h0m0s, seen, pushed not recorded</title>", ">seen, pushed not recorded</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("lacks %q:\n%s", want, svg)
		}
	}
	if n := strings.Count(svg, "<rect"); n != 3 {
		t.Errorf("%d segments, want 3 (a stage not recorded is skipped, not drawn)", n)
	}
}

func TestStepsAndBars(t *testing.T) {
	if Steps("none", nil) != "" {
		t.Error("a chart of no points")
	}
	d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svg := string(Steps("open", []Point{{d, 4}, {d.Add(time.Hour), 1}}))
	if !strings.Contains(svg, "open. 2026-01-01 00:00: 4, 2026-01-01 01:00: 1") || !strings.Contains(svg, `d="M60 16 H820 V106 H820"`) {
		t.Errorf("steps:\n%s", svg)
	}
	bars := string(Bars("size", []Bar{{"a", "2 kB", 2}, {"b", "1 kB", 1}}))
	if !strings.Contains(bars, `width="520"`) || !strings.Contains(bars, `width="260"`) || !strings.Contains(bars, "size: a 2 kB, b 1 kB") {
		t.Errorf("bars:\n%s", bars)
	}
}
