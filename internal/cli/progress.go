package cli

import (
	"cmp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressDelay is how long a plan reads the site before a progress line appears: a
// quick plan shows none.
const progressDelay = time.Second

// readProgress counts the bytes read from the site while a plan reads it and, on a
// terminal, shows them with their rate once reading takes more than progressDelay.
// callLog feeds it (add); nothing is shown outside a terminal (CI logs).
type readProgress struct {
	bytes atomic.Int64
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	timer *time.Timer
	done  bool
}

// startProgress starts counting for a read described by what ("reading site prod").
// stop ends it and clears the line.
func (a *App) startProgress(what string) (stop func()) {
	if !a.Terminal {
		return func() {}
	}
	p := &readProgress{}
	a.reading.Store(p)
	w := cmp.Or(a.errRaw, a.Err) // stderr when not started by RunContext (tests)
	p.timer = time.AfterFunc(progressDelay, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.done {
			return
		}
		p.bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(true), progressbar.OptionClearOnFinish(), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSpinnerType(14),
			progressbar.OptionEnableColorCodes(false))
		_ = p.bar.Add64(p.bytes.Load())
	})
	return func() {
		a.reading.CompareAndSwap(p, nil)
		p.timer.Stop()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.done = true
		if p.bar != nil {
			_ = p.bar.Finish()
		}
	}
}

// add counts n bytes read from the site.
func (p *readProgress) add(n int64) {
	p.bytes.Add(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.done {
		_ = p.bar.Add64(n)
	}
}
