package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/spartan-images/spartan/internal/debug"
)

func TestExitStatus(t *testing.T) {
	toolErr := exec.Command("sh", "-c", "exit 3").Run()
	var ee *exec.ExitError
	if !errors.As(toolErr, &ee) {
		t.Fatalf("want an *exec.ExitError, got %v", toolErr)
	}
	for _, tc := range []struct {
		name    string
		err     error
		code    int
		printed string
	}{
		{"success", nil, 0, ""},
		{"a command's error", errors.New("resolve x: no such package"), 1, "spartan: resolve x: no such package"},
		// migrate --build: podman failed; the message saying what spartan was doing must show.
		{"a tool spartan ran failed", fmt.Errorf("build app: %w", toolErr), 1, "spartan: build app: exit status 3"},
		{"the debug command's own status", fmt.Errorf("debug: %w", &debug.ExitError{Code: 7}), 7, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := exitStatus(tc.err, &out); code != tc.code || strings.TrimSpace(out.String()) != tc.printed {
				t.Errorf("exitStatus = %d, printed %q; want %d, %q", code, out.String(), tc.code, tc.printed)
			}
		})
	}
}
