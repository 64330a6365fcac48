package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestReadProgress: on a terminal, a read that lasts more than progressDelay shows a
// line with what it read; a quicker one, or one outside a terminal, shows nothing.
func TestReadProgress(t *testing.T) {
	for _, tc := range []struct {
		terminal bool
		last     time.Duration
		want     bool
	}{
		{terminal: true, last: progressDelay + 400*time.Millisecond, want: true},
		{terminal: true, last: 50 * time.Millisecond, want: false},
		{terminal: false, last: progressDelay + 400*time.Millisecond, want: false},
	} {
		var errOut bytes.Buffer
		a := &App{Streams: Streams{Err: &errOut, Terminal: tc.terminal}}
		stop := a.startProgress("reading site prod")
		if p := a.reading.Load(); p != nil {
			p.add(3 << 20)
		} else if tc.terminal {
			t.Fatal("no progress counter while reading on a terminal")
		}
		time.Sleep(tc.last)
		stop()
		got := strings.Contains(errOut.String(), "reading site prod")
		if got != tc.want {
			t.Errorf("terminal %v, read of %s: progress shown %v, want %v (%q)", tc.terminal, tc.last, got, tc.want, errOut.String())
		}
		if a.reading.Load() != nil {
			t.Errorf("the counter outlives the read")
		}
	}
}
