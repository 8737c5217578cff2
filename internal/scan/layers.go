package scan

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"
)

// entry is one file of interest found in a layer.
type entry struct {
	typ  byte
	link string
	body []byte
}

// layerFiles is what one layer contributes: the files a scan reads, and what it deletes from
// the layers below (whiteouts; opaque directories).
type layerFiles struct {
	files    map[string]entry
	deleted  []string // paths removed with everything under them
	opaqueIn []string // directories whose lower content is hidden
}

// interesting says which paths a scan reads.
func interesting(name string) bool {
	return name == "/etc/os-release" || name == "/usr/lib/os-release" || isStatusFile(name)
}

// imageFiles reads the files of interest from every layer in parallel (decompression is most
// of a scan's time) and overlays them the way a container runtime would.
func imageFiles(img v1.Image, o readOptions) (map[string]entry, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image layers: %w", err)
	}
	per := make([]*layerFiles, len(layers))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, l := range layers {
		g.Go(func() error {
			if lf, ok := o.loadLayer(l); ok {
				per[i] = lf
				return nil
			}
			lf, err := readLayer(l)
			if err != nil {
				d, _ := l.Digest()
				return fmt.Errorf("layer %d (%s): %w", i, d, err)
			}
			o.storeLayer(l, lf)
			per[i] = lf
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	fs := map[string]entry{}
	for _, lf := range per {
		for _, d := range lf.deleted {
			for p := range fs {
				if p == d || strings.HasPrefix(p, d+"/") {
					delete(fs, p)
				}
			}
		}
		for _, d := range lf.opaqueIn {
			for p := range fs {
				if strings.HasPrefix(p, d+"/") {
					delete(fs, p)
				}
			}
		}
		for p, e := range lf.files {
			fs[p] = e
		}
	}
	return fs, nil
}

func readLayer(l v1.Layer) (*layerFiles, error) {
	var rc io.ReadCloser
	mt, _ := l.MediaType()
	if mt == types.OCILayer || mt == types.DockerLayer {
		// klauspost's gzip inflates about twice as fast as the standard library's.
		c, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		defer c.Close()
		zr, err := gzip.NewReader(c)
		if err != nil {
			return nil, err
		}
		rc = zr
	} else {
		var err error
		if rc, err = l.Uncompressed(); err != nil {
			return nil, err
		}
	}
	defer rc.Close()
	lf := &layerFiles{files: map[string]entry{}}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name := path.Clean("/" + strings.TrimPrefix(h.Name, "./"))
		dir, base := path.Split(name)
		dir = path.Clean(dir)
		if base == ".wh..wh..opq" {
			lf.opaqueIn = append(lf.opaqueIn, dir)
			continue
		}
		if w, ok := strings.CutPrefix(base, ".wh."); ok {
			lf.deleted = append(lf.deleted, path.Join(dir, w))
			continue
		}
		if !interesting(name) {
			continue
		}
		e := entry{typ: h.Typeflag, link: h.Linkname}
		if h.Typeflag == tar.TypeReg {
			if e.body, err = io.ReadAll(io.LimitReader(tr, maxMetadataFile)); err != nil {
				return nil, err
			}
		}
		lf.files[name] = e
	}
	return lf, nil
}

// sortedPaths lists the overlaid files in path order, so that records are read
// deterministically.
func sortedPaths(fs map[string]entry) []string {
	out := make([]string, 0, len(fs))
	for p := range fs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
