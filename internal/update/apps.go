package update

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// App is an application image built FROM one of the images update rebuilds: after a rebuild
// of Base, update rebases Image onto it and publishes the result to To (Image when empty).
type App struct {
	Base  string // the base image's timeline name: the spec's name, name:variant for a variant
	Image string // the application image: a registry reference or an OCI layout
	To    string
}

// ReadApps reads an applications file: one application per line, "BASE IMAGE [TO]"
// separated by blanks, '#' starting a comment (docs/timeline.md). The result is by base.
func ReadApps(path string) (map[string][]App, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("applications file: %w", err)
	}
	defer f.Close()
	out := map[string][]App{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		switch len(fields) {
		case 0:
			continue
		case 2, 3:
		default:
			return nil, fmt.Errorf("applications file %s line %d: %d fields; want BASE IMAGE [TO] (the base's spec name, the application image, where the rebased image goes)", path, n, len(fields))
		}
		a := App{Base: fields[0], Image: fields[1]}
		if len(fields) == 3 {
			a.To = fields[2]
		}
		out[a.Base] = append(out[a.Base], a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("applications file %s: %w", path, err)
	}
	return out, nil
}
