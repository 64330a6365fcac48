// Package termtext keeps the control characters of data out of what enrolctl prints.
// Course names, user names and Moodle's messages come from the site and the specs; an
// escape sequence or a carriage return in one could recolour, hide or rewrite lines of
// a plan on the terminal (ESC[8m conceals text, \r goes back over "- remove ...").
//
// Escaped, as Go writes them: C0 controls but newline and tab (ESC as \x1b, CR as \r),
// DEL, C1 controls (U+0080..U+009F as \u0085), bytes that are not UTF-8 (\xff), and the
// bidirectional controls that reorder what is shown (U+202A..U+202E, U+2066..U+2069,
// U+200E, U+200F, U+061C as \u202e).
//
// Entry points: Escape (one string), NewWriter (a stream: stdout and stderr pass one,
// so that no path prints a control character, whatever the input), Writer.Raw (for the
// progress bar, which draws with \r). On a colour terminal the writer lets through the
// six colour codes the plan uses (reset, bold, dim, red, green, yellow) and nothing else.
package termtext
