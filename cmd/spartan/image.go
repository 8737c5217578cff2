package main

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spartan-images/spartan/internal/imagesource"
	"github.com/spartan-images/spartan/internal/registry"
)

// openSource opens what a command names as an image (layout, archive or registry
// reference) with Spartan's user agent. The caller closes it.
func openSource(ctx context.Context, src string) (*imagesource.Source, error) {
	return imagesource.Open(ctx, src, imagesource.WithClient(registry.New("spartan/"+version)))
}

// openImage opens src and takes its image for --arch (the host's platform of an index by
// default), saying on stderr which platform it took out of an index.
func openImage(ctx context.Context, stderr io.Writer, src, arch string) (*imagesource.Source, v1.Image, error) {
	s, err := openSource(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	img, pick, err := s.Image(arch)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	if pick != nil {
		fmt.Fprintf(stderr, "%s: platform %s\n", src, pick)
	}
	return s, img, nil
}
