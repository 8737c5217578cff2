package vuln

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// GenerateFeed writes a GENERATED (synthetic, for benchmarks and memory tests) tracker-format feed with the real feed's shape: packages
// source packages whose CVE counts are skewed like Debian's (most have a handful, a few have
// thousands, as linux and chromium do), each CVE with a description and five releases with the
// statuses, urgencies and no-dsa fields the real feed mixes. scale multiplies the CVE counts.
// The values are made up; only the structure and sizes follow the real feed.
func GenerateFeed(w io.Writer, packages, scale int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rels := []string{"bullseye", "bookworm", "trixie", "forky", "sid"}
	urg := []string{"not yet assigned", "unimportant", "low", "medium", "high**", "low**"}
	desc := strings.Repeat("A flaw was found in the parsing of crafted input that may allow a remote attacker to cause a denial of service or execute code. ", 2)
	bw.WriteString("{")
	for p := 0; p < packages; p++ {
		if p > 0 {
			bw.WriteString(",")
		}
		n := 3 + p%9
		switch {
		case p%1000 == 0:
			n = 3000 // the linux/chromium kind
		case p%97 == 0:
			n = 120
		}
		n *= scale
		fmt.Fprintf(bw, "\n  %q: {", fmt.Sprintf("generated-pkg-%05d", p))
		for c := 0; c < n; c++ {
			if c > 0 {
				bw.WriteString(",")
			}
			var releases []string
			for i, r := range rels {
				k := (p + c + i) % 10
				rel := map[string]any{"repositories": map[string]string{r: fmt.Sprintf("%d.%d-%d", c%7, p%13, i+1)}, "urgency": urg[(p+c)%len(urg)]}
				switch {
				case k < 5:
					rel["status"], rel["fixed_version"] = "resolved", fmt.Sprintf("%d.%d-%d+deb%du1", c%7, p%13, i, 11+i)
				case k == 5:
					rel["status"], rel["fixed_version"] = "resolved", "0"
				case k == 6:
					rel["status"], rel["nodsa"], rel["nodsa_reason"] = "open", "Minor issue", ""
				case k == 7:
					rel["status"], rel["nodsa"], rel["nodsa_reason"] = "open", "Minor issue", "postponed"
				case k == 8:
					rel["status"] = "undetermined"
				default:
					rel["status"] = "open"
				}
				b, err := json.Marshal(rel)
				if err != nil {
					return err
				}
				releases = append(releases, fmt.Sprintf("%q: %s", r, b))
			}
			fmt.Fprintf(bw, "\n    \"CVE-%d-%05d\": {\"description\": %q, \"scope\": \"remote\", \"debianbug\": %d, \"releases\": {%s}}",
				2000+c%26, p*7+c, desc[:120+(c*13)%len(desc[120:])], 1000000+p, strings.Join(releases, ", "))
		}
		bw.WriteString("\n  }")
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}
