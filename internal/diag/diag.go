package diag

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/agext/levenshtein"
)

// Severity says whether a diagnostic stops a plan.
type Severity int

const (
	Error   Severity = iota // stops plan and apply
	Warning                 // reported, does not stop anything
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText writes "error" or "warning", the JSON form.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "error" or "warning" and refuses anything else.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("severity %q: want error or warning", b)
	}
	return nil
}

// Diagnostic is one problem, usually tied to a place in a file. Line and Col are
// 1-based; 0 means unknown (a problem with the file as a whole, or with no file).
// EndLine and EndCol, when set, end the range (EndCol exclusive).
type Diagnostic struct {
	File            string
	Line, Col       int
	EndLine, EndCol int
	Severity        Severity
	Message         string
	Suggestion      string // a replacement value; shown as (did you mean "x"?)
	Snippet         string // the source line at Line, when known
	// Code names the kind of problem, for the diagnostics whose subject a reader needs
	// (masking, grouping); "" for the others. Subject is what it is about.
	Code    Code
	Subject Subject
}

// Code names a kind of diagnostic. The set is closed: Codes.
type Code string

// The codes of diagnostics about a user; a diagnostic with one names the user in
// Subject.User, so that comments mask it without reading the message.
const (
	UnknownUser    Code = "unknown-user"     // the site has no such user; Suggestion is another user
	DuplicateUser  Code = "duplicate-user"   // a user listed twice in a course
	NotEnrolled    Code = "not-enrolled"     // a group member without an enrolment
	SeveralRoles   Code = "several-roles"    // a manual enrolment given several roles
	EndBeforeStart Code = "end-before-start" // an enrolment ending before it starts
	UnknownCohort  Code = "unknown-cohort"   // the site has no such cohort
)

// Codes is the closed set of codes.
var Codes = []Code{UnknownUser, DuplicateUser, NotEnrolled, SeveralRoles, EndBeforeStart, UnknownCohort}

// Subject is what a diagnostic is about: a course, a user, a method key.
type Subject struct {
	Course string `json:"course,omitempty"`
	User   string `json:"user,omitempty"`
	Method string `json:"method,omitempty"`
}

// Pos is a position in a file, the place a diagnostic points at.
type Pos struct {
	File      string
	Line, Col int
}

// String renders p as file:line:col, or the file alone when the line is unknown.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// At is the position the diagnostic points at.
func (d Diagnostic) At() Pos { return Pos{d.File, d.Line, d.Col} }

// Error renders the diagnostic as "file:line:col: message (did you mean "x"?)";
// warnings carry a "warning: " prefix before the message.
func (d Diagnostic) Error() string {
	var b strings.Builder
	if where := d.At().String(); where != "" {
		b.WriteString(where)
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Text())
	return b.String()
}

// Text is the message and its suggestion, "message (did you mean "x"?)", without place
// or severity: every form (terminal, plans, comments, reports) words a suggestion so.
func (d Diagnostic) Text() string {
	if d.Suggestion == "" {
		return d.Message
	}
	return fmt.Sprintf("%s (did you mean %q?)", d.Message, d.Suggestion)
}

// Pretty renders the diagnostic for a terminal: the Error() line, then, when the
// source line is known, that line and a caret underline of the range:
//
//	specs/a.yaml:7:14: bad date "31/08/2027" (did you mean "2027-08-31"?)
//	    7 |       until: 31/08/2027
//	      |              ^^^^^^^^^^
func (d Diagnostic) Pretty() string {
	s := d.Error()
	if d.Snippet == "" || d.Line == 0 {
		return s
	}
	num := strconv.Itoa(d.Line)
	pad := strings.Repeat(" ", len(num))
	line := strings.ReplaceAll(d.Snippet, "\t", " ")
	col := max(d.Col, 1)
	width := 1
	if d.EndCol > col && (d.EndLine == 0 || d.EndLine == d.Line) {
		width = d.EndCol - col
	}
	line, col, width = snippetWindow(line, col, width)
	// The caret line counts characters of the shown line; columns count bytes.
	col = utf8.RuneCountInString(line[:min(col-1, len(line))]) + 1
	return fmt.Sprintf("%s\n    %s | %s\n    %s | %s%s", s, num, line, pad,
		strings.Repeat(" ", col-1), strings.Repeat("^", width))
}

// maxSnippet is the most of a source line Pretty shows: a 4 MiB one-line spec with a
// hundred errors must not print the line a hundred times.
const maxSnippet = 120

// snippetWindow cuts a long line to maxSnippet bytes around col, marking the cuts
// with "…", and moves the caret's column and width into the window.
func snippetWindow(line string, col, width int) (string, int, int) {
	if len(line) <= maxSnippet {
		return line, col, width
	}
	start := max(0, min(col-1-maxSnippet/3, len(line)-maxSnippet))
	for start > 0 && !utf8.RuneStart(line[start]) {
		start--
	}
	end := min(len(line), start+maxSnippet)
	for end < len(line) && !utf8.RuneStart(line[end]) {
		end--
	}
	prefix, suffix := "", ""
	if start > 0 {
		prefix = "… "
	}
	if end < len(line) {
		suffix = " …"
	}
	col = col - start + len(prefix)
	width = max(1, min(width, end-start-(col-1-len(prefix))))
	return prefix + line[start:end] + suffix, col, width
}

// Errorf builds an error diagnostic at p.
func Errorf(p Pos, format string, args ...any) Diagnostic {
	return Diagnostic{File: p.File, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...)}
}

// Warnf builds a warning diagnostic at p.
func Warnf(p Pos, format string, args ...any) Diagnostic {
	d := Errorf(p, format, args...)
	d.Severity = Warning
	return d
}

// About returns d with its code and subject.
func (d Diagnostic) About(code Code, s Subject) Diagnostic {
	d.Code, d.Subject = code, s
	return d
}

// WithSuggestion returns d suggesting s (no change when s is "").
func (d Diagnostic) WithSuggestion(s string) Diagnostic {
	d.Suggestion = s
	return d
}

// JSONForm is a diagnostic's JSON form (docs/plan-format.md), the one the plan
// document and the apply report write. The schema tags are read by the plan schema's
// generator (internal/planfile).
type JSONForm struct {
	Severity   Severity `json:"severity"`
	File       string   `json:"file,omitempty"`
	Line       int      `json:"line,omitempty" schema:"min=1"`
	Column     int      `json:"column,omitempty" schema:"min=1"`
	EndLine    int      `json:"end_line,omitempty" schema:"min=1"`
	EndColumn  int      `json:"end_column,omitempty" schema:"min=1"`
	Message    string   `json:"message" schema:"min=1"`
	Suggestion string   `json:"suggestion,omitempty"`
	Snippet    string   `json:"snippet,omitempty"`
	Code       Code     `json:"code,omitempty"`
	Subject    Subject  `json:"subject,omitzero"`
}

// JSONForm is d's JSON form.
func (d Diagnostic) JSONForm() JSONForm {
	return JSONForm{d.Severity, d.File, d.Line, d.Col, d.EndLine, d.EndCol, d.Message, d.Suggestion, d.Snippet, d.Code, d.Subject}
}

// Diagnostic is the diagnostic j is the JSON form of.
func (j JSONForm) Diagnostic() Diagnostic {
	return Diagnostic{File: j.File, Line: j.Line, Col: j.Column, EndLine: j.EndLine, EndCol: j.EndColumn,
		Severity: j.Severity, Message: j.Message, Suggestion: j.Suggestion, Snippet: j.Snippet,
		Code: j.Code, Subject: j.Subject}
}

// MarshalJSON writes the diagnostic's JSON form.
func (d Diagnostic) MarshalJSON() ([]byte, error) { return json.Marshal(d.JSONForm()) }

// UnmarshalJSON reads the JSON form back.
func (d *Diagnostic) UnmarshalJSON(b []byte) error {
	var j JSONForm
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = j.Diagnostic()
	return nil
}

// Diagnostics is a list of diagnostics from one or many files.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error (warnings do not count).
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns only the error diagnostics.
func (ds Diagnostics) Errors() Diagnostics { return ds.only(Error) }

// Warnings returns only the warnings.
func (ds Diagnostics) Warnings() Diagnostics { return ds.only(Warning) }

func (ds Diagnostics) only(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, then message, and drops exact
// duplicates, so output is the same from run to run.
func (ds Diagnostics) Sort() Diagnostics {
	slices.SortStableFunc(ds, compare)
	return slices.CompactFunc(ds, func(a, b Diagnostic) bool { return a == b })
}

func compare(a, b Diagnostic) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Col, b.Col),
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.Suggestion, b.Suggestion),
		cmp.Compare(a.EndLine, b.EndLine),
		cmp.Compare(a.EndCol, b.EndCol),
		cmp.Compare(a.Snippet, b.Snippet),
		cmp.Compare(a.Code, b.Code),
		cmp.Compare(a.Subject.Course, b.Subject.Course),
		cmp.Compare(a.Subject.User, b.Subject.User),
		cmp.Compare(a.Subject.Method, b.Subject.Method),
	)
}

// Error renders every diagnostic, one a line, sorted.
func (ds Diagnostics) Error() string {
	sorted := slices.Clone(ds).Sort()
	lines := make([]string, len(sorted))
	for i, d := range sorted {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns the diagnostics as an error when there is at least one error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return ds
}

// WithSource fills each diagnostic's Snippet with the line it points at and, when the
// range has no end, ends it after the token at its column (a scalar, a quoted string
// or a key). read returns a file's content; files it cannot read are left as they are.
// Each file is read once.
func (ds Diagnostics) WithSource(read func(file string) ([]byte, error)) Diagnostics {
	out := slices.Clone(ds)
	lines := map[string][]string{}
	for i := range out {
		d := &out[i]
		if d.File == "" || d.Line == 0 || d.Snippet != "" {
			continue // a snippet already there came from the text as decoded (a converted CSV)
		}
		ls, seen := lines[d.File]
		if !seen {
			if src, err := read(d.File); err == nil {
				ls = strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
			}
			lines[d.File] = ls
		}
		if d.Line > len(ls) {
			continue
		}
		line := strings.TrimRight(ls[d.Line-1], " \t\r")
		if secretLine.MatchString(line) {
			continue // never repeat a credential, even one written where it must not be
		}
		d.Snippet = line
		if d.EndCol == 0 && d.Col > 0 {
			if n := tokenLen(d.Snippet, d.Col-1); n > 0 {
				d.EndLine, d.EndCol = d.Line, d.Col+n
			}
		}
	}
	return out
}

// secretLine matches lines that may hold a credential: a token, secret or password
// field, or a run of 32 hex digits (a Moodle web service token).
var secretLine = regexp.MustCompile(`(?i)(token|secret|passw(or)?d|api[_-]?key)[^:=]*[:=]|[0-9a-f]{32}`)

// tokenLen is the length in bytes of the token starting at byte offset i of line:
// a quoted string, or the run up to a YAML/HCL separator.
func tokenLen(line string, i int) int {
	if i < 0 || i >= len(line) {
		return 0
	}
	if q := line[i]; q == '"' || q == '\'' {
		if j := strings.IndexByte(line[i+1:], q); j >= 0 {
			return j + 2
		}
		return len(line) - i
	}
	n := 0
	for n < len(line)-i {
		c := line[i+n]
		if c == ',' || c == ';' || c == '\t' || c == ']' || c == '}' || c == '#' || c == '=' ||
			(c == ':' && (i+n+1 == len(line) || line[i+n+1] == ' ')) {
			break
		}
		n++
	}
	return len(strings.TrimRight(line[i:i+n], " \t"))
}

// Suggest returns the candidate closest to name, when it is close enough to be a
// likely typo (edit distance under 3, or the same word in another letter case), or "".
// Ties go to the first candidate in sorted order, so the answer is stable.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	sorted := slices.Clone(candidates)
	slices.Sort(sorted)
	for _, c := range sorted {
		if c == name {
			continue
		}
		if strings.EqualFold(c, name) {
			return c
		}
		d := levenshtein.Distance(name, c, nil)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
