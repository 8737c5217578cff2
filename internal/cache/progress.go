package cache

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
)

// bar is the aggregate progress of one FetchAll. A nil *bar is quiet, so the
// download path calls it unconditionally.
type bar struct{ pb *progressbar.ProgressBar }

// newBar sizes the bar by the items' declared sizes; items of unknown size
// still download, they just do not move the total.
func (d *Downloader) newBar(items []Item) *bar {
	if d.Progress == nil {
		return nil
	}
	var total int64
	for _, it := range items {
		total += max(it.Size, 0)
	}
	if total <= 0 {
		return nil
	}
	w := d.Progress
	return &bar{pb: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("fetching %d files", len(items))),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)}
}

func (b *bar) add(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.pb.Add64(n) // errors only report overshoot past the declared total
}

// done fills the bar on success and leaves it where it stopped on failure, so
// the user sees how far the download got.
func (b *bar) done(ok bool) {
	if b == nil {
		return
	}
	if ok {
		b.pb.Finish()
		return
	}
	if !b.pb.IsFinished() {
		b.pb.Exit()
	}
}
