// Package probe checks that a service answers: an HTTP(S) GET that returns 200–399, or a TCP
// connection that opens. It is the whole of spartan-probe, the health check program Spartan
// puts in images that have no shell, curl or wget; it uses the standard library's net and
// crypto/tls only (not net/http), which keeps the static binary small.
package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Target is what to probe.
type Target struct {
	Scheme string // "http", "https" or "tcp"
	Addr   string // host:port to dial
	Host   string // the Host header (HTTP) or the TLS server name
	Path   string // request path and query (HTTP)
}

func (t Target) String() string {
	if t.Scheme == "tcp" {
		return "tcp://" + t.Addr
	}
	return t.Scheme + "://" + t.Addr + t.Path
}

// Parse reads http://host[:port]/path, https://host[:port]/path or tcp://host:port.
func Parse(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("probe target %q: %w", s, err)
	}
	if u.User != nil {
		return Target{}, fmt.Errorf("probe target %q: user info is not supported", s)
	}
	if u.Fragment != "" {
		return Target{}, fmt.Errorf("probe target %q: a #fragment means nothing to a probe", s)
	}
	host := u.Hostname()
	if strings.ContainsAny(host, "[]/ \t\r\n") {
		return Target{}, fmt.Errorf("probe target %q: invalid host %q", s, host)
	}
	if host == "" {
		return Target{}, fmt.Errorf("probe target %q: no host (e.g. http://127.0.0.1:8080/health or tcp://127.0.0.1:5432)", s)
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("probe target %q: port %q is not 1–65535", s, port)
		}
	}
	t := Target{Scheme: u.Scheme, Host: u.Host}
	switch u.Scheme {
	case "http", "https":
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		t.Path = u.EscapedPath()
		if t.Path == "" {
			t.Path = "/"
		}
		if u.RawQuery != "" {
			t.Path += "?" + u.RawQuery
		}
	case "tcp":
		if port == "" {
			return Target{}, fmt.Errorf("probe target %q: tcp needs a port (tcp://127.0.0.1:5432)", s)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return Target{}, fmt.Errorf("probe target %q: tcp takes no path or query", s)
		}
	default:
		return Target{}, fmt.Errorf("probe target %q: scheme must be http, https or tcp", s)
	}
	if strings.ContainsAny(t.Path, " \r\n") {
		return Target{}, fmt.Errorf("probe target %q: spaces or line breaks in the path", s)
	}
	t.Addr = net.JoinHostPort(host, port)
	return t, nil
}

// Check probes the target once. HTTPS does not verify the server's certificate, like
// Kubernetes' httpGet probes: a health check asks whether the service answers, and services
// on 127.0.0.1 often use certificates issued for another name.
func Check(ctx context.Context, t Target, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	defer conn.Close()
	if t.Scheme == "tcp" {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if t.Scheme == "https" {
		host, _, _ := net.SplitHostPort(t.Addr)
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // see Check's comment
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("%s: TLS: %w", t, err)
		}
		conn = tc
	}
	req := "GET " + t.Path + " HTTP/1.1\r\nHost: " + t.Host + "\r\nUser-Agent: spartan-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s: no HTTP response: %w", t, err)
	}
	code, err := statusCode(line)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	if code < 200 || code > 399 {
		return fmt.Errorf("%s: HTTP %d", t, code)
	}
	return nil
}

// statusCode reads "HTTP/1.x NNN reason".
func statusCode(line string) (int, error) {
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	if !strings.HasPrefix(proto, "HTTP/") || len(rest) < 3 {
		return 0, fmt.Errorf("not an HTTP status line: %q", line)
	}
	code, err := strconv.Atoi(rest[:3])
	if err != nil || code < 100 || code > 999 {
		return 0, fmt.Errorf("not an HTTP status line: %q", line)
	}
	return code, nil
}
