// Command hello-static is the example app for spartan/static: a Go program built with
// CGO_ENABLED=0, so it needs no libc, only the image's time zones, CA bundle and accounts.
package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"time"
)

func main() {
	u, err := user.Current()
	if err != nil {
		fmt.Fprintln(os.Stderr, "user:", err)
		os.Exit(1)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		fmt.Fprintln(os.Stderr, "time zones:", err)
		os.Exit(1)
	}
	if _, err := x509.SystemCertPool(); err != nil {
		fmt.Fprintln(os.Stderr, "CA bundle:", err)
		os.Exit(1)
	}
	noon := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC).In(ny)
	fmt.Printf("hello from Go as uid %s (%s); noon UTC is %s in New York\n", u.Uid, u.Username, noon.Format("15:04 MST"))
}
