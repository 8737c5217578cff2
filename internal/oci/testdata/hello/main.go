// Command hello is the payload of the podman test image: it prints what the
// image config should have set up (architecture, user, working dir, env).
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	wd, _ := os.Getwd()
	fmt.Printf("hello %s uid=%d wd=%s env=%s\n", runtime.GOARCH, os.Getuid(), wd, os.Getenv("GREETING"))
}
