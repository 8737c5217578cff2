// spartan-probe is the health check of images without a shell: `spartan-probe URL` exits 0
// when http(s)://… answers 200–399 or tcp://host:port accepts a connection, else 1 with the
// reason on stderr. Images get it with `probe: true` or `healthcheck: {probe: URL}` in a spec;
// it is built reproducibly and embedded in spartan (internal/probe/bin, see go generate there).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spartan-images/spartan/internal/probe"
)

func main() {
	timeout := flag.Duration("timeout", 5*time.Second, "give up after this long")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: spartan-probe [-timeout 5s] http://HOST:PORT/PATH | https://… | tcp://HOST:PORT")
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	t, err := probe.Parse(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "spartan-probe:", err)
		os.Exit(2)
	}
	if err := probe.Check(context.Background(), t, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "spartan-probe: unhealthy:", err)
		os.Exit(1)
	}
}
