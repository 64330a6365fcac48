package adopt

import (
	"cmp"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Path is where the spec of a course goes in the spec folder dir: one sub-folder per
// category level ("Santé / IFSI" → sante/ifsi) and <shortname>.yaml, every name folded
// to lower-case ASCII so that the tree reads the same on every file system.
func Path(dir, category, shortname string) string {
	parts := []string{dir}
	for _, level := range strings.Split(category, "/") {
		if s := slug(level); s != "" {
			parts = append(parts, notDevice(s))
		}
	}
	name := cmp.Or(notDevice(slug(shortname)), "course")
	parts = append(parts, name+".yaml")
	return filepath.Join(parts...)
}

// notDevice keeps a name from being one Windows reserves for a device (con, nul,
// com1, ...), which it refuses whatever the extension: con.yaml cannot be checked out.
func notDevice(s string) string {
	base, _, _ := strings.Cut(s, ".")
	switch base {
	case "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
		"lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9":
		return base + "_" + strings.TrimPrefix(s, base)
	}
	return s
}

// slug folds a name to lower-case ASCII letters, digits, '.', '_' and '-': accents are
// dropped (é → e), anything else becomes one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent of the previous letter
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.'):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	return strings.Trim(b.String(), ".-")
}
