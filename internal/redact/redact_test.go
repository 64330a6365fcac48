package redact

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

const secret = "0123456789abcdef0123456789abcdef"

func TestReader(t *testing.T) {
	in := strings.Repeat("a", 70000) + secret + "b" + secret + secret[:10]
	for _, chunk := range []int{1, 7, 31, 32 << 10, 1 << 20} {
		z := NewReader(&chunked{s: in, n: chunk}, secret)
		got, err := io.ReadAll(z)
		if want := strings.Repeat("a", 70000) + "[token]b[token]" + secret[:10]; err != nil || string(got) != want {
			t.Errorf("chunks of %d: %d bytes, %v; want the tokens replaced", chunk, len(got), err)
		}
	}
}

// chunked reads s n bytes at a time.
type chunked struct {
	s string
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[n:]
	return n, nil
}

// Whatever the writes' boundaries, a secret held never reaches the stream: whole, cut
// in two by a buffer, or a fragment of 8 characters or more.
func TestWriter(t *testing.T) {
	const key = "k3y-Of-The-Plan-Signing_0123456789"
	Add(secret)
	Add(key)
	Add("short") // too short to hold: never masks ordinary words
	in := "unknown course \"" + secret + "\"\nkey " + key + " and half " + secret[:12] + ".\nshort words stay\nend " + secret
	for _, chunk := range []int{1, 3, 8, 16, 33, 4096} {
		var b bytes.Buffer
		w := NewWriter(&b)
		for s := in; s != ""; {
			n := min(chunk, len(s))
			if _, err := w.Write([]byte(s[:n])); err != nil {
				t.Fatal(err)
			}
			s = s[n:]
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		want := "unknown course \"[token]\"\nkey [token] and half [token].\nshort words stay\nend [token]"
		if b.String() != want {
			t.Errorf("chunks of %d:\n%s\nwant\n%s", chunk, b.String(), want)
		}
	}
	// A prompt is passed on at once: nothing waits for a Flush.
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write([]byte("Only 'yes' will be accepted to approve.\n  Enter a value: "))
	if !strings.HasSuffix(b.String(), "Enter a value: ") {
		t.Errorf("the prompt was held back: %q", b.String())
	}
}

func TestString(t *testing.T) {
	Add(secret)
	for in, want := range map[string]string{
		"enrolctl participants " + secret:  "enrolctl participants [token]",
		"https://x/?wstoken=" + secret[2:]: "https://x/?wstoken=[token]",
		"L1-INFO-ALGO 21009539":            "L1-INFO-ALGO 21009539",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}
