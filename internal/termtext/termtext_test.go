package termtext

import (
	"bytes"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"L1-INFO-ALGO Algorithmique\n\tété", "L1-INFO-ALGO Algorithmique\n\tété"},
		{"red\x1b[31mX\x1b[0m", `red\x1b[31mX\x1b[0m`},
		{"over\rwritten", `over\rwritten`},
		{"title\x1b]0;pwned\x07", `title\x1b]0;pwned\x07`},
		{"bell\x00\x7f", `bell\x00\x7f`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"bidi \u202eevil\u202c \u2066x\u2069 \u200f", `bidi \u202eevil\u202c \u2066x\u2069 \u200f`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"cut \xe2\x80", `cut \xe2\x80`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A stream cut anywhere, even inside a UTF-8 sequence or a colour code, is escaped as
// the whole would be; on a colour terminal the plan's own colours pass and others do not.
func TestWriterCutAnywhere(t *testing.T) {
	in := "+ enrol \x1b[32mok\x1b[0m ÉTÉ \u202e \x1b[8mhidden\r\x1b[31"
	for _, colour := range []bool{false, true} {
		want := Escape(in)
		if colour {
			want = "+ enrol \x1b[32mok\x1b[0m ÉTÉ \\u202e \\x1b[8mhidden\\r\\x1b[31"
		}
		for cut := range len(in) + 1 {
			var out bytes.Buffer
			w := NewWriter(&out, func() bool { return colour })
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			w.Flush()
			if out.String() != want {
				t.Fatalf("colour %v, cut at %d: %q, want %q", colour, cut, out.String(), want)
			}
		}
	}
}

func TestRawIsNotEscaped(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, nil)
	w.Write([]byte("a\xe2"))
	w.Raw().Write([]byte("\r[===]"))
	if got := out.String(); !strings.HasSuffix(got, "\r[===]") || !strings.HasPrefix(got, `a\xe2`) {
		t.Errorf("got %q", got)
	}
}
