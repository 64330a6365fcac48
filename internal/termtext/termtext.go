package termtext

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Colours are the SGR sequences enrolctl itself writes (render's plan text).
var Colours = []string{"\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m"}

// Escape returns s with its control characters escaped.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	rest := escape(&b, []byte(s), false, true)
	b.Write(rest)
	return b.String()
}

// clean reports whether s has nothing to escape (the common case, checked fast).
func clean[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

func bidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// escape writes p to b escaped and returns the tail it could not decide on yet (the
// start of a UTF-8 sequence or of a colour code cut by the end of p), empty when final.
func escape(b *strings.Builder, p []byte, colour, final bool) []byte {
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\n' || c == '\t' || c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
			i++
		case c == 0x1b && colour:
			code, partial := colourAt(p[i:])
			switch {
			case code > 0:
				b.Write(p[i : i+code])
				i += code
			case partial && !final:
				return p[i:]
			default:
				b.WriteString(`\x1b`)
				i++
			}
		case c < 0x80:
			switch c {
			case '\r':
				b.WriteString(`\r`)
			default:
				fmt.Fprintf(b, `\x%02x`, c)
			}
			i++
		default:
			if !final && !utf8.FullRune(p[i:]) {
				return p[i:]
			}
			r, size := utf8.DecodeRune(p[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				fmt.Fprintf(b, `\x%02x`, c)
			case r < 0xa0 || bidi(r):
				fmt.Fprintf(b, `\u%04x`, r)
			default:
				b.Write(p[i : i+size])
			}
			i += size
		}
	}
	return nil
}

// colourAt is the length of the colour code p starts with (0 if none), and whether p
// is the start of one, cut short.
func colourAt(p []byte) (int, bool) {
	for _, c := range Colours {
		if strings.HasPrefix(string(p), c) {
			return len(c), false
		}
	}
	for _, c := range Colours {
		if len(p) < len(c) && strings.HasPrefix(c, string(p)) {
			return 0, true
		}
	}
	return 0, false
}

// Writer escapes what is written through it. A write that ends inside a UTF-8
// sequence or a colour code is held back until the next write (or Flush).
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	colour  func() bool
	pending []byte
}

// NewWriter returns an escaping writer onto w. colour, when not nil and true at the
// time of a write, lets the plan's colour codes through.
func NewWriter(w io.Writer, colour func() bool) *Writer { return &Writer{w: w, colour: colour} }

func (z *Writer) Write(p []byte) (int, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.pending) == 0 && clean(p) {
		return z.w.Write(p)
	}
	buf := append(z.pending, p...)
	var b strings.Builder
	z.pending = escape(&b, buf, z.colour != nil && z.colour(), false)
	z.pending = append([]byte(nil), z.pending...)
	if _, err := io.WriteString(z.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what was held back, escaped.
func (z *Writer) Flush() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.pending) == 0 {
		return nil
	}
	var b strings.Builder
	escape(&b, z.pending, false, true)
	z.pending = nil
	_, err := io.WriteString(z.w, b.String())
	return err
}

// Raw is the stream under the writer, for output enrolctl draws itself with control
// characters (a progress bar's \r); what is held back is written first.
func (z *Writer) Raw() io.Writer { return rawWriter{z} }

type rawWriter struct{ z *Writer }

func (r rawWriter) Write(p []byte) (int, error) {
	if err := r.z.Flush(); err != nil {
		return 0, err
	}
	r.z.mu.Lock()
	defer r.z.mu.Unlock()
	return r.z.w.Write(p)
}
