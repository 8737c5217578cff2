// Command spartan builds hardened, minimal container images from Debian packages.
// It is a thin shell: flags are parsed here and the work happens in internal/… packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "spartan:", err)
		os.Exit(1)
	}
}
