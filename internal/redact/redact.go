package redact

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
)

// Mask is what a secret is replaced with.
const Mask = "[token]"

// minLen is the shortest secret held, and the shortest fragment of one replaced.
const minLen = 8

var set struct {
	mu      sync.RWMutex
	secrets []string
}

// Add holds secret for the rest of the process: from now on String, Bytes and the
// writers replace it. Surrounding blanks are ignored, as the loaders trim them.
func Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < minLen {
		return
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	if !slices.Contains(set.secrets, secret) {
		set.secrets = append(set.secrets, secret)
	}
}

func secrets() []string {
	set.mu.RLock()
	defer set.mu.RUnlock()
	return set.secrets
}

// String returns s without any secret held.
func String(s string) string {
	for _, sec := range secrets() {
		s = One(s, sec)
	}
	return s
}

// Bytes returns b without any secret held (b itself when it holds none).
func Bytes(b []byte) []byte {
	secs := secrets()
	if len(secs) == 0 {
		return b
	}
	out := String(string(b))
	if out == string(b) {
		return b
	}
	return []byte(out)
}

// One returns s without token, whole or in fragments of 8 characters or more.
func One(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, Mask)
	if len(token) < minLen {
		return s
	}
	var b strings.Builder
	run := -1
	flush := func(end int) {
		if run >= 0 {
			if end-run >= minLen && strings.Contains(token, s[run:end]) {
				b.WriteString(Mask)
			} else {
				b.WriteString(s[run:end])
			}
			run = -1
		}
	}
	for i := 0; i < len(s); i++ {
		if tokenByte(s[i]) {
			if run < 0 {
				run = i
			}
			continue
		}
		flush(i)
		b.WriteByte(s[i])
	}
	flush(len(s))
	return b.String()
}

// tokenByte says whether c may be part of a token: Moodle's are hex, others
// alphanumeric with - and _.
func tokenByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
}

// Writer redacts what is written through it. A write that ends inside what may be
// the start of a secret is held back until the next write (or Flush), so that a secret
// cut in two by a buffer is still seen whole. Output that ends with a blank, a newline
// or punctuation (every prompt and line) is passed on at once.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte
}

// NewWriter returns a redacting writer onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write redacts p (with what was held back) and writes it but for a trailing run of
// token characters. It reports len(p) written when it wrote everything it could.
func (z *Writer) Write(p []byte) (int, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(secrets()) == 0 && len(z.pending) == 0 {
		return z.w.Write(p)
	}
	buf := append(z.pending, p...)
	cut := len(buf)
	for cut > 0 && tokenByte(buf[cut-1]) {
		cut--
	}
	if !couldContinue(string(buf[cut:])) {
		cut = len(buf)
	}
	z.pending = slices.Clone(buf[cut:])
	if cut == 0 {
		return len(p), nil
	}
	if _, err := z.w.Write(Bytes(buf[:cut])); err != nil {
		return 0, err
	}
	return len(p), nil
}

// couldContinue reports whether run, the token characters a write ends with, may be
// the start of a secret or a fragment of one that the next write completes.
func couldContinue(run string) bool {
	if run == "" {
		return false
	}
	for _, sec := range secrets() {
		if strings.HasPrefix(sec, run) || len(run) >= minLen && strings.Contains(sec, run) {
			return true
		}
	}
	return false
}

// Flush writes what was held back.
func (z *Writer) Flush() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.pending) == 0 {
		return nil
	}
	_, err := z.w.Write(Bytes(z.pending))
	z.pending = nil
	return err
}

// Reader replaces token in what it reads, holding back the bytes that could start a
// token cut by a read. It is for a stream the network sends (a Moodle answer), before
// anything decodes it.
type Reader struct {
	r       io.Reader
	token   []byte
	buf     []byte // pending bytes are buf[lo:hi]
	lo, hi  int
	eof     bool
	scratch []byte
}

// NewReader returns a reader of r without token.
func NewReader(r io.Reader, token string) *Reader { return &Reader{r: r, token: []byte(token)} }

var masked = []byte(Mask)

func (z *Reader) Read(p []byte) (int, error) {
	for {
		keep := len(z.token) - 1
		if z.eof || keep < 0 {
			keep = 0
		}
		if z.hi-z.lo > keep {
			n := copy(p, z.buf[z.lo:z.hi-keep])
			z.lo += n
			return n, nil
		}
		if z.eof {
			return 0, io.EOF
		}
		if z.buf == nil {
			z.buf = make([]byte, 64<<10)
		}
		// Only the held-back tail is left: move it to the front and read after it.
		z.hi = copy(z.buf, z.buf[z.lo:z.hi])
		z.lo = 0
		n, err := z.r.Read(z.buf[z.hi:])
		z.hi += n
		if len(z.token) > 0 && bytes.Contains(z.buf[:z.hi], z.token) {
			// Rare: the answer echoes the token. "[token]" is shorter than any real
			// token, but a short one may grow the buffer.
			z.scratch = bytes.ReplaceAll(z.buf[:z.hi], z.token, masked)
			if len(z.scratch) > len(z.buf) {
				z.buf = make([]byte, len(z.scratch)+64<<10)
			}
			z.hi = copy(z.buf, z.scratch)
		}
		if err == io.EOF {
			z.eof = true
		} else if err != nil {
			return 0, err
		}
	}
}
