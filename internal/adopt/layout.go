package adopt

import (
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
			parts = append(parts, s)
		}
	}
	name := slug(shortname)
	if name == "" {
		name = "course"
	}
	parts = append(parts, name+".yaml")
	return filepath.Join(parts...)
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
