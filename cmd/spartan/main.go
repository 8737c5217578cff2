// Command spartan builds hardened, minimal container images from Debian packages.
// It is a thin shell: flags are parsed here and the work happens in internal/… packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spartan-images/spartan/internal/debug"
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
	return exitStatus(newRootCmd().ExecuteContext(ctx), os.Stderr)
}

// exitStatus is spartan's exit status for a command's error, which it prints. The one
// exception is the command spartan ran on the user's behalf (spartan debug -- COMMAND): its
// own status is passed on and nothing is added, as its output already said why. Only that
// error type: a tool spartan runs for itself (podman in migrate --build, mmdebstrap) failing
// is spartan's failure, whose message says what was being done.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *debug.ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	fmt.Fprintln(stderr, "spartan:", err)
	return 1
}
