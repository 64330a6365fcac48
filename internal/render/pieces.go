package render

import (
	"bytes"
	"io"
	"runtime"
	"sync"
)

// buffers are the pieces' buffers, reused from piece to piece.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// inPieces writes n pieces of text to w in order, piece(i, b) making the i-th into b
// on one of the cores, at most one piece per core ahead of the one written: a site-wide
// plan's text (70 MB for 100,000 courses) is made on every core in as much time as
// one core takes to write it, and never held whole. It stops at the first error of w.
func inPieces(w io.Writer, n int, piece func(i int, b *bytes.Buffer)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		var b bytes.Buffer
		for i := range n {
			b.Reset()
			piece(i, &b)
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
		}
		return nil
	}
	ahead := workers + 1
	made := make([]chan *bytes.Buffer, n) // each piece once made, in a buffer of its own
	for i := range made {
		made[i] = make(chan *bytes.Buffer, 1)
	}
	window := make(chan struct{}, ahead) // the pieces handed out and not yet written
	jobs, stop := make(chan int), make(chan struct{})
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case window <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case jobs <- i:
			case <-stop:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				b := buffers.Get().(*bytes.Buffer)
				b.Reset()
				piece(i, b)
				made[i] <- b
			}
		})
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		b := <-made[i]
		_, err = w.Write(b.Bytes())
		buffers.Put(b)
		<-window
	}
	close(stop)
	wg.Wait()
	return err
}
