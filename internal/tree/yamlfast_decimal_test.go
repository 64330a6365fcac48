package tree

import (
	"regexp"
	"testing"
)

// isDecimal is exactly the pattern it replaced.
func TestIsDecimalMatchesItsPattern(t *testing.T) {
	decimal := regexp.MustCompile(`^(?:0|[1-9][0-9]{0,17})$`)
	for _, s := range []string{"", "0", "00", "01", "1", "7", "20010159", "123456789012345678", "1234567890123456789",
		"12a", "a12", "-1", "+1", "1.5", "1e3", "0x1f", " 1", "1 ", "2026-06-30", "١٢"} {
		if got, want := isDecimal([]byte(s)), decimal.MatchString(s); got != want {
			t.Errorf("isDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}
