// Command throttle is a reverse proxy in front of a mirror that shares one bandwidth limit
// between all its connections and adds a delay to every request, so that a benchmark can show
// how a cold build behaves on a CI runner's link rather than next to the mirror. It prints its
// URL on the first line of its output and serves until killed.
//
//	go run ./bench/throttle -upstream http://MIRROR-HOST -rate 25 -latency 20ms
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"
)

func main() {
	upstream := flag.String("upstream", "", "mirror base URL (scheme and host); request paths are kept")
	rate := flag.Float64("rate", 25, "bandwidth shared by all connections, in MB/s")
	latency := flag.Duration("latency", 20*time.Millisecond, "delay before each request is forwarded")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil || u.Scheme == "" || u.Host == "" || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "throttle: need -upstream URL (scheme and host) and a positive -rate")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("throttle: %v", err)
	}
	link := &link{bytesPerSec: *rate * 1e6}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = u.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Body = &slowBody{ReadCloser: resp.Body, link: link}
			return nil
		},
	}
	fmt.Printf("http://%s\n", l.Addr())
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(*latency)
		proxy.ServeHTTP(w, r)
	}))
	log.Fatalf("throttle: %v", err)
}

// link hands out transmission time: each read reserves the slot its bytes take at the rate,
// after every earlier reservation, as on one shared line.
type link struct {
	mu          sync.Mutex
	next        time.Time
	bytesPerSec float64
}

func (l *link) send(n int) {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.bytesPerSec * float64(time.Second)))
	wait := time.Until(l.next)
	l.mu.Unlock()
	time.Sleep(wait)
}

// slowBody delivers a response body at the link's pace, in slices small enough to keep
// concurrent transfers interleaved.
type slowBody struct {
	io.ReadCloser
	link *link
}

func (b *slowBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p[:min(len(p), 16<<10)])
	if n > 0 {
		b.link.send(n)
	}
	return n, err
}
