package render

import (
	"strings"
)

// Names come from specs and from Moodle: whoever writes a group name, a course
// shortname or a self enrolment's name writes into the review comment. These helpers
// make such a name render as the text it is, and nothing else (issue 18): no HTML tag
// closing the comment's <details>, no image loading a tracker, no @mention pinging a
// project, no code span or fence closed early.

// MarkdownText escapes s for markdown prose, on one line: HTML's <, > and & become
// entities, markdown's punctuation is backslash-escaped, and an @ or a scheme's ://
// gets a zero-width space after it, since GitLab and GitHub find mentions and links in
// the rendered text, after escapes are gone.
func MarkdownText(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case c == '@':
			b.WriteString("@&#8203;")
		case c == ':' && strings.HasPrefix(s[i+1:], "//"):
			b.WriteString(":&#8203;")
		case strings.IndexByte("\\`*_[]|~", c) >= 0: // ( ! and # mean nothing without [ or a line start
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// MarkdownCode puts s in a code span that no backtick in s can close, on one line.
func MarkdownCode(s string) string {
	s = oneLine(s)
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.Contains(s, "`") {
		return ticks + " " + s + " " + ticks
	}
	return ticks + s + ticks
}

// markdownFence is a code fence that no line of content can close: longer than any
// run of backticks in it, three at least.
func markdownFence(content string) string {
	return strings.Repeat("`", max(3, longestRun(content, '`')+1))
}

// oneLine keeps a name on its line: a line break in a name would end a list item, a
// table row or a code span, and start markdown of its own.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\u2028\u2029") {
		return s
	}
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`).Replace(s)
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
