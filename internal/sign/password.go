package sign

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// EnvPassword is the variable cosign reads the key password from; using the same one lets
// CI pipelines drive both tools with one secret.
const EnvPassword = "COSIGN_PASSWORD"

// Password returns the key password: $COSIGN_PASSWORD when set (even empty, as cosign does),
// else a prompt on the terminal, asking twice when confirm is set (new keys). Without either
// it fails rather than guess.
func Password(confirm bool) ([]byte, error) {
	if pw, ok := os.LookupEnv(EnvPassword); ok {
		return []byte(pw), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		if tty != nil {
			tty.Close()
		}
		return nil, fmt.Errorf("no password: set %s or run on a terminal", EnvPassword)
	}
	defer tty.Close()
	read := func(prompt string) ([]byte, error) {
		fmt.Fprint(tty, prompt)
		pw, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return pw, err
	}
	pw, err := read("Enter password for private key: ")
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if !confirm {
		return pw, nil
	}
	again, err := read("Enter password for private key again: ")
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if !bytes.Equal(pw, again) {
		return nil, errors.New("passwords do not match")
	}
	return pw, nil
}
