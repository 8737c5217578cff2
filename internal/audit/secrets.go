package audit

import (
	"bytes"
	"regexp"
	"strings"
)

// SecretHit is one credential-looking string in a file or the environment.
type SecretHit struct {
	Kind  string // "PEM private key", "AWS access key id", …
	Line  int    // 1-based; 0 for the environment
	Level Level
}

type secretPattern struct {
	kind  string
	level Level
	re    *regexp.Regexp
}

// Patterns that name their kind of secret by construction are FATAL; the generic NAME=value
// pattern only guesses from a variable name, so it is a WARN.
var secretPatterns = []secretPattern{
	{"PEM private key", Fatal, regexp.MustCompile(`-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----`)},
	{"AWS access key id", Fatal, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"AWS secret access key", Fatal, regexp.MustCompile(`(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}([^A-Za-z0-9/+=]|$)`)},
	{"GitHub token", Fatal, regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b`)},
	{"credential assignment", Warn, regexp.MustCompile(`(?m)^\s*(export\s+)?[A-Z][A-Z0-9_]*(_TOKEN|_SECRET|PASSWORD|_PASSWD|_API_KEY)\s*=\s*["']?([^\s"'$\{<][^\s"']{5,})`)},
}

// scanSecrets searches a text file; one hit per kind (the first), which is enough to act on.
func scanSecrets(b []byte) []SecretHit {
	var hits []SecretHit
	for _, p := range secretPatterns {
		loc := p.re.FindIndex(b)
		if loc == nil {
			continue
		}
		if p.kind == "credential assignment" && placeholder(string(b[loc[0]:loc[1]])) {
			continue
		}
		hits = append(hits, SecretHit{Kind: p.kind, Line: 1 + bytes.Count(b[:loc[0]], []byte{'\n'}), Level: p.level})
	}
	return hits
}

// placeholder values are documentation, not credentials.
func placeholder(s string) bool {
	_, v, _ := strings.Cut(s, "=")
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`))
	for _, w := range []string{"changeme", "change_me", "example", "xxxxx", "placeholder", "your_", "yourpassword", "secret", "password", "none", "null", "false", "true"} {
		if strings.Contains(v, w) {
			return true
		}
	}
	return false
}

// scanEnv checks KEY=value pairs of the image config.
func scanEnv(kv string) []SecretHit {
	var hits []SecretHit
	for _, p := range secretPatterns[:4] {
		if p.re.MatchString(kv) {
			hits = append(hits, SecretHit{Kind: p.kind, Level: p.level})
		}
	}
	name, val, _ := strings.Cut(kv, "=")
	if len(hits) == 0 && val != "" && secretName(name) && !placeholder(kv) {
		hits = append(hits, SecretHit{Kind: "credential in " + name, Level: Warn})
	}
	return hits
}

func secretName(n string) bool {
	n = strings.ToUpper(n)
	if strings.HasSuffix(n, "_FILE") || strings.HasSuffix(n, "_PATH") {
		return false // points at a secret, doesn't hold it
	}
	for _, s := range []string{"_TOKEN", "_SECRET", "PASSWORD", "PASSWD", "_API_KEY", "SECRET_KEY", "ACCESS_KEY"} {
		if strings.HasSuffix(n, s) || n == strings.TrimPrefix(s, "_") {
			return true
		}
	}
	return false
}
