// Command tlsprobe is the static image's acceptance program: a statically linked Go binary that
// completes a TLS handshake, verifying the server's chain against the image's CA bundle.
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsprobe HOST:PORT")
		os.Exit(2)
	}
	conn, err := tls.Dial("tcp", os.Args[1], &tls.Config{ServerName: "localhost"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "tls:", err)
		os.Exit(1)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(conn)
	fmt.Printf("tls ok: %s, %d bytes, uid %d\n", conn.ConnectionState().PeerCertificates[0].Subject.CommonName, len(body), os.Getuid())
}
