// Command spartan builds hardened, minimal container images from Debian packages.
// It is a thin shell: flags are parsed here and the work happens in internal/… packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	// SPARTAN_CPUPROFILE=FILE writes a CPU profile: how the benchmark figures were investigated.
	if path := os.Getenv("SPARTAN_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				code := run()
				pprof.StopCPUProfile()
				os.Exit(code)
			}
		}
	}
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		// A command spartan ran on the user's behalf (spartan debug -- COMMAND) failed with
		// its own status: pass it on, as the command's own output already said why.
		var exit interface{ ExitCode() int }
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "spartan:", err)
		return 1
	}
	return 0
}
