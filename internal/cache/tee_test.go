package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFetchStream checks that the consumer sees the whole content as it downloads, that a
// failed attempt ends its input with an error (never a clean end), that its result is dropped
// when the content does not match, and that its own failure neither stops nor poisons the
// download.
func TestFetchStream(t *testing.T) {
	data := payload("Package: x\n", 300_000)
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	errParse := errors.New("parse failed")
	tests := []struct {
		name       string
		handler    func(w http.ResponseWriter, r *http.Request, n int)
		consume    func(r io.Reader) error
		wantErr    string // substring; "" for success
		wantPath   bool   // a path comes back (the download succeeded)
		wantCalls  int
		wantClean  int // calls whose input ended cleanly (io.EOF, not an error)
		wantStored bool
	}{
		{
			name:     "whole",
			handler:  func(w http.ResponseWriter, r *http.Request, n int) { w.Write(data) },
			wantPath: true, wantCalls: 1, wantClean: 1, wantStored: true,
		},
		{
			name: "cut then whole",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					truncate(t, w, data, len(data)/3)
					return
				}
				w.Write(data)
			},
			wantPath: true, wantCalls: 2, wantClean: 1, wantStored: true,
		},
		{
			name:    "tampered",
			handler: func(w http.ResponseWriter, r *http.Request, n int) { w.Write(bad) },
			wantErr: "sha256 mismatch", wantCalls: 1, wantClean: 1, // all of it arrived; the sum says no
		},
		{
			name:    "consumer fails early",
			handler: func(w http.ResponseWriter, r *http.Request, n int) { w.Write(data) },
			consume: func(r io.Reader) error {
				io.CopyN(io.Discard, r, 100)
				return errParse
			},
			wantErr: "parse failed", wantPath: true, wantCalls: 1, wantStored: true,
		},
		{
			name:    "tampered and consumer fails",
			handler: func(w http.ResponseWriter, r *http.Request, n int) { w.Write(bad) },
			consume: func(r io.Reader) error { return errParse },
			wantErr: "sha256 mismatch", wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, tt.handler)
			d := newDownloader(t)
			calls, clean := 0, 0
			consume := func(r io.Reader) error {
				calls++
				if tt.consume != nil {
					return tt.consume(r)
				}
				_, err := io.ReadAll(r)
				if err == nil {
					clean++
				}
				return err
			}
			p, err := d.FetchStream(context.Background(), Item{Name: "Packages", URL: srv.URL + "/Packages", SHA256: sum(data), Size: int64(len(data))}, consume)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if (p != "") != tt.wantPath {
				t.Errorf("path %q, want one: %v", p, tt.wantPath)
			}
			if calls != tt.wantCalls || (tt.consume == nil && clean != tt.wantClean) {
				t.Errorf("consumer called %d times, %d ending cleanly; want %d and %d", calls, clean, tt.wantCalls, tt.wantClean)
			}
			if d.Cache.Has(sum(data)) != tt.wantStored {
				t.Errorf("blob stored: %v, want %v", d.Cache.Has(sum(data)), tt.wantStored)
			}
			assertClean(t, d.Cache)
		})
	}
}

// TestFetchStreamCacheHit: a stored blob is handed to the consumer without a request.
func TestFetchStreamCacheHit(t *testing.T) {
	data := payload("deb", 5000)
	srv, count := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.Write(data) })
	d := newDownloader(t)
	if _, err := d.Cache.Put(sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	_, err := d.FetchStream(context.Background(), Item{URL: srv.URL + "/x", SHA256: sum(data)}, func(r io.Reader) (err error) {
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil || !bytes.Equal(got, data) || count.Load() != 0 {
		t.Errorf("err %v, %d bytes, %d requests; want the blob's %d bytes and no request", err, len(got), count.Load(), len(data))
	}
}
